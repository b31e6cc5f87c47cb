"""``create_app``: the Starlette application serving the AC stand-in."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from sandbox.clock import TimeSource

from . import (
    control,
    control_events,
    routes_accounts,
    routes_contacts,
    routes_fields,
    routes_imports,
    routes_marketing,
    routes_objects,
    routes_taxonomy,
    routes_webhooks,
)
from .gate import Gate
from .seed import seed_account
from .state import ACState

REAL_ROUTES: list[Route] = [
    *routes_contacts.ROUTES, *routes_taxonomy.ROUTES, *routes_fields.ROUTES, *routes_accounts.ROUTES,
    *routes_imports.ROUTES, *routes_objects.ROUTES, *routes_marketing.ROUTES, *routes_webhooks.ROUTES,
]


async def _http_error(request: Request, exc: Exception) -> Response:
    status = exc.status_code if isinstance(exc, HTTPException) else 500
    text = {404: "Not Found", 405: "Method Not Allowed"}.get(status, "Error")
    return JSONResponse({"message": text}, status_code=status)


def create_app(
    *,
    clock: TimeSource | None = None,
    api_token: str = "sandbox-ac-key",  # noqa: S107 - the sandbox's own key, not a secret
    enforce_rate_limit: bool = True,
    seed: int = 1,
    seed_contacts: int = 0,
    plan: str = "enterprise",
) -> Starlette:
    ac = ACState(clock=clock, api_token=api_token, enforce_rate_limit=enforce_rate_limit, seed=seed, plan=plan)
    if seed_contacts:
        seed_account(ac, seed_contacts)
    routes: list[BaseRoute] = [*REAL_ROUTES, *control.ROUTES, *control_events.ROUTES]
    app = Starlette(routes=routes, middleware=[Middleware(Gate, ac=ac, routes=REAL_ROUTES)],
                    exception_handlers={HTTPException: _http_error})
    app.state.ac = ac
    return app
