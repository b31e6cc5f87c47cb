"""The FastAPI application the function app mounts (DESIGN.md §6)."""

from __future__ import annotations

from fastapi import FastAPI
from pydantic import BaseModel

from sync_core import __version__


class Health(BaseModel):
    status: str
    version: str


def create_app() -> FastAPI:
    app = FastAPI(
        title="ActiveCampaign ⇄ Dynamics 365 sync",
        version=__version__,
        openapi_url="/api/openapi.json",
        docs_url=None,
        redoc_url=None,
    )

    @app.get("/api/health", response_model=Health, tags=["public"])
    async def health() -> Health:
        return Health(status="ok", version=__version__)

    return app
