"""The store's own errors: conflicts with other writers, and values the service cannot hold."""

from __future__ import annotations

from datetime import datetime

from sync_core.model.errors import ConcurrencyError, SkippableError


class StaleCursorError(ConcurrencyError):
    """The cursor changed (or appeared, or vanished) since it was read: re-read it."""


class StaleConfigError(ConcurrencyError):
    """The configuration changed since it was read: re-read it and apply the change again."""


class LeaseHeldError(ConcurrencyError):
    """Another holder has the connection's lease (or took it over after ours expired)."""

    def __init__(self, message: str, *, holder: str | None = None, expires_at: datetime | None = None) -> None:
        super().__init__(message)
        self.holder = holder
        self.expires_at = expires_at


class LeaseLostError(ConcurrencyError):
    """This pass no longer holds the connection's lease (expired and taken over): it must stop
    before its next write; nothing of the write that raised this was stored."""


class ValueTooLargeError(SkippableError):
    """A value does not fit in one table entity (1 MiB, 252 properties), even split."""
