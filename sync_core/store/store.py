"""SyncStore: everything a connection keeps between passes, in Azure Table Storage.

PartitionKey is the connection id in every table but ``budgets`` (keyed by the budget's own key,
e.g. the AC account, since several connections could share one account). Each table has its own
repository module; this class wires them to one service client and one clock.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable, Sequence
from datetime import datetime
from types import TracebackType
from typing import Literal

from azure.core.credentials_async import AsyncTokenCredential
from azure.data.tables.aio import TableServiceClient

from sync_core.clock import SYSTEM_CLOCK, Clock
from sync_core.model.config import ConnectionConfig
from sync_core.model.state import (
    AcCursor,
    AuditEntry,
    ConflictRecord,
    CreateRequest,
    Cursor,
    DynamicsCursor,
    EntityName,
    ImportBatch,
    Lease,
    RecordError,
    RecordLink,
    RunRecord,
    Side,
)
from sync_core.store._tables import PARTITIONED_BY_CONNECTION, Tables, delete_partition
from sync_core.store._transport import ShortKeepAliveTransport
from sync_core.store.audit import AuditRepository
from sync_core.store.budget import SharedRequestBudget
from sync_core.store.configs import ConfigRepository
from sync_core.store.conflicts import ConflictRepository
from sync_core.store.cursors import C, CursorRepository
from sync_core.store.erasure import erase_rows
from sync_core.store.fence import Fence, FenceRepository
from sync_core.store.imports import ImportRepository
from sync_core.store.lease import LeaseRepository
from sync_core.store.links import LinkRepository
from sync_core.store.record_errors import ErrorRepository
from sync_core.store.requested import RequestedLink, RequestedLinks
from sync_core.store.requests import RequestRepository
from sync_core.store.runs import RunRepository
from sync_core.store.suppressions import SuppressionRepository


class SyncStore:
    """The sync state of every connection. Use as ``async with``; call :meth:`create_tables` once."""

    def __init__(
        self,
        service: TableServiceClient,
        *,
        table_prefix: str = "",
        clock: Clock | None = None,
        link_write_concurrency: int = 8,
    ) -> None:
        self.clock: Clock = clock or SYSTEM_CLOCK
        self._transport: ShortKeepAliveTransport | None = None
        self.tables = Tables(service, table_prefix)
        t = self.tables
        self._configs = ConfigRepository(t["connections"], self.clock, migrated=self._audit_migration)
        self._links = LinkRepository(t["links"], concurrency=link_write_concurrency)
        self._requested = RequestedLinks(t["links"])
        self._cursors = CursorRepository(t["cursors"])
        self._runs = RunRepository(t["runs"])
        self._errors = ErrorRepository(t["errors"], self.clock)
        self._imports = ImportRepository(t["imports"])
        self._audit = AuditRepository(t["audit"])
        self._conflicts = ConflictRepository(t["conflicts"])
        self._suppressions = SuppressionRepository(t["suppressions"])
        self._requests = RequestRepository(t["requests"])
        self._leases = LeaseRepository(t["leases"], self.clock)
        self._fences = FenceRepository({"links": t["links"], "cursors": t["cursors"], "imports": t["imports"],
                                         "requests": t["requests"]})

    async def _audit_migration(self, config: ConnectionConfig, stored: int, notes: list[str]) -> None:
        await self._audit.append(
            config.connection_id,
            AuditEntry(
                at=self.clock.now(),
                actor="schema migration",
                action="config_migrated",
                target=f"schema {stored} → {config.schema_version}",
                detail={"changes": notes},
            ),
        )

    @classmethod
    def from_connection_string(cls, conn_str: str, *, table_prefix: str = "", clock: Clock | None = None) -> SyncStore:
        transport = ShortKeepAliveTransport()
        service = TableServiceClient.from_connection_string(conn_str, transport=transport)
        store = cls(service, table_prefix=table_prefix, clock=clock)
        store._transport = transport
        return store

    @classmethod
    def from_account_url(
        cls, account_url: str, credential: AsyncTokenCredential, *, table_prefix: str = "", clock: Clock | None = None
    ) -> SyncStore:
        transport = ShortKeepAliveTransport()
        service = TableServiceClient(endpoint=account_url, credential=credential, transport=transport)
        store = cls(service, table_prefix=table_prefix, clock=clock)
        store._transport = transport
        return store

    async def create_tables(self) -> None:
        """Create the tables that are missing (idempotent)."""
        await self.tables.create_all()

    async def close(self) -> None:
        await self.tables.close()

    async def __aenter__(self) -> SyncStore:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()

    @property
    def link_transactions(self) -> int:
        """Link transactions submitted by this store so far (benchmarks, tests)."""
        return self._links.transactions

    @property
    def table_calls(self) -> dict[str, int]:
        """Table Storage requests sent so far by ``<table> <kind>`` (tables without the prefix; retries
        counted); empty for a store built on another service client."""
        if self._transport is None:
            return {}
        n = len(self.tables.prefix)
        return {k[n:] if k.startswith(self.tables.prefix) else k: v for k, v in self._transport.calls.items()}

    # --- connections ---------------------------------------------------------------------------

    async def save_config(self, config: ConnectionConfig, *, etag: str | None = None, only_if_new: bool = False) -> str:
        """Save the document; returns its new ETag. With ``etag``, only over that version
        (else :class:`StaleConfigError`); with ``only_if_new``, only when none exists yet."""
        return await self._configs.save(config, etag=etag, only_if_new=only_if_new)

    async def get_config(self, connection_id: str) -> ConnectionConfig | None:
        found = await self._configs.get(connection_id)
        return found[0] if found else None

    async def get_config_with_etag(self, connection_id: str) -> tuple[ConnectionConfig, str] | None:
        return await self._configs.get(connection_id)

    async def list_configs(self) -> list[ConnectionConfig]:
        return await self._configs.list()

    async def delete_connection(self, connection_id: str) -> None:
        """Remove the connection's config and its partition in every table (its secrets are the caller's)."""
        for name in PARTITIONED_BY_CONNECTION:
            if name != "connections":
                await delete_partition(self.tables[name], connection_id)
        await delete_partition(self.tables["connections"], connection_id)  # last: a retry finds it still listed

    # --- suppressions (people not to push back; a salted hash, never the email) -------------------

    async def suppress(self, cid: str, email: str, *, reason: str, records: tuple[str, ...] = ()) -> str:
        return await self._suppressions.add(cid, email, reason=reason, at=self.clock.now(), records=records)

    async def lift_suppression(self, cid: str, email: str) -> bool:
        return await self._suppressions.remove(cid, email)

    async def suppression_hash(self, cid: str, email: str) -> str:
        return await self._suppressions.hash_of(cid, email)

    async def suppressed_hashes(self, cid: str) -> set[str]:
        return await self._suppressions.hashes(cid)

    async def erase_person(self, cid: str, email: str, dynamics_ids: Iterable[str]) -> dict[str, int]:
        """Every row naming the person deleted or rewritten without the email (``store.erasure``)."""
        return await erase_rows(self.tables, cid, email, dynamics_ids)

    # --- links ---------------------------------------------------------------------------------

    async def get_link(self, cid: str, entity: EntityName, dynamics_id: str) -> RecordLink | None:
        return await self._links.get(cid, entity, dynamics_id)

    async def get_links(self, cid: str, entity: EntityName, dynamics_ids: Iterable[str]) -> dict[str, RecordLink]:
        found = await self._links.get_many(cid, ((entity, d) for d in dynamics_ids))
        return {link.dynamics_id: link for link in found}

    async def get_links_by_ac(self, cid: str, ac_type: str, ac_id: str) -> list[RecordLink]:
        return await self._links.by_ac(cid, ac_type, ac_id)

    async def find_links_by_email(self, cid: str, email: str, *, entity: EntityName | None = None) -> list[RecordLink]:
        """Links whose email equals ``email`` ignoring case (and surrounding spaces)."""
        return await self._links.by_email(cid, email, entity)

    async def list_requested_links(self, cid: str) -> list[RequestedLink]:
        """The links written on request (``insert_link``) not yet forgotten by a pass (``requested.py``)."""
        return await self._requested.list(cid)

    async def forget_requested_links(self, cid: str, rows: Sequence[RequestedLink]) -> None:
        await self._requested.forget(cid, rows)

    async def save_links(self, cid: str, links: Sequence[RecordLink], *, fence: Fence | None = None) -> None:
        """Write links: each link's rows in one transaction, up to 100 operations per transaction.

        Updates each link's ``etag`` and ``index_keys``. A link too big for one entity raises
        :class:`ValueTooLargeError` before anything is written. With ``fence``, each transaction
        carries it (:class:`LeaseLostError` once a newer pass holds the connection).
        """
        await self._links.save(cid, links, fence)

    async def delete_link(self, cid: str, link: RecordLink, *, fence: Fence | None = None) -> None:
        await self._links.delete(cid, link, fence)

    async def insert_link(self, cid: str, link: RecordLink) -> bool:
        """Write ``link`` only if its record has none yet; ``False``: one exists (nothing written)."""
        return await self._links.insert(cid, link)

    def iter_links(
        self, cid: str, entity: EntityName | None = None, *, after: str | None = None, page_size: int = 1000
    ) -> AsyncIterator[RecordLink]:
        return self._links.iterate(cid, entity, after=after, page_size=page_size)

    async def count_links(self, cid: str, entity: EntityName) -> int:
        return await self._links.count(cid, entity)

    # --- cursors -------------------------------------------------------------------------------

    async def get_cursor(self, cid: str, entity: EntityName, side: Side) -> Cursor | None:
        return await self._cursors.get(cid, entity, side)

    async def get_dynamics_cursor(self, cid: str, entity: EntityName) -> DynamicsCursor | None:
        found = await self._cursors.get(cid, entity, "dynamics")
        return found if isinstance(found, DynamicsCursor) else None

    async def get_ac_cursor(self, cid: str, entity: EntityName, *, stream: str = "") -> AcCursor | None:
        found = await self._cursors.get(cid, entity, "activecampaign", stream)
        return found if isinstance(found, AcCursor) else None

    async def save_cursor(self, cid: str, cursor: C, *, fence: Fence | None = None) -> C:
        """Save over the version ``cursor.etag`` names (``None``: must not exist); returns it with the new ETag."""
        return await self._cursors.save(cid, cursor, fence)

    async def delete_cursor(self, cid: str, entity: EntityName, side: Side) -> None:
        await self._cursors.delete(cid, entity, side)

    # --- runs, errors, imports, audit ------------------------------------------------------------

    async def save_run(self, cid: str, run: RunRecord) -> None:
        await self._runs.save(cid, run)

    async def list_runs(self, cid: str, *, limit: int = 20) -> list[RunRecord]:
        return await self._runs.list(cid, limit)

    async def record_error(self, cid: str, error: RecordError) -> RecordError:
        return await self._errors.record(cid, error)

    async def clear_error(self, cid: str, entity: EntityName, side: Side, record_id: str) -> None:
        await self._errors.clear(cid, entity, side, record_id)

    async def list_errors(
        self, cid: str, *, entity: EntityName | None = None, due_at: datetime | None = None, limit: int | None = None
    ) -> list[RecordError]:
        return await self._errors.list(cid, entity=entity, due_at=due_at, limit=limit)

    async def retry_errors(self, cid: str, errors: Sequence[RecordError]) -> int:
        """Make these errors due now (an admin's retry); returns how many were still open."""
        return await self._errors.retry_now(cid, errors)

    async def get_error(self, cid: str, entity: EntityName, side: Side, record_id: str) -> RecordError | None:
        return await self._errors.get(cid, entity, side, record_id)

    async def save_import(self, cid: str, batch: ImportBatch, *, fence: Fence | None = None) -> None:
        await self._imports.save(cid, batch, fence)

    async def list_imports(
        self, cid: str, *, status: Literal["submitted", "completed", "failed"] | None = "submitted"
    ) -> list[ImportBatch]:
        """Batches with ``status`` (``None``: all), oldest first."""
        return await self._imports.list(cid, status)

    async def count_awaiting_import(self, cid: str) -> int:
        """Records in bulk imports AC had not finished processing when a pass last looked."""
        return sum(len(b.rows) for b in await self._imports.list(cid, "submitted"))

    async def delete_import(self, cid: str, batch_id: str, *, fence: Fence | None = None) -> None:
        await self._imports.delete(cid, batch_id, fence)

    async def record_conflicts(self, cid: str, conflicts: Sequence[ConflictRecord]) -> None:
        await self._conflicts.record(cid, conflicts)

    async def list_conflicts(
        self,
        cid: str,
        *,
        entity: EntityName | None = None,
        field: str | None = None,
        since: datetime | None = None,
        after: str | None = None,
        limit: int = 50,
        dynamics_id: str | None = None,
    ) -> list[ConflictRecord]:
        """Newest first; ``after``: the ``key`` of the last row of the previous page."""
        return await self._conflicts.list(
            cid, entity=entity, field=field, since=since, after=after, limit=limit, dynamics_id=dynamics_id
        )

    async def save_request(self, cid: str, request: CreateRequest, *, fence: Fence | None = None) -> None:
        await self._requests.save(cid, request, fence=fence)

    async def get_request(self, cid: str, entity: EntityName, ac_id: str) -> CreateRequest | None:
        return await self._requests.get(cid, entity, ac_id)

    async def list_requests(
        self, cid: str, *, status: Literal["pending", "done", "failed"] | None = None, limit: int = 1000
    ) -> list[CreateRequest]:
        return await self._requests.list(cid, status=status, limit=limit)

    async def count_requests(self, cid: str) -> dict[str, int]:
        return await self._requests.counts(cid)

    async def append_audit(self, cid: str, entry: AuditEntry) -> None:
        await self._audit.append(cid, entry)

    async def list_audit(self, cid: str, *, limit: int = 100, action: str | None = None,
                         targets: Sequence[str] = ()) -> list[AuditEntry]:
        """Newest first; only ``action``'s rows, and those about one of ``targets`` (at most 13), when given."""
        return await self._audit.list(cid, limit, action, targets)

    # --- lease and budget ----------------------------------------------------------------------

    async def acquire_lease(self, cid: str, holder: str, *, ttl: float) -> Lease:
        return await self._leases.acquire(cid, holder, ttl)

    async def renew_lease(self, lease: Lease, *, ttl: float) -> Lease:
        return await self._leases.renew(lease, ttl)

    async def release_lease(self, lease: Lease) -> None:
        await self._leases.release(lease)

    async def claim_fence(self, lease: Lease) -> Fence:
        """Raise the fence of every guarded table to the lease's token (:class:`LeaseLostError` if newer)."""
        return await self._fences.claim(lease)

    def fenced(self, fence: Fence) -> SyncStore:
        """This store, with every link, cursor, import and request write carrying ``fence``."""
        return FencedStore(self, fence)

    def request_budget(self, key: str, *, limit: int, window: float, reserve: int = 0) -> SharedRequestBudget:
        """A budget shared by every holder of ``key`` (e.g. the AC account host) in any process; this holder
        leaves ``reserve`` of the ``limit`` to holders without a reserve."""
        return SharedRequestBudget(
            self.tables["budgets"], key, limit=limit, window=window, clock=self.clock, reserve=reserve
        )


class FencedStore(SyncStore):
    """A view of a store whose guarded writes carry one pass's fence (its reads are the store's)."""

    def __init__(self, base: SyncStore, fence: Fence) -> None:  # shares the base's clients; no super().__init__
        self.__dict__.update(base.__dict__)
        self.fence = fence

    async def list_requested_links(self, cid: str) -> list[RequestedLink]:
        """The links written on request (``insert_link``) not yet forgotten by a pass (``requested.py``)."""
        return await self._requested.list(cid)

    async def forget_requested_links(self, cid: str, rows: Sequence[RequestedLink]) -> None:
        await self._requested.forget(cid, rows)

    async def save_links(self, cid: str, links: Sequence[RecordLink], *, fence: Fence | None = None) -> None:
        await super().save_links(cid, links, fence=fence or self.fence)

    async def delete_link(self, cid: str, link: RecordLink, *, fence: Fence | None = None) -> None:
        await super().delete_link(cid, link, fence=fence or self.fence)

    async def save_cursor(self, cid: str, cursor: C, *, fence: Fence | None = None) -> C:
        return await super().save_cursor(cid, cursor, fence=fence or self.fence)

    async def save_import(self, cid: str, batch: ImportBatch, *, fence: Fence | None = None) -> None:
        await super().save_import(cid, batch, fence=fence or self.fence)

    async def delete_import(self, cid: str, batch_id: str, *, fence: Fence | None = None) -> None:
        await super().delete_import(cid, batch_id, fence=fence or self.fence)

    async def save_request(self, cid: str, request: CreateRequest, *, fence: Fence | None = None) -> None:
        await super().save_request(cid, request, fence=fence or self.fence)

    async def close(self) -> None:
        """The base store owns the connections."""
