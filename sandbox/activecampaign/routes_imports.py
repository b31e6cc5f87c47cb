"""import/bulk_import (submit, status) and import/info."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.routing import Route

from .imports import import_info, import_status, submit_import
from .render import Renderer
from .state import ACState
from .web import api, body_json


async def post_bulk_import(request: Request, ac: ACState, r: Renderer) -> tuple[int, Any]:
    return submit_import(ac, await body_json(request))


async def get_bulk_import(request: Request, ac: ACState, r: Renderer) -> tuple[int, Any]:
    return 200, import_status(ac)


async def get_import_info(request: Request, ac: ACState, r: Renderer) -> tuple[int, Any]:
    return 200, import_info(ac, request.query_params.get("batchId"))


ROUTES: list[Route] = [
    api("/import/bulk_import", post_bulk_import, ["POST"]),
    api("/import/bulk_import", get_bulk_import, ["GET"]),
    api("/import/info", get_import_info, ["GET"]),
]
