"""The cursors table: where each entity's read stands, per side, guarded by ETags.

RowKey ``<entity>|<side>``. A save carries the ETag of the cursor it read (``None``: it must not
exist yet); anything else means another pass moved the cursor, and :class:`StaleCursorError`
tells the caller to re-read rather than overwrite.
"""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Mapping
from typing import Any, TypeVar, cast

from azure.core import MatchConditions
from azure.core.exceptions import ResourceExistsError, ResourceModifiedError, ResourceNotFoundError
from azure.data.tables import TableTransactionError, TransactionOperation, UpdateMode
from azure.data.tables.aio import TableClient

from sync_core.model.state import AcCursor, Cursor, CursorPhase, DynamicsCursor, EntityName, ReadMode, Side
from sync_core.store import _codec as codec
from sync_core.store._keys import key
from sync_core.store.errors import StaleCursorError
from sync_core.store.fence import Fence

C = TypeVar("C", DynamicsCursor, AcCursor)


def cursor_key(entity: str, side: str) -> str:
    return key(entity, side)


def _to_entity(cid: str, c: Cursor) -> dict[str, Any]:
    e: dict[str, Any] = {
        "PartitionKey": cid,
        "RowKey": cursor_key(c.entity, c.side),
        "entity": c.entity,
        "side": c.side,
        "phase": c.phase,
        "done": codec.i64(c.done),
    }
    if c.total is not None:
        e["total"] = codec.i64(c.total)
    for name in ("watermark", "started_at", "run_started_at", "finished_at"):
        codec.put_dt(e, name, getattr(c, name, None))
    if isinstance(c, DynamicsCursor):
        if c.select_signature is not None:
            e["select_signature"] = c.select_signature
        codec.put_text(e, "delta_link", c.delta_link)
        codec.put_text(e, "next_link", c.next_link)
        e["mode"] = c.mode
    else:
        codec.put_json(e, "boundary_keys", c.boundary_keys)
        if c.position is not None:
            e["position"] = c.position
        if c.tz_offset_minutes is not None:
            e["tz_offset_minutes"] = c.tz_offset_minutes
        if c.import_links_accounts is not None:
            e["import_links_accounts"] = c.import_links_accounts
    codec.check_size(e, f"cursor {c.entity}/{c.side}")
    return e


def _from_entity(e: Mapping[str, Any]) -> Cursor:
    common: dict[str, Any] = {
        "entity": cast(EntityName, e["entity"]),
        "phase": cast(CursorPhase, e.get("phase", "initial")),
        "done": codec.get_int(e, "done"),
        "total": codec.get_int(e, "total") if e.get("total") is not None else None,
        "started_at": codec.get_dt(e, "started_at"),
        "run_started_at": codec.get_dt(e, "run_started_at"),
        "finished_at": codec.get_dt(e, "finished_at"),
        "etag": getattr(e, "metadata", {}).get("etag"),
    }
    if e.get("side") == "activecampaign":
        return AcCursor(
            **common, watermark=codec.get_dt(e, "watermark"),
            boundary_keys=list(codec.get_json(e, "boundary_keys", [])), position=e.get("position"),
            tz_offset_minutes=int(e["tz_offset_minutes"]) if e.get("tz_offset_minutes") is not None else None,
            import_links_accounts=(bool(e["import_links_accounts"]) if e.get("import_links_accounts") is not None
                                   else None))
    return DynamicsCursor(
        **common, mode=cast(ReadMode, e.get("mode", "change_tracking")), delta_link=codec.get_text(e, "delta_link"),
        next_link=codec.get_text(e, "next_link"), watermark=codec.get_dt(e, "watermark"),
        select_signature=e.get("select_signature"))


class CursorRepository:
    def __init__(self, table: TableClient) -> None:
        self._t = table

    async def get(self, cid: str, entity: EntityName, side: Side) -> Cursor | None:
        try:
            e = await self._t.get_entity(cid, cursor_key(entity, side))
        except ResourceNotFoundError:
            return None
        return _from_entity(e)

    async def save(self, cid: str, cursor: C, fence: Fence | None = None) -> C:
        e = _to_entity(cid, cursor)
        where = f"cursor {cursor.entity}/{cursor.side} of {cid}"
        if fence is not None:
            return await self._save_fenced(cursor, e, fence, where)
        try:
            if cursor.etag is None:
                meta = await self._t.create_entity(e)
            else:
                meta = await self._t.update_entity(
                    e, mode=UpdateMode.REPLACE, etag=cursor.etag, match_condition=MatchConditions.IfNotModified
                )
        except ResourceExistsError as err:
            raise StaleCursorError(f"{where} already exists; read it before saving") from err
        except (ResourceModifiedError, ResourceNotFoundError) as err:
            raise StaleCursorError(f"{where} changed since it was read") from err
        return dataclasses.replace(cursor, etag=str(meta["etag"]))

    async def _save_fenced(self, cursor: C, e: dict[str, Any], fence: Fence, where: str) -> C:
        """The cursor and the fence in one transaction: a pass that lost its lease moves no cursor."""
        op = (TransactionOperation.CREATE, e) if cursor.etag is None else (
            TransactionOperation.UPDATE, e,
            {"mode": UpdateMode.REPLACE, "etag": cursor.etag, "match_condition": MatchConditions.IfNotModified})
        try:
            results = await fence.submit("cursors", [op])
        except TableTransactionError as err:
            raise StaleCursorError(f"{where} changed since it was read") from err
        return dataclasses.replace(cursor, etag=str(results[0]["etag"]))

    async def delete(self, cid: str, entity: EntityName, side: Side) -> None:
        with contextlib.suppress(ResourceNotFoundError):
            await self._t.delete_entity(cid, cursor_key(entity, side))
