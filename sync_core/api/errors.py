"""Errors as JSON: ``{"error": {"code", "message", "field"}}``, never a stack trace or a secret.

Upstream failures map by remedy: the service is down or throttling → 503 with Retry-After;
the service refused our credentials or answered nonsense → 502. The app's own storage (Table
Storage, Key Vault: the azure-core error family, which only they raise here — Dynamics sign-in
failures are mapped where the credential is used) unreachable or failing → 503
``storage_unavailable``. Bad input is a 4xx with the field it concerns; nothing a caller sends
gives a 500.
"""

from __future__ import annotations

import logging
from typing import Any

from azure.core.exceptions import AzureError
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException

from sync_core.model import errors as model

log = logging.getLogger("sync_core.api")


class ErrorDetail(BaseModel):
    code: str
    message: str
    field: str | None = None


class ErrorBody(BaseModel):
    error: ErrorDetail
    issues: list[ErrorDetail] = []


class ApiError(Exception):
    """Raise anywhere in a route: becomes the JSON error with this status."""

    def __init__(self, status: int, code: str, message: str, *, field: str | None = None,
                 issues: list[ErrorDetail] | None = None, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.field = field
        self.issues = issues or []
        self.headers = headers


def _response(status: int, code: str, message: str, *, field: str | None = None,
              issues: list[ErrorDetail] | None = None, headers: dict[str, str] | None = None) -> JSONResponse:
    body = ErrorBody(error=ErrorDetail(code=code, message=message, field=field), issues=issues or [])
    return JSONResponse(body.model_dump(mode="json"), status_code=status, headers=headers)


def _loc(loc: tuple[Any, ...] | list[Any]) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "header")]
    return ".".join(parts)


def upstream_error(err: model.SyncError, service: str) -> ApiError:
    """What the caller sees of a failure of ActiveCampaign or Dynamics (never the service's raw body)."""
    if isinstance(err, model.RetriableError):
        retry = err.retry_after
        headers = {"Retry-After": str(max(1, int(retry)))} if retry else None
        return ApiError(503, f"{service}_unavailable", f"{service} is unavailable or throttling; try again later",
                        headers=headers)
    if isinstance(err, model.AuthenticationError):
        return ApiError(502, f"{service}_auth_failed", f"{service} refused the connection's credentials")
    if isinstance(err, model.PermissionDeniedError):
        return ApiError(502, f"{service}_forbidden", f"{service} denied the connection's identity this operation")
    if isinstance(err, model.PlanLimitError):
        return ApiError(502, f"{service}_plan_limit", f"the {service} plan does not include this feature")
    return ApiError(502, f"{service}_error", f"{service} answered with an error ({type(err).__name__})")


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def api_error(_: Request, exc: ApiError) -> JSONResponse:
        return _response(exc.status, exc.code, exc.message, field=exc.field, issues=exc.issues, headers=exc.headers)

    @app.exception_handler(RequestValidationError)
    async def invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        issues = [ErrorDetail(code="invalid", message=str(e.get("msg", "invalid")), field=_loc(e.get("loc", ())))
                  for e in exc.errors()]
        first = issues[0] if issues else ErrorDetail(code="invalid", message="invalid request")
        return _response(422, "validation_error", first.message, field=first.field, issues=issues)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        if exc.status_code == 400:  # FastAPI's "error parsing the body": input, like every other 422
            return _response(422, "malformed_body", "the request body is not valid JSON")
        code = {404: "not_found", 405: "method_not_allowed", 401: "unauthenticated", 403: "forbidden"}.get(
            exc.status_code, "http_error")
        return _response(exc.status_code, code, str(exc.detail), headers=getattr(exc, "headers", None))

    @app.exception_handler(model.SyncError)
    async def sync_error(_: Request, exc: model.SyncError) -> JSONResponse:
        service = _service_of(exc)
        err = upstream_error(exc, service)
        log.warning("upstream %s failure: %s", service, type(exc).__name__)
        return _response(err.status, err.code, err.message, headers=err.headers)

    @app.exception_handler(AzureError)
    async def storage_error(_: Request, exc: AzureError) -> JSONResponse:
        log.warning("the app's storage failed: %s", type(exc).__name__)
        return _response(503, "storage_unavailable", "the app's storage (Table Storage or Key Vault) is unavailable "
                         "or refused the app's identity; try again later", headers={"Retry-After": "30"})

    @app.exception_handler(Exception)
    async def unexpected(_: Request, exc: Exception) -> JSONResponse:
        log.error("unhandled %s in the API", type(exc).__name__, exc_info=exc)
        return _response(500, "internal_error", "internal error; see the logs")


def _service_of(exc: model.SyncError) -> str:
    return exc.service or "upstream"


_DESCRIPTIONS = {
    401: "No bearer token, or one that does not validate",
    403: "The caller lacks System Administrator / ActiveCampaign Admin in the connection's Dynamics",
    404: "No such connection for the caller's tenant (or no such item)",
    409: "Conflicts with the current state (changed meanwhile, not connected, reconnect_required, sync off, "
         "sync running)",
    422: "Invalid input; `error.field` names it",
    502: "ActiveCampaign or Dynamics answered with an error (credentials refused, plan limit, unexpected answer)",
    503: "ActiveCampaign, Dynamics, the token issuer or the app's storage (code storage_unavailable) is "
         "unavailable or throttling; see Retry-After",
}


def documented(*codes: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` for error statuses, all with the :class:`ErrorBody` schema."""
    return {c: {"model": ErrorBody, "description": _DESCRIPTIONS[c]} for c in codes}


STANDARD = (401, 403, 404, 422, 502, 503)
WITH_CONFLICT = (401, 403, 404, 409, 422, 502, 503)
