"""Azure Table Storage repositories for the sync state (DESIGN.md §4)."""

from sync_core.store.budget import SharedRequestBudget
from sync_core.store.configs import MIGRATIONS, migrate_document
from sync_core.store.errors import (
    LeaseHeldError,
    LeaseLostError,
    StaleConfigError,
    StaleCursorError,
    ValueTooLargeError,
)
from sync_core.store.fence import Fence
from sync_core.store.record_errors import backoff_seconds
from sync_core.store.secrets import LocalSecretStore
from sync_core.store.store import SyncStore

__all__ = [
    "MIGRATIONS",
    "Fence",
    "LeaseHeldError",
    "LeaseLostError",
    "LocalSecretStore",
    "SharedRequestBudget",
    "StaleConfigError",
    "StaleCursorError",
    "SyncStore",
    "ValueTooLargeError",
    "backoff_seconds",
    "migrate_document",
]
