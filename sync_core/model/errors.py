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

from typing import Any


class SyncError(Exception):
    """Base of every error the product raises on purpose."""

    def __init__(self, message: str, *, status: int | None = None, details: Any = None) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.details = details


class FatalError(SyncError):
    """Stops the pass for this connection; retrying will not help until a person acts."""


class AuthenticationError(FatalError):
    """The service rejected the credentials."""


class PermissionDeniedError(FatalError):
    """The credentials are valid but lack a right."""


class PlanLimitError(FatalError):
    """The ActiveCampaign plan does not include the feature."""


class ConfigurationError(FatalError):
    """The configuration cannot work as written."""


class RetriableError(SyncError):
    """Try again later."""

    def __init__(self, message: str, *, status: int | None = None, details: Any = None,
                 retry_after: float | None = None) -> None:
        super().__init__(message, status=status, details=details)
        self.retry_after = retry_after


class RateLimitedError(RetriableError):
    """The service asked us to slow down and the client's own retries ran out."""


class TransientError(RetriableError):
    """A server-side or network failure."""


class DeltaLinkExpiredError(RetriableError):
    """The stored change-tracking link no longer works: read the entity again from scratch."""


class SkippableError(SyncError):
    """This record fails; the rest of the batch goes on."""


class ValidationError(SkippableError):
    """The service refused the payload; ``errors`` lists what it said, field by field."""

    def __init__(self, message: str, *, status: int | None = None, details: Any = None,
                 errors: list[dict[str, Any]] | None = None) -> None:
        super().__init__(message, status=status, details=details)
        self.errors = errors or []


class NotFoundError(SkippableError):
    """The record does not exist (any more)."""


class ConflictError(SkippableError):
    """A precondition failed: ETag mismatch, duplicate key or name."""


class ConcurrencyError(SyncError):
    """Another writer of our own store got there first."""
