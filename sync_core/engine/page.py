"""The per-page skeleton, written once for every entity and direction.

1. merges: merged-away records hand their links to the winners (a step of its own);
2. scope: merged-away records and records outside the entity's criteria drop out, counted once;
3. qualification: contacts qualified from a linked lead take over its AC contact;
4. the handler plans what is left (reads only) and the sink applies the plan;
5. winners that took a link are read and go through 2–4 too, with their own values.

A page is durable when this returns; only then does the reader move its cursor.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from sync_core.dynamics import parse_filter
from sync_core.engine import dynamics_reads, merges, qualification
from sync_core.engine.handler import EntityHandler, Record
from sync_core.engine.pass_state import PRIMARY_ID, Pass
from sync_core.model.config import EntityMapping


async def process_page(p: Pass, handler: EntityHandler, select: list[str], records: Sequence[Record], *,
                       full_read: bool) -> None:
    entity = handler.entity
    winners = await merges.follow_merges(p, entity, records, handler.open_errors)
    await plan_and_apply(p, handler, records, full_read=full_read, qualify=True)
    in_page = {str(r[PRIMARY_ID[entity]]) for r in records}
    rest = [w for w in winners if w not in in_page]
    if rest:  # the winners that took a link, pushed now with their own values
        again = await dynamics_reads.read_by_ids(p, entity, select, rest)
        await plan_and_apply(p, handler, again, full_read=False, qualify=False)


async def plan_and_apply(p: Pass, handler: EntityHandler, records: Sequence[Record], *, full_read: bool,
                         qualify: bool) -> None:
    entity = handler.entity
    in_scope = scope_of(p.connection.entities.of(entity))
    kept: list[Record] = []
    for r in records:
        if merges.merged_into(r) is not None:  # merged away: its link went to the winner
            p.count(entity, "skipped_merged")
        elif not in_scope(r):
            p.count(entity, "skipped_criteria")
        else:
            kept.append(r)
    if qualify and entity == "contact":
        await qualification.take_over_leads(p, kept)
    plan = await handler.plan(p, kept, full_read=full_read)
    p.count(entity, "read", len(records))  # after planning: an entity the AC plan lacks reads nothing
    await p.sink.apply(p, plan, handler)


def scope_of(mapping: EntityMapping) -> Callable[[Record], bool]:
    """The entity's ``in_scope``, with its custom filter (OData text) parsed once."""
    custom = parse_filter(mapping.custom_filter).matches if mapping.scope == "custom" and mapping.custom_filter \
        else None
    return lambda r: mapping.in_scope(r, custom=custom)
