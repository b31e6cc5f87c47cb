"""Dynamics merges: the merged-away record's link follows the winner (DESIGN.md §5).

A merge deactivates the losing record (``merged``, ``masterid`` → the winner) and is not a delete.
The loser stops syncing. Its AC record becomes the winner's when the winner has none (the winner
is then pushed, so the AC record takes the winner's values); when the winner has its own, the
loser's link is dropped and its AC record left as it is (deleting is a policy, not a side effect).
Merging the duplicates the sync reports (two records of one email or name) clears that report.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import Any

from sync_core.engine import history
from sync_core.engine.pass_state import PRIMARY_ID, Pass
from sync_core.engine.sink import Action, Failure, Plan
from sync_core.model.codes import ErrorCode
from sync_core.model.state import EntityName, RecordLink

Record = Mapping[str, Any]

MERGE_COLUMNS = ("merged", "_masterid_value")
"""Read with every record of a table that Dynamics merges (accounts, contacts, leads)."""
MERGEABLE: frozenset[str] = frozenset({"account", "contact", "lead"})


def merged_into(record: Mapping[str, Any]) -> str | None:
    """The winner's id when ``record`` was merged into another record, else ``None``."""
    winner = record.get("_masterid_value")
    return str(winner) if record.get("merged") and winner else None


class MergeWriter:
    """Moves or drops the losers' links; remembers the winners that took one (pushed at once)."""

    def __init__(self, entity: EntityName, winner_links: dict[str, RecordLink]) -> None:
        self.entity = entity
        self.winner_links = winner_links
        self.to_push: list[str] = []

    async def write(self, p: Pass, plan: Plan) -> None:
        for action in plan.actions:
            link, winner_id = action.item
            p.count(self.entity, "merged")
            if winner_id not in self.winner_links:
                moved = dataclasses.replace(link, dynamics_id=winner_id, etag=None, index_keys=None,
                                            dynamics_etag=None, history=list(link.history))
                history.add(moved, at=p.clock.now(), run_id=p.run.run_id, direction="push", why="merge",
                            changes={"record": (action.record_id, winner_id)})
                await p.sink.save_links([moved])
                self.winner_links[winner_id] = moved
                self.to_push.append(winner_id)
            await p.checkpoint("after_merge_link_moved", {"entity": self.entity, "loser": action.record_id})
            await p.sink.delete_link(link)


async def follow_merges(p: Pass, entity: EntityName, records: Sequence[Record],
                        open_errors: set[str]) -> tuple[list[Record], list[str]]:
    """Hand the links of this page's merged-away records to their winners.

    Returns the records that were not merged away (the rest stop syncing: counted ``skipped_merged``)
    and the winners that took a link: their values must be pushed now (a merge changes the winner
    only when the merge updated its fields, so it may not be in any read).
    """
    if entity not in MERGEABLE:
        return list(records), []
    id_col = PRIMARY_ID[entity]
    losers = {str(r[id_col]): w for r in records if (w := merged_into(r)) is not None}
    kept = [r for r in records if str(r[id_col]) not in losers]
    if not losers:
        return kept, []
    p.count(entity, "skipped_merged", len(losers))
    links = await p.store.get_links(p.cid, entity, sorted(losers))
    winner_links = await p.store.get_links(p.cid, entity, sorted(set(losers.values())))
    writer = MergeWriter(entity, winner_links)
    plan = Plan(entity, writer=writer)
    for loser_id, winner_id in sorted(losers.items()):
        link = links.get(loser_id)
        if link is not None and link.ac_id is None:
            # A bulk import's row: the link is completed by this record's id. Retried once it is.
            plan.failures.append(Failure(
                entity, loser_id, ErrorCode.MERGE_PENDING, counted_as="",
                cause=f"merged into {winner_id}; its AC record is still being created, the link follows after"))
            continue
        if link is not None:
            plan.actions.append(Action("follow_merge", loser_id, link.email or "", f"merged into {winner_id}",
                                       item=(link, winner_id)))
        if loser_id in open_errors:
            # The loser syncs no more: its error (often the duplicate the merge resolved) is moot.
            plan.cleared.append(loser_id)
            open_errors.discard(loser_id)
    await p.sink.apply(p, plan)
    return kept, writer.to_push
