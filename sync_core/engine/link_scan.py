"""A bounded reconcile scan of the links: linked AC contacts that no longer exist (deleted in AC).

AC has no feed of deleted contacts, so a scan cycle starts every :data:`SCAN_EVERY` and each pass of it
checks up to :data:`LINKS_PER_PASS` links of each people table, 100 AC ids a call
(``GET /contacts?ids[]=…``), resumed from a checkpoint (cursor stream ``linkscan``) until the end of the
table; between cycles a pass pays nothing for it. For a table read without change tracking (its
``modifiedon`` watermark never shows a delete) the same links are looked up in Dynamics too, 25 ids a
``$filter``; a record that is gone follows ``on_delete`` (``deletes.dynamics_deleted``), counted
``link_scan_checked_dynamics``. A linked id AC no longer lists is an AC delete
(``deletes.ac_deleted``). The run counts ``link_scan_checked`` per table (the calls under ``contacts.list``).
"""

from __future__ import annotations

from datetime import timedelta

from sync_core.engine import deletes, dynamics_reads
from sync_core.engine.pass_state import PRIMARY_ID, Pass
from sync_core.engine.sink import Action, Plan
from sync_core.model.state import AcCursor, EntityName, RecordLink

STREAM = "linkscan"
SCAN_EVERY = timedelta(hours=24)
LINKS_PER_PASS = 1000
IDS_PER_CALL = 100
PEOPLE: tuple[EntityName, ...] = ("contact", "lead")


async def scan(p: Pass) -> None:
    for entity in PEOPLE:
        if p.connection.entities.of(entity).enabled:
            await _scan(p, entity)


async def _scan(p: Pass, entity: EntityName) -> None:
    cursor = await p.store.get_ac_cursor(p.cid, entity, stream=STREAM) or AcCursor(entity=entity, stream=STREAM)
    now = p.clock.now()
    if cursor.position is None and cursor.finished_at is not None and now - cursor.finished_at < SCAN_EVERY:
        return
    if cursor.position is None:
        cursor.started_at = now
    links: list[RecordLink] = []
    async for link in p.store.iter_links(p.cid, entity, after=cursor.position, page_size=IDS_PER_CALL):
        links.append(link)
        if len(links) >= LINKS_PER_PASS:
            break
    links = await _in_dynamics(p, entity, links)
    linked = [lk for lk in links if lk.ac_id is not None]
    for start in range(0, len(linked), IDS_PER_CALL):
        chunk = linked[start:start + IDS_PER_CALL]
        present = {str(c["id"]) async for c in p.ac.iter_contacts(ids=[str(lk.ac_id) for lk in chunk],
                                                                  page_size=IDS_PER_CALL)}
        p.count(entity, "link_scan_checked", len(chunk))
        gone = [lk for lk in chunk if str(lk.ac_id) not in present]
        if gone:
            await p.sink.apply(p, Plan(entity, writer=AcDeleteWriter(), actions=[
                Action("unlink_ac_deleted", lk.dynamics_id, lk.email or "", item=lk) for lk in gone]))
    cursor.position = links[-1].dynamics_id if len(links) >= LINKS_PER_PASS else None
    if cursor.position is None:
        cursor.finished_at = now
    await p.sink.save_cursor(cursor)


async def _in_dynamics(p: Pass, entity: EntityName, links: list[RecordLink]) -> list[RecordLink]:
    """The links whose Dynamics record still exists, for a table without change tracking (others: all)."""
    cursor = await p.store.get_dynamics_cursor(p.cid, entity)
    if cursor is None or cursor.mode != "modifiedon" or not links:
        return links
    found = {str(r[PRIMARY_ID[entity]]) for r in await dynamics_reads.read_by_ids(
        p, entity, [PRIMARY_ID[entity]], [lk.dynamics_id for lk in links])}
    p.count(entity, "link_scan_checked_dynamics", len(links))
    gone = [lk for lk in links if lk.dynamics_id not in found]
    if gone:
        await p.sink.apply(p, Plan(entity, writer=DynamicsDeleteWriter(), actions=[
            Action("unlink_deleted", lk.dynamics_id, lk.email or "", item=lk) for lk in gone]))
    return [lk for lk in links if lk.dynamics_id in found]


class DynamicsDeleteWriter:
    async def write(self, p: Pass, plan: Plan) -> None:
        for action in plan.actions:
            await deletes.dynamics_deleted(p, action.item)


class AcDeleteWriter:
    async def write(self, p: Pass, plan: Plan) -> None:
        for action in plan.actions:
            await deletes.ac_deleted(p, action.item)
