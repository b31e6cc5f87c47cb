"""What the store keeps between passes: links, cursors, runs, errors, audit, the lease.

Plain dataclasses (a pass may hold 100,000 links, so no validation cost per object). The
store maps them to Table Storage entities; the engine reasons about them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, ClassVar, Literal

EntityName = Literal["account", "contact", "lead", "opportunity"]
"""Dynamics logical names of the synced tables."""

Side = Literal["dynamics", "activecampaign"]

AC_TYPE_OF: dict[str, str] = {
    "account": "account",
    "contact": "contact",
    "lead": "contact",
    "opportunity": "customObjectRecord",
}
"""The ActiveCampaign resource a Dynamics table links to (leads and contacts share AC contacts)."""


@dataclass(slots=True)
class RecordLink:
    """A Dynamics record paired with an ActiveCampaign record.

    ``ac_id`` is ``None`` while the link is *pending*: the record went to AC in a bulk import
    whose ids are not known yet; the next AC read completes it by email. The per-side
    ``*_values`` are the last synced value of every mapped field, keyed by that side's field
    name: they decide what changed, suppress echoes and feed the conflict rule.
    """

    entity: EntityName
    dynamics_id: str
    ac_id: str | None
    email: str | None = None
    dynamics_values: dict[str, Any] = field(default_factory=dict)
    ac_values: dict[str, Any] = field(default_factory=dict)
    dynamics_modified: datetime | None = None
    ac_modified: datetime | None = None
    pending_batch: str | None = None
    synced_at: datetime | None = None
    dynamics_etag: str | None = None
    """The Dynamics record's ``@odata.etag`` as last read or written: every write to Dynamics is
    conditional on it (``If-Match``), so an edit made since is never overwritten unseen."""
    history: list[dict[str, Any]] = field(default_factory=list)
    """The record's last changes, newest last (see ``engine.history``); bounded."""
    opted_out: bool = False
    """The person opted out on either side (``engine.consent``): the sync never subscribes them again."""
    dynamics_opt_out: bool | None = None
    """The Dynamics opt-out columns as last read (``None``: never read), so an opt-in there is seen."""
    etag: str | None = None
    index_keys: tuple[str, ...] | None = field(default=None, compare=False, repr=False)
    """Store bookkeeping: the index rows this link has in the store (``None``: not known, e.g. a new
    link). Lets a save delete stale reverse/email index rows without reading first."""

    @property
    def pending(self) -> bool:
        return self.ac_id is None

    @property
    def ac_type(self) -> str:
        return AC_TYPE_OF[self.entity]


CursorPhase = Literal["initial", "backfill", "delta"]
ReadMode = Literal["change_tracking", "modifiedon"]


@dataclass(slots=True)
class ReadCursor:
    """Where the reading of one entity on one side stands, and how far a whole read got.

    ``phase``: an ``initial`` read or a ``backfill`` reads everything (``done`` of ``total``,
    between ``started_at`` and ``finished_at``), then ``delta`` reads only the changes.
    ``run_started_at`` is the signpost: a watermark never moves past the start of the run that
    produced it. ``etag``: the stored version this was read from (``None``: not stored yet).
    """

    entity: EntityName
    phase: CursorPhase = "initial"
    done: int = 0
    total: int | None = None
    started_at: datetime | None = None
    finished_at: datetime | None = None
    run_started_at: datetime | None = None
    etag: str | None = None


@dataclass(slots=True)
class DynamicsCursor(ReadCursor):
    """A Dynamics table's read: ``delta_link`` (the whole ``@odata.deltaLink`` of the last finished
    read), ``next_link`` (the ``@odata.nextLink`` of an unfinished one, saved after each page), or
    for tables without change tracking (``mode="modifiedon"``) a ``modifiedon`` ``watermark``.
    ``select_signature`` names the ``$select`` and criteria the delta link was made for."""

    side: ClassVar[Side] = "dynamics"
    mode: ReadMode = "change_tracking"
    delta_link: str | None = None
    next_link: str | None = None
    watermark: datetime | None = None
    select_signature: str | None = None


@dataclass(slots=True)
class AcCursor(ReadCursor):
    stream: str = ""
    """Which read of the entity this is (``""``: the one that completes pending links; ``"changes"``:
    the changes pulled into Dynamics)."""
    """An ActiveCampaign read: ``watermark`` is the ``udate`` the next ``updated_after`` read starts
    from (minus the overlap), ``boundary_keys`` the ``id@udate`` pairs already handled at that instant
    (the overlap is de-duplicated), ``position`` the highest contact id read (ids only grow)."""

    side: ClassVar[Side] = "activecampaign"
    watermark: datetime | None = None
    boundary_keys: list[str] = field(default_factory=list)
    position: str | None = None
    tz_offset_minutes: int | None = None
    """The account's UTC offset, learnt from the offsets its timestamps carry."""
    import_links_accounts: bool | None = None
    """Contacts: whether a bulk-import row's ``customer_acct_name`` linked the new contact to that
    account, as observed (None: not yet seen, or seen both ways; every such link is verified)."""


Cursor = DynamicsCursor | AcCursor


@dataclass(slots=True)
class ConflictRecord:
    """Both sides changed one field of a linked pair since the last sync: what the rule decided."""

    at: datetime
    run_id: str
    entity: EntityName
    dynamics_id: str
    ac_id: str | None
    field: str
    """The Dynamics column (the AC field is its mapping's)."""
    dynamics_value: Any
    ac_value: Any
    dynamics_time: datetime | None
    ac_time: datetime | None
    rule: str
    winner: Side
    key: str | None = None
    """Store bookkeeping: the row key (a continuation point when listing)."""


RunStatus = Literal["running", "finished", "continued", "failed", "dry_run", "skipped"]


@dataclass(slots=True)
class RunRecord:
    """One pass of one connection: counts per entity, API calls per side."""

    run_id: str
    started_at: datetime
    reason: str
    status: RunStatus = "running"
    finished_at: datetime | None = None
    counts: dict[str, dict[str, int]] = field(default_factory=dict)
    api_calls: dict[str, dict[str, int]] = field(default_factory=dict)
    message: str | None = None

    def count(self, entity: str, what: str, n: int = 1) -> None:
        per = self.counts.setdefault(entity, {})
        per[what] = per.get(what, 0) + n


@dataclass(slots=True)
class RecordError:
    """A record that failed to sync: retried with backoff, cleared once it syncs."""

    entity: EntityName
    side: Side
    record_id: str
    cause: str
    code: str = "error"
    attempts: int = 1
    retriable: bool = True
    first_seen: datetime | None = None
    last_seen: datetime | None = None
    next_retry: datetime | None = None
    detail: dict[str, Any] = field(default_factory=dict)


@dataclass(slots=True)
class AuditEntry:
    """Who did what: configuration changes, sales actions, conflict decisions."""

    at: datetime
    actor: str
    action: str
    target: str = ""
    before: Any = None
    after: Any = None
    detail: dict[str, Any] = field(default_factory=dict)


@dataclass(slots=True)
class Lease:
    """The one writer of a connection, until ``expires_at``."""

    connection_id: str
    holder: str
    expires_at: datetime
    etag: str | None = None
    fence: int = 0
    """The fencing token: raised by every take-over, so a pass that lost the lease can be told."""


@dataclass(slots=True)
class ImportRow:
    """One row of a bulk import: which Dynamics record it carried."""

    entity: EntityName
    dynamics_id: str
    email: str
    columns: list[str] = field(default_factory=list)
    """The Dynamics columns the row carried: resent if the row fails inside AC."""
    ac_account_id: str | None = None
    job_title: str | None = None
    needs_id: bool = True
    """The link had no AC id when the row was sent: the AC read completes it."""
    associate: bool = False
    """Once the contact's AC id is known, make its account association match
    ``ac_account_id`` / ``job_title`` (AC keeps it on ``accountContacts``)."""
    account_named: bool = True
    """The row named the account (``customer_acct_name``); whether AC then links it is a register
    reading, learnt per connection (``Cursor.import_links_accounts``)."""


@dataclass(slots=True)
class ImportBatch:
    """A bulk import sent to ActiveCampaign whose outcome (``import/info``) is not yet known."""

    batch_id: str
    submitted_at: datetime
    rows: list[ImportRow] = field(default_factory=list)
    status: Literal["submitted", "completed", "failed"] = "submitted"
    checked_at: datetime | None = None
    etag: str | None = None
