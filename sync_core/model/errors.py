"""One exception tree for the product, named by what the caller should do.

::

    SyncError
    ├── FatalError          stop this connection's pass; a person must act
    │   ├── AuthenticationError   credentials rejected (bad AC key, expired/invalid token)
    │   ├── PermissionDeniedError the credentials lack a right
    │   ├── PlanLimitError        the AC plan lacks the feature (custom objects, accounts)
    │   └── ConfigurationError    the connection's configuration cannot work
    ├── RetriableError      try again later; nothing is wrong with the record
    │   ├── RateLimitedError      429 / bulk import's 400 "Rate limit exceeded", with retry_after
    │   ├── TransientError        5xx, dropped connection, timeout
    │   └── DeltaLinkExpiredError change-tracking token expired: re-baseline the entity
    ├── SkippableError      this record (or operation) fails; record it, go on with the rest
    │   ├── ValidationError       the service refused the payload (carries the field errors)
    │   ├── NotFoundError         the record is gone
    │   └── ConflictError         a precondition failed (ETag mismatch, duplicate)
    └── ConcurrencyError    our own store: someone else wrote first (stale ETag, lease held)

Each client raises subclasses of these (``activecampaign.ActiveCampaignError`` mixes in,
``dynamics.DataverseError`` likewise) so the engine decides by remedy, not by service.
"""

from __future__ import annotations

from typing import Any, ClassVar

from sync_core.model.codes import ErrorCode, Service


class SyncError(Exception):
    """Base of every error the product raises on purpose.

    ``error_code`` (one enum, see ``model.codes``) is what record errors and the API report;
    ``service`` is set by the client that raised it (``None``: the product's own).
    """

    error_code: ClassVar[ErrorCode] = ErrorCode.ERROR
    service: Service | None = None

    def __init__(self, message: str, *, status: int | None = None, details: Any = None) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.details = details


class FatalError(SyncError):
    """Stops the pass for this connection; retrying will not help until a person acts."""


class AuthenticationError(FatalError):
    """The service rejected the credentials."""

    error_code = ErrorCode.AUTH_FAILED


class PermissionDeniedError(FatalError):
    """The credentials are valid but lack a right."""

    error_code = ErrorCode.PERMISSION_DENIED


class PlanLimitError(FatalError):
    """The ActiveCampaign plan does not include the feature."""

    error_code = ErrorCode.PLAN_LIMIT


class ConfigurationError(FatalError):
    """The configuration cannot work as written."""

    error_code = ErrorCode.CONFIGURATION


class RetriableError(SyncError):
    """Try again later."""

    def __init__(self, message: str, *, status: int | None = None, details: Any = None,
                 retry_after: float | None = None) -> None:
        super().__init__(message, status=status, details=details)
        self.retry_after = retry_after


class RateLimitedError(RetriableError):
    """The service asked us to slow down and the client's own retries ran out."""

    error_code = ErrorCode.RATE_LIMITED


class TransientError(RetriableError):
    """A server-side or network failure."""

    error_code = ErrorCode.UNAVAILABLE


class DeltaLinkExpiredError(RetriableError):
    """The stored change-tracking link no longer works: read the entity again from scratch."""


class SkippableError(SyncError):
    """This record fails; the rest of the batch goes on."""


class ValidationError(SkippableError):
    """The service refused the payload; ``errors`` lists what it said, field by field."""

    error_code = ErrorCode.REFUSED

    def __init__(self, message: str, *, status: int | None = None, details: Any = None,
                 errors: list[dict[str, Any]] | None = None) -> None:
        super().__init__(message, status=status, details=details)
        self.errors = errors or []


class NotFoundError(SkippableError):
    """The record does not exist (any more)."""

    error_code = ErrorCode.NOT_FOUND


class ConflictError(SkippableError):
    """A precondition failed: ETag mismatch, duplicate key or name."""

    error_code = ErrorCode.CONFLICT


class ConcurrencyError(SyncError):
    """Another writer of our own store got there first."""
