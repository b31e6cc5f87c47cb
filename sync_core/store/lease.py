"""The leases table: one writer per connection, until an expiry, guarded by ETags.

A taker never waits: a lease that has not expired is refused at once (:class:`LeaseHeldError`,
with its holder and expiry), whoever asks — a lease is taken per pass, never re-entered, so two
passes in one process exclude each other like two processes do. An expired lease is taken over with
If-Match on the row it read, so of two takers only one wins. Each take-over raises the fencing
token (``Lease.fence``); the row is never deleted (release only expires it), so the token only
grows and a pass that lost the lease is told by the fence rows (``fence.py``).
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from azure.core import MatchConditions
from azure.core.exceptions import ResourceExistsError, ResourceModifiedError, ResourceNotFoundError
from azure.data.tables import UpdateMode
from azure.data.tables.aio import TableClient

from sync_core.clock import Clock
from sync_core.model.state import Lease
from sync_core.store import _codec as codec
from sync_core.store.errors import LeaseHeldError

LEASE_ROW = "lease"


class LeaseRepository:
    def __init__(self, table: TableClient, clock: Clock) -> None:
        self._t = table
        self._clock = clock

    def _entity(self, cid: str, holder: str, ttl: float, fence: int) -> tuple[dict[str, Any], Lease]:
        if ttl <= 0:
            raise ValueError("a lease needs a positive ttl")
        expires = self._clock.now() + timedelta(seconds=ttl)
        e = {"PartitionKey": cid, "RowKey": LEASE_ROW, "holder": holder, "expires_at": expires,
             "fence": codec.i64(fence)}
        return e, Lease(connection_id=cid, holder=holder, expires_at=expires, fence=fence)

    @staticmethod
    def _held(cid: str, row: Mapping[str, Any]) -> LeaseHeldError:
        return LeaseHeldError(
            f"connection {cid} is leased by another pass", holder=row.get("holder"),
            expires_at=codec.get_dt(row, "expires_at"),
        )

    async def acquire(self, cid: str, holder: str, ttl: float) -> Lease:
        try:
            row = await self._t.get_entity(cid, LEASE_ROW)
        except ResourceNotFoundError:
            entity, lease = self._entity(cid, holder, ttl, 1)
            try:
                meta = await self._t.create_entity(entity)
            except ResourceExistsError as e:
                raise LeaseHeldError(f"connection {cid} was leased by another pass just now") from e
            lease.etag = str(meta["etag"])
            return lease
        expires = codec.get_dt(row, "expires_at")
        if expires is not None and expires > self._clock.now():
            raise self._held(cid, row)
        entity, lease = self._entity(cid, holder, ttl, codec.get_int(row, "fence") + 1)
        try:
            meta = await self._t.update_entity(
                entity, mode=UpdateMode.REPLACE, etag=row.metadata["etag"],
                match_condition=MatchConditions.IfNotModified,
            )
        except (ResourceModifiedError, ResourceNotFoundError) as e:
            raise LeaseHeldError(f"connection {cid} was leased by another pass just now") from e
        lease.etag = str(meta["etag"])
        return lease

    async def renew(self, lease: Lease, ttl: float) -> Lease:
        entity, renewed = self._entity(lease.connection_id, lease.holder, ttl, lease.fence)
        if lease.etag is None:
            raise LeaseHeldError(f"lease of {lease.connection_id} was never acquired")
        try:
            meta = await self._t.update_entity(
                entity, mode=UpdateMode.REPLACE, etag=lease.etag, match_condition=MatchConditions.IfNotModified
            )
        except (ResourceModifiedError, ResourceNotFoundError) as e:
            raise LeaseHeldError(f"lease of {lease.connection_id} was lost to another pass") from e
        renewed.etag = str(meta["etag"])
        return renewed

    async def release(self, lease: Lease) -> None:
        """Give the lease up (expire it now, keeping its token); a lease already lost is left alone."""
        if lease.etag is None:
            return
        entity, _ = self._entity(lease.connection_id, lease.holder, 1.0, lease.fence)
        entity["expires_at"] = self._clock.now()
        with contextlib.suppress(ResourceModifiedError, ResourceNotFoundError):
            await self._t.update_entity(
                entity, mode=UpdateMode.REPLACE, etag=lease.etag, match_condition=MatchConditions.IfNotModified
            )
