"""The FastAPI application the function app mounts (DESIGN.md §6).

``create_app()`` with no arguments builds everything from the environment on the first request;
tests pass the runtime, the token validator and the API's clients.
"""

from __future__ import annotations

import logging
import os
from typing import Literal

from fastapi import FastAPI
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from sync_core import __version__
from sync_core.api import (
    routes_config,
    routes_connection,
    routes_erasure,
    routes_health,
    routes_sales,
    routes_status,
    routes_sync,
    routes_users,
)
from sync_core.api.auth import TokenValidator, truthy, validator_from_env
from sync_core.api.context import ApiContext, RuntimeFactory
from sync_core.api.cors import install_cors
from sync_core.api.errors import ApiError, install_error_handlers
from sync_core.clock import SYSTEM_CLOCK
from sync_core.engine import ClientFactory
from sync_core.runtime import get_runtime
from sync_core.settings import SettingMissing, Settings

log = logging.getLogger("sync_core.api")


class Health(BaseModel):
    status: Literal["ok", "not_ready"]
    version: str
    auth: Literal["entra", "local", "unconfigured"] = "unconfigured"
    problems: list[str] = []
    """Why the API is not ready (``not_ready``): each names the setting or what failed."""


async def readiness(ctx: ApiContext) -> list[str]:
    """What keeps the API from serving: storage (configured and reachable) and token validation configured."""
    problems: list[str] = []
    try:
        await ctx.runtime()
    except SettingMissing as e:
        problems.append(f"storage: {e}")
    except Exception as e:  # noqa: BLE001 (unreachable, refused: the detail stays in the log, the caller sees 503)
        log.warning("readiness: storage unavailable: %s", type(e).__name__)
        problems.append(f"storage: unavailable ({type(e).__name__})")
    try:
        if problems and ctx.auth_mode() == "unconfigured":
            validator_from_env()  # the runtime's clock is not there to cache one with
        else:
            await ctx.validator()
    except (ApiError, RuntimeError) as e:
        problems.append(f"auth: {getattr(e, 'message', None) or e}")
    return problems


def _default_runtime() -> RuntimeFactory:
    async def factory():  # type: ignore[no-untyped-def]
        return await get_runtime()

    return factory


def create_app(runtime_factory: RuntimeFactory | None = None, *, auth: TokenValidator | None = None,
               clients: ClientFactory | None = None, preview_wait_seconds: float = 25.0) -> FastAPI:
    """The API. ``runtime_factory`` is awaited once, on the first request that needs the store."""
    if auth is None and truthy(os.environ.get("SYNC_LOCAL_AUTH")):
        # Built now, not on the first request: it warns loudly, and refuses to start in Azure.
        auth = validator_from_env()
    app = FastAPI(
        title="ActiveCampaign ⇄ Dynamics 365 sync",
        version=__version__,
        openapi_url="/api/openapi.json",
        docs_url="/api/docs",
        redoc_url=None,
        swagger_ui_oauth2_redirect_url="/api/docs/oauth2-redirect",
    )
    if clients is None:
        clients = ClientFactory(clock=SYSTEM_CLOCK, host_policy=Settings.from_env().host_policy()).interactive()
    ctx = ApiContext(runtime_factory or _default_runtime(), auth=auth, clients=clients,
                     preview_wait_seconds=preview_wait_seconds)
    app.state.api = ctx
    install_error_handlers(app)
    install_cors(app)

    @app.get("/api/health", response_model=Health, tags=["public"],
             responses={503: {"model": Health, "description": "Not ready: storage or sign-in is not configured"}},
             summary="Ready to serve: storage reachable and token validation configured (503 says what is not)")
    async def health() -> JSONResponse:
        problems = await readiness(ctx)
        body = Health(status="not_ready" if problems else "ok", version=__version__, auth=ctx.auth_mode(),
                      problems=problems)
        return JSONResponse(body.model_dump(mode="json"), status_code=503 if problems else 200)

    for module in (routes_connection, routes_users, routes_config, routes_sync, routes_status, routes_health,
                   routes_sales, routes_erasure):
        app.include_router(module.router)
    return app
