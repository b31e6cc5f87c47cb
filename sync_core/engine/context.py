"""What one pass carries: the connection, its clients and store, the run row, the deadline."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sync_core.clock import Clock
from sync_core.model.config import ConnectionConfig
from sync_core.model.state import EntityName, RunRecord

if TYPE_CHECKING:
    from sync_core.activecampaign import ActiveCampaignClient
    from sync_core.dynamics import DataverseClient
    from sync_core.store import SyncStore

ENTITY_SET: dict[EntityName, str] = {
    "account": "accounts", "contact": "contacts", "lead": "leads", "opportunity": "opportunities",
}
PRIMARY_ID: dict[EntityName, str] = {
    "account": "accountid", "contact": "contactid", "lead": "leadid", "opportunity": "opportunityid",
}

SAMPLES_PER_ACTION = 5

Checkpoint = Callable[[str, dict[str, Any]], Awaitable[None]]


async def _no_checkpoint(name: str, info: dict[str, Any]) -> None:
    return None


@dataclass
class PassContext:
    connection: ConnectionConfig
    store: SyncStore
    ac: ActiveCampaignClient
    dv: DataverseClient
    clock: Clock
    run: RunRecord
    deadline: float
    dry_run: bool = False
    checkpoint: Checkpoint = _no_checkpoint
    """Called at named durability points; tests raise there to simulate a process killed."""
    more_work: bool = False
    notes: list[str] = field(default_factory=list)
    ac_accounts: dict[str, str] | None = None
    """AC account name (lower case) → id, when a full read listed them in this pass."""
    opportunity_schema: tuple[str, dict[str, str]] | None = None
    """The "D365 Opportunity" schema's id and field types, once ensured in this pass."""
    account_contacts: dict[str, dict[str, Any]] | None = None
    """AC contact id → its account association, when listed whole in this pass."""
    samples: dict[str, list[dict[str, str]]] = field(default_factory=dict)
    """Dry runs: a few examples of each planned action, by entity."""
    unavailable: set[str] = field(default_factory=set)
    """Entities the AC plan does not support (reported, not failed record by record)."""

    def sample(self, entity: str, action: str, record_id: str, label: str, reason: str = "") -> None:
        bucket = self.samples.setdefault(entity, [])
        if sum(1 for s in bucket if s["action"] == action) < SAMPLES_PER_ACTION:
            bucket.append({"action": action, "id": record_id, "label": label, "reason": reason})

    @property
    def cid(self) -> str:
        return self.connection.connection_id

    def out_of_time(self) -> bool:
        return self.clock.monotonic() >= self.deadline
