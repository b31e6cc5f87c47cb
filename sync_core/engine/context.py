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
class LinkIndex:
    """Which Dynamics records of the people tables are linked, and their emails.

    Built once per pass when a whole table is read (initial sync, backfill): one scan of the
    links instead of a point read and an email query per record.
    """

    ids: dict[str, set[str]] = field(default_factory=dict)
    by_email: dict[str, list[tuple[str, str, str | None]]] = field(default_factory=dict)
    _emails: dict[tuple[str, str], str] = field(default_factory=dict)

    def add(self, entity: str, dynamics_id: str, email: str | None, ac_id: str | None) -> None:
        self.ids.setdefault(entity, set()).add(dynamics_id)
        key = (entity, dynamics_id)
        old = self._emails.pop(key, None)
        if old is not None:  # the record's email changed: it no longer holds the old one
            rows = self.by_email.get(old, [])
            rows[:] = [r for r in rows if (r[0], r[1]) != key]
        if email:
            self._emails[key] = email.lower()
            rows = self.by_email.setdefault(email.lower(), [])
            rows[:] = [r for r in rows if (r[0], r[1]) != key]
            rows.append((entity, dynamics_id, ac_id))

    def remove(self, entity: str, dynamics_id: str) -> None:
        self.ids.get(entity, set()).discard(dynamics_id)
        old = self._emails.pop((entity, dynamics_id), None)
        if old is not None:
            rows = self.by_email.get(old, [])
            rows[:] = [r for r in rows if (r[0], r[1]) != (entity, dynamics_id)]


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
    page_cut: bool = False
    """A page processor stopped early for the time budget: its cursor must not move past it."""
    notes: list[str] = field(default_factory=list)
    ac_accounts: dict[str, str] | None = None
    """AC account name (lower case) → id, when a full read listed them in this pass."""
    link_index: LinkIndex | None = None
    completed_rows: set[tuple[str, str]] = field(default_factory=set)
    """(entity, Dynamics id) of import rows whose links this pass completed."""
    opportunity_schema: tuple[str, dict[str, str]] | None = None
    """The "D365 Opportunity" schema's id and field types, once ensured in this pass."""
    account_contacts: dict[str, dict[str, Any]] | None = None
    """AC contact id → its account association, when listed whole in this pass."""
    import_links_accounts: bool | None = None
    """The learnt reading of ``customer_acct_name`` (see ``Cursor.import_links_accounts``)."""
    import_link_seen: dict[bool, int] = field(default_factory=dict)
    """This pass's observations of that reading: linked → count."""
    verify_count: int = 0
    assumed: list[Any] = field(default_factory=list)
    """Associations of this pass taken from the learnt reading (read again if a sample disagrees)."""
    samples: dict[str, list[dict[str, str]]] = field(default_factory=dict)
    """Dry runs: a few examples of each planned action, by entity."""
    failed: set[str] = field(default_factory=set)
    """Entities whose read or write failed as a whole in this pass (the others went on)."""
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
