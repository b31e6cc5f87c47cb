"""Typed Dataverse errors, each mixing into the product's error tree (named by remedy).

Built from the OData error body ``{"error": {"code": "0x...", "message": "..."}}`` (reference
§10). Messages come from the service's body, never from our request: no URLs, no tokens.
"""

from __future__ import annotations

from typing import Any

import httpx

from sync_core.model import errors as model
from sync_core.model.codes import ErrorCode, Service

# Codes documented in the reference (§10, §5).
OBJECT_DOES_NOT_EXIST = "0x80040217"
DUPLICATE_KEY = "0x80040237"
DUPLICATE_DETECTED = "0x80040333"
SERVICE_PROTECTION_CODES = frozenset({"0x80072322", "0x80072321", "0x80072326"})


class DataverseError(model.SyncError):
    """Base of every error this client raises; ``dataverse_code`` is Dataverse's hex code ("" if none),
    ``error_code`` the product's stable code."""

    service = Service.DYNAMICS

    def __init__(self, message: str, *, status: int | None = None, dataverse_code: str = "", details: Any = None,
                 **kwargs: Any) -> None:
        super().__init__(message, status=status, details=details, **kwargs)
        self.dataverse_code = dataverse_code

    def __str__(self) -> str:
        parts = [p for p in (str(self.status) if self.status else "", self.dataverse_code) if p]
        return f"[{' '.join(parts)}] {self.message}" if parts else self.message


class AuthenticationError(DataverseError, model.AuthenticationError):
    """401: the token was refused (expired, wrong audience, app user missing)."""


class PermissionDeniedError(DataverseError, model.PermissionDeniedError):
    """403: the application user's roles lack a privilege."""


class ChangeTrackingDisabledError(DataverseError, model.ConfigurationError):
    """The table does not have change tracking enabled; a person must enable it (it cannot be undone)."""


class UnsupportedRequestError(DataverseError, model.ConfigurationError):
    """405/501: the resource or method does not exist here (wrong entity set, missing feature)."""


class UnsafeLinkError(DataverseError, model.ConfigurationError):
    """A saved paging or delta link points outside this environment: refused, the token would leak."""


class PagingLoopError(DataverseError, model.FatalError):
    """The service handed back a ``@odata.nextLink`` it had already given: following it would never end."""


class RateLimitedError(DataverseError, model.RateLimitedError):
    """429 after every allowed retry; ``retry_after`` is the last wait the service asked for."""


class TransientError(DataverseError, model.TransientError):
    """5xx, timeout or a dropped connection after every allowed retry."""


class NotExecutedError(DataverseError, model.TransientError):
    """A ``$batch`` operation the service never ran (the batch stopped at an earlier error)."""


class DeltaLinkExpiredError(DataverseError, model.DeltaLinkExpiredError):
    """The saved change-tracking link no longer works: read the table again from scratch."""


class ValidationError(DataverseError, model.ValidationError):
    """400 and other refusals of the payload or the query."""


class NotFoundError(DataverseError, model.NotFoundError):
    """404 / ``0x80040217``: the record does not exist."""


class ConflictError(DataverseError, model.ConflictError):
    """412 (ETag mismatch, record exists on create-only upsert) or a duplicate key/record."""


class DuplicateRecordError(ConflictError):
    """``0x80040237`` duplicate key, or ``0x80040333`` a duplicate-detection rule matched."""

    error_code = ErrorCode.DUPLICATE


def parse_error_body(body: Any) -> tuple[str, str, dict[str, Any]]:
    """``(code, message, error_object)`` from an OData error body; tolerant of odd shapes."""
    if isinstance(body, dict):
        err = body.get("error")
        if isinstance(err, dict):
            code = str(err.get("code") or "")
            message = str(err.get("message") or "")
            return code, message, err
    return "", "", {}


def _body_json(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None


def error_for(status: int, body: Any, *, reason: str = "", retry_after: float | None = None,
              change_read: bool = False) -> DataverseError:
    """The typed error for a failed response (status + decoded JSON body, or ``None``)."""
    code, message, err = parse_error_body(body)
    message = message or reason or f"HTTP {status}"
    kw: dict[str, Any] = {"status": status, "dataverse_code": code, "details": err or None}
    low = message.lower()
    if code.lower() in (DUPLICATE_KEY, DUPLICATE_DETECTED):
        return DuplicateRecordError(message, **kw)
    if change_read and status >= 400 and status not in (401, 403, 429):
        if "change tracking" in low and any(w in low for w in ("not enabled", "isn't enabled", "disabled")):
            return ChangeTrackingDisabledError(message, **kw)
        if status == 410 or "expired" in low or "full sync" in low:
            return DeltaLinkExpiredError(message, **kw)
    if code.lower() == OBJECT_DOES_NOT_EXIST or status == 404:
        return NotFoundError(message, **kw)
    if status == 401:
        return AuthenticationError(message, **kw)
    if status == 403:
        return PermissionDeniedError(message, **kw)
    if status in (409, 412):
        return ConflictError(message, **kw)
    if status == 429 or code.lower() in SERVICE_PROTECTION_CODES:
        return RateLimitedError(message, retry_after=retry_after, **kw)
    if status in (405, 501):
        return UnsupportedRequestError(message, **kw)
    if status >= 500:
        return TransientError(message, retry_after=retry_after, **kw)
    return ValidationError(message, **kw)


def error_from_response(response: httpx.Response, *, retry_after: float | None = None,
                        change_read: bool = False) -> DataverseError:
    return error_for(response.status_code, _body_json(response), reason=response.reason_phrase,
                     retry_after=retry_after, change_read=change_read)
