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

    @property
    def cid(self) -> str:
        return self.connection.connection_id

    def out_of_time(self) -> bool:
        return self.clock.monotonic() >= self.deadline
