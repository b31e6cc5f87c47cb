"""What one pass carries: the connection, its clients, the sink its writes go to, and what it learns.

The state is grouped by what it is for, so a handler sees a few small objects instead of one bag:
the :class:`TimeBox` (the pass's time budget and whether work is left), the :class:`PassCaches`
(what a pass lists once and reuses), the :class:`ImportLearning` (what the bulk imports taught),
and the :class:`Outcome` (entities failed or unavailable, notes for the run row).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sync_core.clock import Clock
from sync_core.engine.link_index import LinkIndex
from sync_core.model.config import ConnectionConfig
from sync_core.model.state import EntityName, RunRecord

if TYPE_CHECKING:
    from sync_core.activecampaign import ActiveCampaignClient
    from sync_core.dynamics import DataverseClient
    from sync_core.engine.sink import Sink
    from sync_core.store import SyncStore

ENTITY_SET: dict[EntityName, str] = {
    "account": "accounts",
    "contact": "contacts",
    "lead": "leads",
    "opportunity": "opportunities",
}
PRIMARY_ID: dict[EntityName, str] = {
    "account": "accountid",
    "contact": "contactid",
    "lead": "leadid",
    "opportunity": "opportunityid",
}

Checkpoint = Callable[[str, dict[str, Any]], Awaitable[None]]


async def no_checkpoint(name: str, info: dict[str, Any]) -> None:
    return None


@dataclass
class TimeBox:
    """A pass stops between pages once its budget is spent; ``more_work`` makes the worker continue it."""

    clock: Clock
    deadline: float
    more_work: bool = False
    page_cut: bool = False
    """A page stopped early for the budget: its cursor must not move past it."""

    def out(self) -> bool:
        return self.clock.monotonic() >= self.deadline


@dataclass
class PassCaches:
    """What a pass lists once and reuses."""

    ac_accounts: dict[str, str] | None = None
    """AC account name (lower case) → id, when a full read listed them."""
    account_contacts: dict[str, dict[str, Any]] | None = None
    """AC contact id → its account association, when listed whole."""
    account_contacts_at: datetime | None = None
    """When that listing began: an import processed after it made associations the listing lacks."""
    opportunity_schema: tuple[str, dict[str, str]] | None = None
    """The "D365 Opportunity" schema's id and field types, once ensured."""
    links: LinkIndex | None = None
    """The people tables' links, when a whole-table read scanned them (kept in step by the sink)."""
    inactive: set[tuple[str, str]] = field(default_factory=set)
    """(entity, Dynamics id) of the records this pass's pull read as inactive (``statecode`` not 0)."""
    suppressed: set[str] | None = None
    """Salted hashes of the emails not to push and ``entity:id`` of the Dynamics records not to push
    (``store.suppressions``), read once a pass."""


@dataclass
class ImportLearning:
    """Whether an import's ``customer_acct_name`` links the contact (``AcCursor.import_links_accounts``)."""

    learnt: bool | None = None
    seen: dict[bool, int] = field(default_factory=dict)
    """This pass's observations: linked → count."""
    verify_count: int = 0
    assumed: list[Any] = field(default_factory=list)
    """Associations taken from the learnt reading (read again if a sample disagrees)."""
    completed_rows: set[tuple[str, str, str]] = field(default_factory=set)
    """(entity, Dynamics id, batch id) of import rows this pass completed: pruned from that batch only
    (a row sent again in a later batch of the same pass, after a kill, waits for its own read)."""
    lag_seconds: float | None = None
    """The shortest time this pass saw between an import's sending and its ``import/info`` saying
    processed (an upper bound of AC's processing time): when the follow-up pass comes back."""


@dataclass
class Outcome:
    notes: list[str] = field(default_factory=list)
    failed: set[str] = field(default_factory=set)
    """Entities whose read or write failed as a whole (the others went on)."""
    unavailable: set[str] = field(default_factory=set)
    """Entities the AC plan does not support (reported once, not failed record by record)."""


@dataclass
class Pass:
    connection: ConnectionConfig
    store: SyncStore
    """Reads. Every write goes through ``sink``."""
    ac: ActiveCampaignClient
    dv: DataverseClient
    clock: Clock
    run: RunRecord
    time: TimeBox
    sink: Sink
    checkpoint: Checkpoint = no_checkpoint
    """Called at named durability points; tests raise there to simulate a process killed."""
    caches: PassCaches = field(default_factory=PassCaches)
    imports: ImportLearning = field(default_factory=ImportLearning)
    outcome: Outcome = field(default_factory=Outcome)

    @property
    def cid(self) -> str:
        return self.connection.connection_id

    def count(self, entity: str, what: str, n: int = 1) -> None:
        self.run.count(entity, what, n)
