"""Pydantic configuration models, state records and the interfaces the outer layers implement."""

from sync_core.model.budget import RequestBudget, SlidingWindowBudget
from sync_core.model.config import (
    ConnectionConfig,
    EntityMapping,
    FieldMapping,
    mapped_fields,
)
from sync_core.model.secrets import SecretStore, mask
from sync_core.model.state import (
    AuditEntry,
    Cursor,
    EntityName,
    Lease,
    RecordError,
    RecordLink,
    RunRecord,
    Side,
)

__all__ = [
    "AuditEntry",
    "ConnectionConfig",
    "Cursor",
    "EntityMapping",
    "EntityName",
    "FieldMapping",
    "Lease",
    "RecordError",
    "RecordLink",
    "RequestBudget",
    "RunRecord",
    "SecretStore",
    "Side",
    "SlidingWindowBudget",
    "mapped_fields",
    "mask",
]
