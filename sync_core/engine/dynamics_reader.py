"""One Dynamics table's read and its cursor's state machine (DESIGN.md §5).

``initial`` (or ``backfill``): one change-tracking read of the whole table, its ``nextLink`` saved
after every page, so a pass cut by its budget or a process killed resumes there; the last page
brings the delta link and the cursor becomes ``delta``: later passes read only the changes through
it. A change of ``$select`` or criteria (the signature) re-baselines with a backfill; an expired
delta link re-baselines too; a saved nextLink that no longer works restarts the read (records
already synced are recognised by their stored values). Tables without change tracking are read by
a ``modifiedon`` watermark that never passes the start of the run that produced it.

A page is handed to ``on_page`` and the cursor moves (through the sink) only after it returns.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from sync_core.dynamics import ChangeTrackingDisabledError, compile_criteria
from sync_core.engine import deletes, dynamics_reads
from sync_core.engine.mapping import parse_ac_time, select_signature
from sync_core.engine.pass_state import ENTITY_SET, PRIMARY_ID, Pass
from sync_core.engine.sink import Action, Plan
from sync_core.model.errors import DeltaLinkExpiredError, NotFoundError, ValidationError
from sync_core.model.state import DynamicsCursor, EntityName

log = logging.getLogger("sync_core.engine")

OnPage = Callable[[Sequence[Mapping[str, Any]], bool], Awaitable[None]]
"""``on_page(records, full_read)``: plan and write one page; durable when it returns."""
Between = Callable[[], Awaitable[object]]
"""Run after a page's cursor is saved when more pages follow (reads that overlap the push)."""


def signature(p: Pass, entity: EntityName, select: list[str]) -> str:
    """What the stored read depends on: ``$select`` and the criteria. Widened criteria or a new
    mapped field need the whole table read again (a backfill)."""
    m = p.connection.entities.of(entity)
    scope = [f"scope={m.scope}", json.dumps([c.model_dump(mode="json") for c in m.criteria], sort_keys=True),
             m.custom_filter or ""]
    return select_signature([*select, *scope])


async def read_table(p: Pass, entity: EntityName, select: list[str], on_page: OnPage,
                     between: Between | None = None) -> None:
    """Read (or continue reading) one table; sets ``p.time.more_work`` if cut short."""
    await _Reader(p, entity, select, between).run(on_page)


class _Reader:
    def __init__(self, p: Pass, entity: EntityName, select: list[str], between: Between | None = None) -> None:
        self.p = p
        self.between = between
        self.entity = entity
        self.select = select
        self.signature = signature(p, entity, select)

    async def load(self) -> DynamicsCursor:
        cursor = await self.p.store.get_dynamics_cursor(self.p.cid, self.entity)
        if cursor is None:
            return DynamicsCursor(entity=self.entity, phase="initial", select_signature=self.signature)
        if cursor.select_signature != self.signature:
            # The delta link embeds $select: a mapping change needs a new baseline (a backfill).
            cursor.phase, cursor.delta_link, cursor.next_link = "backfill", None, None
            cursor.done, cursor.total, cursor.started_at = 0, None, None
            cursor.select_signature = self.signature
        return cursor

    async def run(self, on_page: OnPage) -> None:
        """Read (or continue reading) the table; sets ``p.time.more_work`` if cut short."""
        p = self.p
        cursor = await self.load()
        if cursor.phase != "delta" and cursor.started_at is None:
            cursor.started_at, cursor.done = p.clock.now(), 0
            cursor.total = await dynamics_reads.estimate_total(p, self.entity)
        cursor.run_started_at = p.run.started_at
        if cursor.mode == "modifiedon":
            await self._by_watermark(cursor, on_page)
            return
        try:
            await self._changes(cursor, on_page)
        except ChangeTrackingDisabledError:
            log.warning("change tracking is off for %s: reading by modifiedon", self.entity)
            p.count(self.entity, "watermark_mode")
            cursor = await p.store.get_dynamics_cursor(p.cid, self.entity) or cursor
            cursor.mode, cursor.delta_link, cursor.next_link, cursor.watermark = "modifiedon", None, None, None
            await self._by_watermark(cursor, on_page)
        except DeltaLinkExpiredError:
            log.warning("delta link of %s expired: re-baselining", self.entity)
            p.count(self.entity, "rebaselined")
            cursor = await p.store.get_dynamics_cursor(p.cid, self.entity) or cursor
            cursor.phase, cursor.delta_link, cursor.next_link = "backfill", None, None
            cursor.started_at, cursor.done = p.clock.now(), 0
            await self._changes(cursor, on_page)

    async def _changes(self, cursor: DynamicsCursor, on_page: OnPage) -> None:
        p = self.p
        resume = cursor.next_link or cursor.delta_link
        try:
            async for page in p.dv.read_changes(ENTITY_SET[self.entity], select=self.select, resume_link=resume):
                full = cursor.phase != "delta"
                await on_page(page.records, full)
                if self._page_cut():
                    return
                if page.deleted_ids:
                    await self._deleted(page.deleted_ids)
                if full:
                    cursor.done += len(page.records)
                if page.delta_link:
                    cursor.delta_link, cursor.next_link = page.delta_link, None
                    if full:
                        cursor.finished_at = p.clock.now()
                    cursor.phase = "delta"
                else:
                    cursor.next_link = page.next_link
                cursor = await self._advance(cursor, more=bool(page.next_link))
                if page.next_link and p.time.out():
                    p.time.more_work = True
                    return
        except (ValidationError, NotFoundError) as e:
            if cursor.next_link is None:
                raise
            # A saved nextLink that no longer works: restart the read; synced records are
            # recognised by their stored values and skipped.
            log.warning("saved nextLink of %s refused (%s): restarting the read", self.entity, e.status)
            cursor.next_link = None
            if cursor.phase == "delta" and cursor.delta_link is None:
                cursor.phase = "backfill"
            await self._changes(cursor, on_page)

    def _watermark_filter(self, since: datetime | None) -> str | None:
        """``modifiedon ge <watermark>`` and the entity's criteria: reads that allow ``$filter`` use it."""
        m = self.p.connection.entities.of(self.entity)
        parts: list[str] = []
        if since is not None:
            parts.append(f"modifiedon ge {since.astimezone(UTC).strftime('%Y-%m-%dT%H:%M:%SZ')}")
        if m.scope == "criteria" and m.criteria and (compiled := compile_criteria(m.criteria)):
            parts.append(f"({compiled})")
        elif m.scope == "custom" and m.custom_filter:
            parts.append(f"({m.custom_filter})")
        return " and ".join(parts) or None

    async def _by_watermark(self, cursor: DynamicsCursor, on_page: OnPage) -> None:
        """Tables without change tracking: rows with ``modifiedon`` at or after the watermark, oldest
        first. Rows at the boundary are read again and recognised by their stored values. Deletes
        are not visible this way (a reconcile scan finds them)."""
        p = self.p
        full = cursor.phase != "delta"
        order = f"modifiedon asc,{PRIMARY_ID[self.entity]} asc"
        async for page in p.dv.query(ENTITY_SET[self.entity], select=self.select,
                                     filter=self._watermark_filter(cursor.watermark), orderby=order,
                                     resume_link=cursor.next_link):
            await on_page(page.records, full)
            if self._page_cut():
                return
            if full:
                cursor.done += len(page.records)
            last = parse_ac_time(page.records[-1].get("modifiedon")) if page.records else None
            if last is not None:
                cursor.watermark = min(last, p.run.started_at)
            cursor.next_link = page.next_link
            if page.next_link is None and full:
                cursor.phase, cursor.finished_at = "delta", p.clock.now()
            cursor = await self._advance(cursor, more=bool(page.next_link))
            if page.next_link and p.time.out():
                p.time.more_work = True
                return
        if cursor.phase != "delta":
            cursor.phase, cursor.finished_at = "delta", p.clock.now()
            await p.sink.save_cursor(cursor)

    def _page_cut(self) -> bool:
        if not self.p.time.page_cut:
            return False
        self.p.time.page_cut, self.p.time.more_work = False, True
        return True

    async def _advance(self, cursor: DynamicsCursor, *, more: bool = False) -> DynamicsCursor:
        cursor = await self.p.sink.save_cursor(cursor)
        await self.p.checkpoint("after_cursor_saved", {"entity": self.entity, "done": cursor.done})
        if more and self.between is not None and not self.p.time.out():
            await self.between()
        return cursor

    async def _deleted(self, ids: Sequence[str]) -> None:
        """Deleted in Dynamics: the link goes, the AC record per the entity's ``on_delete`` (``deletes``)."""
        links = await self.p.store.get_links(self.p.cid, self.entity, ids)
        plan = Plan(self.entity, actions=[Action("unlink_deleted", i, link.email or "", item=link)
                                          for i, link in links.items()], writer=_Unlink())
        await self.p.sink.apply(self.p, plan)


class _Unlink:
    async def write(self, p: Pass, plan: Plan) -> None:
        for action in plan.actions:
            await deletes.dynamics_deleted(p, action.item)
