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

from sync_core.engine.context import PRIMARY_ID, PassContext
from sync_core.model.state import EntityName, RecordError

MERGE_COLUMNS = ("merged", "_masterid_value")
"""Read with every record of a table that Dynamics merges (accounts, contacts, leads)."""
MERGEABLE: frozenset[str] = frozenset({"account", "contact", "lead"})


def merged_into(record: Mapping[str, Any]) -> str | None:
    """The winner's id when ``record`` was merged into another record, else ``None``."""
    winner = record.get("_masterid_value")
    return str(winner) if record.get("merged") and winner else None


async def follow_merges(ctx: PassContext, entity: EntityName, records: Sequence[Mapping[str, Any]],
                        open_errors: set[str]) -> list[str]:
    """Hand the links of this page's merged-away records to their winners.

    Returns the winners that took a link: their values must be pushed now (a merge changes the
    winner only when the merge updated its fields, so it may not be in any read).
    """
    if entity not in MERGEABLE:
        return []
    id_col = PRIMARY_ID[entity]
    losers = {str(r[id_col]): w for r in records if (w := merged_into(r)) is not None}
    if not losers:
        return []
    links = await ctx.store.get_links(ctx.cid, entity, sorted(losers))
    winner_links = await ctx.store.get_links(ctx.cid, entity, sorted(set(losers.values())))
    to_push: list[str] = []
    for loser_id, winner_id in sorted(losers.items()):
        link = links.get(loser_id)
        if ctx.dry_run:
            if link is not None:
                ctx.run.count(entity, "would_follow_merge")
                ctx.sample(entity, "follow_merge", loser_id, link.email or "", f"merged into {winner_id}")
            continue
        if link is not None and link.ac_id is None:
            # A bulk import's row: the link is completed by this record's id. Retried once it is.
            await ctx.store.record_error(ctx.cid, RecordError(
                entity=entity, side="activecampaign", record_id=loser_id, code="merge_pending",
                cause=f"merged into {winner_id}; its AC record is still being created, the link follows after",
                first_seen=ctx.clock.now(), last_seen=ctx.clock.now()))
            continue
        if link is not None:
            ctx.run.count(entity, "merged")
            if winner_id not in winner_links:
                moved = dataclasses.replace(link, dynamics_id=winner_id, etag=None, index_keys=None)
                await ctx.store.save_links(ctx.cid, [moved])
                winner_links[winner_id] = moved
                to_push.append(winner_id)
                if ctx.link_index is not None:
                    ctx.link_index.add(entity, winner_id, moved.email, moved.ac_id)
            await ctx.checkpoint("after_merge_link_moved", {"entity": entity, "loser": loser_id})
            await ctx.store.delete_link(ctx.cid, link)
            if ctx.link_index is not None:
                ctx.link_index.remove(entity, loser_id)
        if loser_id in open_errors:
            # The loser syncs no more: its error (often the duplicate the merge resolved) is moot.
            await ctx.store.clear_error(ctx.cid, entity, "activecampaign", loser_id)
            open_errors.discard(loser_id)
    return to_push
