"""The errors table: per-record failures, retried with capped exponential backoff.

RowKey ``<entity>|<side>|<record id>``. Recording a failure that is already there counts one
more attempt and pushes the next retry out: 60 s, 120 s, 240 s … capped at 6 hours, without
jitter (one writer per connection holds the lease, so there is no herd to spread out).
"""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any, cast

from azure.core import MatchConditions
from azure.core.exceptions import ResourceExistsError, ResourceModifiedError, ResourceNotFoundError
from azure.data.tables import UpdateMode
from azure.data.tables.aio import TableClient

from sync_core.clock import Clock
from sync_core.model.state import EntityName, RecordError, Side
from sync_core.store import _codec as codec
from sync_core.store._keys import as_utc, enc, key, prefix_range

BACKOFF_BASE_SECONDS = 60.0
BACKOFF_FACTOR = 2.0
BACKOFF_CAP_SECONDS = 6 * 3600.0


def backoff_seconds(attempts: int) -> float:
    """Wait after the ``attempts``-th failure: 60 s × 2^(attempts − 1), at most 6 hours."""
    exponent = max(0, attempts - 1)
    if exponent > 32:  # far past the cap; avoid huge floats
        return BACKOFF_CAP_SECONDS
    return min(BACKOFF_BASE_SECONDS * BACKOFF_FACTOR**exponent, BACKOFF_CAP_SECONDS)


def error_key(entity: str, side: str, record_id: str) -> str:
    return key(entity, side, enc(record_id))


def _to_entity(cid: str, err: RecordError) -> dict[str, Any]:
    e: dict[str, Any] = {
        "PartitionKey": cid,
        "RowKey": error_key(err.entity, err.side, err.record_id),
        "entity": err.entity,
        "side": err.side,
        "record_id": err.record_id,
        "code": err.code,
        "attempts": codec.i64(err.attempts),
        "retriable": err.retriable,
    }
    codec.put_text(e, "cause", err.cause)
    codec.put_dt(e, "first_seen", err.first_seen)
    codec.put_dt(e, "last_seen", err.last_seen)
    codec.put_dt(e, "next_retry", err.next_retry)
    codec.put_json(e, "detail", err.detail)
    codec.check_size(e, f"error of {err.entity} {err.record_id}")
    return e


def _from_entity(e: Mapping[str, Any]) -> RecordError:
    return RecordError(
        entity=cast(EntityName, e["entity"]),
        side=cast(Side, e["side"]),
        record_id=str(e["record_id"]),
        cause=codec.get_text(e, "cause") or "",
        code=str(e.get("code", "error")),
        attempts=codec.get_int(e, "attempts", 1),
        retriable=bool(e.get("retriable", True)),
        first_seen=codec.get_dt(e, "first_seen"),
        last_seen=codec.get_dt(e, "last_seen"),
        next_retry=codec.get_dt(e, "next_retry"),
        detail=codec.get_json(e, "detail", {}),
    )


class ErrorRepository:
    def __init__(self, table: TableClient, clock: Clock) -> None:
        self._t = table
        self._clock = clock

    async def _read(self, cid: str, entity: str, side: str, record_id: str) -> tuple[RecordError, str] | None:
        try:
            e = await self._t.get_entity(cid, error_key(entity, side, record_id))
        except ResourceNotFoundError:
            return None
        return _from_entity(e), str(e.metadata["etag"])

    async def get(self, cid: str, entity: EntityName, side: Side, record_id: str) -> RecordError | None:
        found = await self._read(cid, entity, side, record_id)
        return found[0] if found else None

    async def record(self, cid: str, error: RecordError) -> RecordError:
        while True:
            now = self._clock.now()
            found = await self._read(cid, error.entity, error.side, error.record_id)
            if found is None:
                attempts = max(1, error.attempts)
                first_seen = error.first_seen or now
            else:
                attempts = found[0].attempts + 1
                first_seen = found[0].first_seen or now
            next_retry: datetime | None = (
                now + timedelta(seconds=backoff_seconds(attempts)) if error.retriable else None
            )
            merged = dataclasses.replace(
                error, attempts=attempts, first_seen=first_seen, last_seen=now, next_retry=next_retry
            )
            entity = _to_entity(cid, merged)
            try:
                if found is None:
                    await self._t.create_entity(entity)
                else:
                    await self._t.update_entity(
                        entity, mode=UpdateMode.REPLACE, etag=found[1], match_condition=MatchConditions.IfNotModified
                    )
            except (ResourceExistsError, ResourceModifiedError, ResourceNotFoundError):
                continue  # another writer recorded the same failure meanwhile: count on top of theirs
            return merged

    async def retry_now(self, cid: str, errors: Sequence[RecordError]) -> int:
        """Make these errors due now (attempts and cause stay); returns how many are still open."""
        now = self._clock.now()
        n = 0
        for err in errors:
            try:
                key = error_key(err.entity, err.side, err.record_id)
                await self._t.update_entity({"PartitionKey": cid, "RowKey": key, "next_retry": now, "retriable": True},
                                            mode=UpdateMode.MERGE)
                n += 1
            except ResourceNotFoundError:
                continue  # cleared meanwhile: it synced
        return n

    async def clear(self, cid: str, entity: EntityName, side: Side, record_id: str) -> None:
        with contextlib.suppress(ResourceNotFoundError):
            await self._t.delete_entity(cid, error_key(entity, side, record_id))

    async def list(
        self, cid: str, *, entity: EntityName | None, due_at: datetime | None, limit: int | None
    ) -> list[RecordError]:
        clauses = ["PartitionKey eq @pk"]
        params: dict[str, Any] = {"pk": cid}
        if entity is not None:
            params["lo"], params["hi"] = prefix_range(key(entity, ""))
            clauses.append("RowKey ge @lo and RowKey lt @hi")
        if due_at is not None:
            params["due"] = as_utc(due_at)
            clauses.append("next_retry le @due")
        out: list[RecordError] = []
        page = min(limit, 1000) if limit else 1000
        async for e in self._t.query_entities(" and ".join(clauses), parameters=params, results_per_page=page):
            out.append(_from_entity(e))
            if limit is not None and len(out) >= limit:
                break
        return out
