"""Opt-outs from ActiveCampaign to Dynamics: unsubscribes and bounces on the connection's lists.

A list status change need not move a contact's ``udate`` (register), and contact-list memberships have
no updated filter, so they are found by their own read: ``GET /contacts?listid=…&status=2|3`` for each
of the connection's lists and each configured status, in id order, at most
``consent.scan_pages_per_pass`` pages a pass, resumed from a checkpoint (cursor stream ``optouts``) and
started again once a whole cycle is done. A linked contact or lead whose link does not know the person
opted out gets ``donotbulkemail`` in Dynamics (``If-Match: *``: never an upsert); the link then
remembers it, so the next cycles cost one read and no write. The pages read are counted as
``optout_pages`` on the run.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sync_core.engine import history
from sync_core.engine.pass_state import ENTITY_SET, Pass
from sync_core.engine.sink import Action, Failure, Plan
from sync_core.model.config import AC_OPT_OUT_STATUS
from sync_core.model.errors import RetriableError, SkippableError
from sync_core.model.state import AcCursor, EntityName, RecordLink

STREAM = "optouts"
PAGE = 100
BULK_EMAIL = "donotbulkemail"
PEOPLE: tuple[EntityName, ...] = ("contact", "lead")


def _streams(p: Pass) -> list[tuple[int, int]]:
    statuses = [AC_OPT_OUT_STATUS[s] for s in p.connection.consent.ac_statuses]
    return [(list_id, status) for list_id in p.connection.push.list_ids for status in statuses]


def _position(cursor: AcCursor) -> tuple[int, str | None]:
    """(stream index, last contact id read in it) from ``"<index>:<id>"``."""
    if not cursor.position:
        return 0, None
    index, _, after = cursor.position.partition(":")
    return int(index), after or None


def pulls_consent(p: Pass) -> bool:
    e = p.connection.entities
    return bool(p.connection.push.list_ids) and (e.of("contact").pulls or e.of("lead").pulls)


async def read(p: Pass) -> None:
    """One pass's share of the opt-out read; ``p.time.more_work`` when the cycle is not done."""
    if not pulls_consent(p) or not _streams(p):
        return
    streams = _streams(p)
    cursor = await p.store.get_ac_cursor(p.cid, "contact", stream=STREAM) or AcCursor(entity="contact",
                                                                                      stream=STREAM)
    index, after = _position(cursor)
    for _ in range(p.connection.consent.scan_pages_per_pass):
        if index >= len(streams):
            break
        list_id, status = streams[index]
        page = await _page(p, list_id, status, after)
        p.count("contact", "optout_pages")
        await _opt_out(p, page)
        if len(page) < PAGE:
            index, after = index + 1, None
        else:
            after = str(page[-1]["id"])
        cursor.position = f"{index}:{after or ''}" if index < len(streams) else None
        cursor = await p.sink.save_cursor(cursor)
        await p.checkpoint("after_optout_page", {"index": index})
    if cursor.position is not None:
        p.time.more_work = True


async def _page(p: Pass, list_id: int, status: int, after: str | None) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    async for contact in p.ac.iter_contacts(list_id=str(list_id), status=status, page_size=PAGE, after_id=after):
        out.append(contact)
        if len(out) >= PAGE:
            break
    return out


async def _opt_out(p: Pass, contacts: Sequence[dict[str, Any]]) -> None:
    """The linked people of these AC contacts that the links do not know opted out, as one plan a table."""
    due: dict[EntityName, list[RecordLink]] = {}
    for contact in contacts:
        for link in await p.store.get_links_by_ac(p.cid, "contact", str(contact["id"])):
            if not link.opted_out and link.entity in PEOPLE and p.connection.entities.of(link.entity).pulls:
                due.setdefault(link.entity, []).append(link)
    for entity, links in due.items():
        plan = Plan(entity, actions=[Action("opt_out", lk.dynamics_id, lk.email or "", item=lk) for lk in links],
                    writer=OptOutWriter())
        await p.sink.apply(p, plan)


class OptOutWriter:
    async def write(self, p: Pass, plan: Plan) -> None:
        saved: list[RecordLink] = []
        for action in plan.actions:
            link: RecordLink = action.item
            try:
                await p.dv.update(ENTITY_SET[link.entity], link.dynamics_id, {BULK_EMAIL: True}, if_match="*")
            except (SkippableError, RetriableError) as e:
                await p.sink.fail(Failure(link.entity, link.dynamics_id, e.error_code,
                                          f"opt-out from ActiveCampaign: {e}", side="dynamics"))
                continue
            link.opted_out, link.dynamics_opt_out = True, True
            history.add(link, at=p.clock.now(), run_id=p.run.run_id, direction="pull", why="opt-out",
                        changes={BULK_EMAIL: (False, True)})
            p.count(link.entity, "opted_out_from_ac")
            saved.append(link)
        await p.sink.save_links(saved)
