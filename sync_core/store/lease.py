"""The leases table: one writer per connection, until an expiry, guarded by ETags.

A taker never waits: a lease held by someone else and not yet expired is refused at once
(:class:`LeaseHeldError`), and the queue worker re-enqueues with a delay. An expired lease is
taken over with If-Match on the row it read, so of two takers of one expired lease only one wins.
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

    def _entity(self, cid: str, holder: str, ttl: float) -> tuple[dict[str, Any], Lease]:
        if ttl <= 0:
            raise ValueError("a lease needs a positive ttl")
        expires = self._clock.now() + timedelta(seconds=ttl)
        e = {"PartitionKey": cid, "RowKey": LEASE_ROW, "holder": holder, "expires_at": expires}
        return e, Lease(connection_id=cid, holder=holder, expires_at=expires)

    @staticmethod
    def _held(cid: str, row: Mapping[str, Any]) -> LeaseHeldError:
        return LeaseHeldError(
            f"connection {cid} is leased by another worker", holder=row.get("holder"),
            expires_at=codec.get_dt(row, "expires_at"),
        )

    async def acquire(self, cid: str, holder: str, ttl: float) -> Lease:
        entity, lease = self._entity(cid, holder, ttl)
        try:
            row = await self._t.get_entity(cid, LEASE_ROW)
        except ResourceNotFoundError:
            try:
                meta = await self._t.create_entity(entity)
            except ResourceExistsError as e:
                raise LeaseHeldError(f"connection {cid} was leased by another worker just now") from e
            lease.etag = str(meta["etag"])
            return lease
        expires = codec.get_dt(row, "expires_at")
        if row.get("holder") != holder and expires is not None and expires > self._clock.now():
            raise self._held(cid, row)
        try:
            meta = await self._t.update_entity(
                entity, mode=UpdateMode.REPLACE, etag=row.metadata["etag"],
                match_condition=MatchConditions.IfNotModified,
            )
        except (ResourceModifiedError, ResourceNotFoundError) as e:
            raise LeaseHeldError(f"connection {cid} was leased by another worker just now") from e
        lease.etag = str(meta["etag"])
        return lease

    async def renew(self, lease: Lease, ttl: float) -> Lease:
        entity, renewed = self._entity(lease.connection_id, lease.holder, ttl)
        if lease.etag is None:
            raise LeaseHeldError(f"lease of {lease.connection_id} was never acquired")
        try:
            meta = await self._t.update_entity(
                entity, mode=UpdateMode.REPLACE, etag=lease.etag, match_condition=MatchConditions.IfNotModified
            )
        except (ResourceModifiedError, ResourceNotFoundError) as e:
            raise LeaseHeldError(f"lease of {lease.connection_id} was lost to another worker") from e
        renewed.etag = str(meta["etag"])
        return renewed

    async def release(self, lease: Lease) -> None:
        """Give the lease up; a lease already lost (taken over, deleted) is left to its new holder."""
        if lease.etag is None:
            return
        with contextlib.suppress(ResourceModifiedError, ResourceNotFoundError):
            await self._t.delete_entity(
                lease.connection_id, LEASE_ROW, etag=lease.etag, match_condition=MatchConditions.IfNotModified
            )
