"""ActiveCampaign errors, named by remedy (they subclass the model's tree), and the body parser.

AC answers errors in several shapes (reference §13): JSON:API-like ``errors`` lists (with
``source.pointer`` or ``source{type,value}``), ``errors`` as a string or a list of strings, a bare
``message``, bulk import's ``failureReasons``, v1's ``result_message``; sometimes served as
``text/plain``. :func:`parse_error_body` reads all of them without trusting the content type.

**403 rule.** AC uses 403 both for a bad key and for a missing permission, and some endpoints
even answer "not found" with 403. :func:`classify_403` decides, in this order:

1. the plan-limit rule (configurable, see :func:`default_plan_limit_rule`) matches → :class:`PlanLimitError`;
2. the message says "not found" / "No Result found" → :class:`NotFoundError`;
3. the message names authentication ("could not be authenticated", "api key/token") → :class:`AuthenticationError`;
4. the message says the user lacks permission ("do not have permission", "not authorized",
   "not allowed") → :class:`PermissionDeniedError`;
5. the message says a record operation was refused ("Could not create ...") → :class:`ValidationError`;
6. anything else (empty body, bare "Forbidden") → :class:`AuthenticationError`: the documented
   primary meaning, and a bad key fails every call the same way. ``users/me`` (the connection
   check) is always :class:`AuthenticationError` unless the body names a missing permission.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sync_core.model import errors as model
from sync_core.model.codes import ErrorCode, Service

# --- the tree -------------------------------------------------------------------------------


class ActiveCampaignError(model.SyncError):
    """Base of every error this client raises; ``error_code`` is the product's stable code."""

    service = Service.ACTIVECAMPAIGN


class AuthenticationError(ActiveCampaignError, model.AuthenticationError):
    """The API key (or API URL) was rejected."""


class PermissionDeniedError(ActiveCampaignError, model.PermissionDeniedError):
    """The key's user lacks a permission the call needs."""


class PaymentRequiredError(ActiveCampaignError, model.FatalError):
    """402: the AC account has a payment issue (suspended)."""

    error_code = ErrorCode.PAYMENT_REQUIRED


class PlanLimitError(ActiveCampaignError, model.PlanLimitError):
    """The AC plan does not include the feature (custom objects need Enterprise)."""


class NotFoundError(ActiveCampaignError, model.NotFoundError):
    """The record does not exist (any more)."""


class ValidationError(ActiveCampaignError, model.ValidationError):
    """AC refused the payload (422, most 400s); ``errors`` holds AC's error objects, normalised."""

    @property
    def codes(self) -> list[str]:
        return [str(e.get("code")) for e in self.errors if e.get("code")]


class DuplicateError(ValidationError, model.ConflictError):
    """422 with ``code: duplicate`` (email on create, account name, field title, ...)."""

    error_code = ErrorCode.DUPLICATE


class RateLimitedError(ActiveCampaignError, model.RateLimitedError):
    """429/503 (or bulk import's 400 "Rate limit exceeded") and the client's retries ran out."""


class TransientError(ActiveCampaignError, model.TransientError):
    """5xx, dropped connection or timeout, after the client's retries ran out."""


class PaginationLoopError(TransientError):
    """A list endpoint served the same page (or a non-advancing id) twice: stop instead of looping."""


@dataclass(frozen=True)
class RowError:
    """One row bulk import named in ``failureReasons``: ``index`` is 0-based into the rows sent."""

    index: int
    email: str | None
    reason: str


class BulkImportRejected(ActiveCampaignError, model.SkippableError):
    """Bulk import refused the whole call because of the rows in ``row_errors``."""

    error_code = ErrorCode.REFUSED

    def __init__(self, message: str, *, row_errors: list[RowError], status: int | None = 400,
                 details: Any = None) -> None:
        super().__init__(message, status=status, details=details)
        self.row_errors = row_errors


class CampaignSendError(ActiveCampaignError, model.SkippableError):
    """A v1 call (``campaign_send``, a campaign report) answered ``result_code`` 0; ``result_message`` says why."""

    error_code = ErrorCode.REFUSED

    def __init__(self, message: str, *, result_message: str, details: Any = None) -> None:
        super().__init__(message, status=200, details=details)
        self.result_message = result_message


# --- parsing --------------------------------------------------------------------------------


@dataclass
class ErrorBody:
    """What an error response said, whatever its shape."""

    message: str = ""
    errors: list[dict[str, Any]] = field(default_factory=list)
    failure_reasons: list[Any] = field(default_factory=list)
    raw: Any = None


def _error_item(item: Any) -> dict[str, Any]:
    if isinstance(item, dict):
        out: dict[str, Any] = dict(item)
        src = item.get("source")
        if isinstance(src, dict):  # {"pointer": ...} or {"type": "pointer", "value": ...}
            pointer = src.get("pointer") or (src.get("value") if src.get("type") == "pointer" else None)
            if pointer:
                out["pointer"] = pointer
        return out
    return {"title": str(item)}


def parse_error_body(text: str) -> ErrorBody:
    """Read any AC error body; never raises."""
    body = ErrorBody()
    if not text or not text.strip():
        return body
    try:
        data = json.loads(text)
    except ValueError:
        body.message = text.strip()[:500]
        return body
    body.raw = data
    if not isinstance(data, dict):
        if isinstance(data, list):
            body.errors = [_error_item(i) for i in data]
        else:
            body.message = str(data)[:500]
    else:
        errs = data.get("errors")
        if isinstance(errs, list):
            body.errors = [_error_item(i) for i in errs]
        elif isinstance(errs, str):
            body.errors = [{"title": errs}]
        elif isinstance(errs, dict):
            body.errors = [_error_item(errs)]
        fr = data.get("failureReasons")
        if isinstance(fr, list):
            body.failure_reasons = fr
        for key in ("message", "result_message", "error", "detail", "title"):
            val = data.get(key)
            if isinstance(val, str) and val:
                body.message = val
                break
    if not body.message and body.errors:
        parts = []
        for e in body.errors:
            title = str(e.get("title") or "")
            detail = str(e.get("detail") or "")
            parts.append(f"{title}: {detail}" if title and detail else title or detail)
        body.message = "; ".join(p for p in parts if p)
    return body


def body_text(body: ErrorBody) -> str:
    """All human text of a body, for the pattern rules."""
    texts = [body.message]
    for e in body.errors:
        texts.extend(str(e.get(k) or "") for k in ("title", "detail", "code"))
    texts.extend(str(r) for r in body.failure_reasons)
    return " ".join(t for t in texts if t)


# --- classification -------------------------------------------------------------------------

PlanLimitRule = Callable[[int, str, ErrorBody], bool]
"""``(status, path, body) -> is this "the plan lacks the feature"``."""

_PLAN_TEXT = re.compile(
    r"\b(plan|upgrade|enterprise|not (?:available|enabled|included) (?:on|for|in) (?:your|this) "
    r"(?:plan|account)|feature (?:is )?not (?:available|enabled))\b",
    re.IGNORECASE,
)


FEATURE_COLLECTIONS = frozenset({
    "/api/3/customObjects/schemas", "/api/3/accounts", "/api/3/accountContacts",
    "/api/3/accountCustomFieldMeta", "/api/3/accountCustomFieldData",
})
"""Collection routes of plan-gated features: they exist on every account that has the feature,
so a 404 on one of them can only mean the plan lacks it."""


def default_plan_limit_rule(status: int, path: str, body: ErrorBody) -> bool:
    """The plan lacks the feature when (never from a bare 403):

    - a 402/403 body names the plan or an upgrade ("Your plan does not include access to this
      feature", "Upgrade your plan ..."), or
    - a 404 answers a feature's *collection* route (:data:`FEATURE_COLLECTIONS`), e.g.
      ``GET/POST customObjects/schemas``: a 404 on an item route stays :class:`NotFoundError`.
    """
    if status == 404:
        return path.rstrip("/") in FEATURE_COLLECTIONS
    if status not in (402, 403):
        return False
    text = body_text(body)
    return bool(text) and bool(_PLAN_TEXT.search(text))


_NOT_FOUND = re.compile(r"not found|no result found|does not exist", re.IGNORECASE)
_AUTH = re.compile(r"could not be authenticated|api[ _-]?(?:key|token)|unauthenticated|authentication",
                   re.IGNORECASE)
_PERMISSION = re.compile(r"do(?:es)? not have permission|not authori[sz]ed|not allowed|permission",
                         re.IGNORECASE)
_REFUSED = re.compile(r"could not (?:create|update|delete)", re.IGNORECASE)


def classify_403(path: str, body: ErrorBody, message: str, plan_rule: PlanLimitRule) -> ActiveCampaignError:
    """Turn a 403 into the error its body and context point to (the rule is in the module doc)."""
    text = body_text(body)
    if plan_rule(403, path, body):
        return PlanLimitError(message, status=403, details=body.raw)
    is_me = path.rstrip("/").endswith("users/me")
    if not is_me and _NOT_FOUND.search(text):
        return NotFoundError(message, status=403, details=body.raw)
    if _AUTH.search(text):
        return AuthenticationError(message, status=403, details=body.raw)
    if _PERMISSION.search(text):
        return PermissionDeniedError(message, status=403, details=body.raw)
    if not is_me and _REFUSED.search(text):
        return ValidationError(message, status=403, details=body.raw, errors=body.errors)
    return AuthenticationError(message, status=403, details=body.raw)


def is_duplicate(body: ErrorBody) -> bool:
    if any(str(e.get("code") or "").lower() == "duplicate" for e in body.errors):
        return True
    return bool(re.search(r"already exists|must be unique", body_text(body), re.IGNORECASE))


def error_for_status(status: int, method: str, path: str, body: ErrorBody,
                     plan_rule: PlanLimitRule) -> ActiveCampaignError:
    """The error a final (not retried) non-2xx answer stands for. Messages carry no query string or key."""
    said = body.message or "no message"
    message = f"ActiveCampaign {method} {path} answered {status}: {said}"
    if 400 <= status < 500 and status != 429 and plan_rule(status, path, body):
        return PlanLimitError(message, status=status, details=body.raw)
    if status == 401:
        return AuthenticationError(message, status=status, details=body.raw)
    if status == 403:
        return classify_403(path, body, message, plan_rule)
    if status == 402:
        return PaymentRequiredError(message, status=status, details=body.raw)
    if status == 404:
        return NotFoundError(message, status=status, details=body.raw)
    if status == 429:
        return RateLimitedError(message, status=status, details=body.raw)
    if status >= 500:
        if status == 503:
            return RateLimitedError(message, status=status, details=body.raw)
        return TransientError(message, status=status, details=body.raw)
    if is_duplicate(body):
        return DuplicateError(message, status=status, details=body.raw, errors=body.errors)
    return ValidationError(message, status=status, details=body.raw, errors=body.errors)
