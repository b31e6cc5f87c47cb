"""Pending links (a bulk import's rows, whose AC ids arrive later): completed, or failed.

A completed link gets its account association first, then the link is saved, so a kill in between
leaves it pending and the next pass does both again. Completions go through the sink: a dry run
only counts them.
"""

from __future__ import annotations

from dataclasses import dataclass

from sync_core.engine.associations import Association, ensure_associations
from sync_core.engine.pass_state import Pass
from sync_core.engine.people_rows import title_on_association
from sync_core.engine.sink import Action, Failure, Plan
from sync_core.model.codes import ErrorCode
from sync_core.model.state import EntityName, ImportRow, RecordLink

VERIFY_EVERY = 50
"""With the import's reading learnt, still read one association in this many: a change shows."""


@dataclass(slots=True)
class Completion:
    """A pending link whose AC id is now known, and what is known of its AC contact."""

    link: RecordLink
    row: ImportRow
    new: bool = False
    """AC created the contact for this row: it has no association the import did not make."""
    listed: bool = True
    """Its import was processed before this pass listed the associations."""


async def apply_completions(p: Pass, entity: EntityName, done: list[Completion]) -> None:
    """Pending links whose AC ids are now known, completed through the sink (a dry run counts them)."""
    plan = Plan(entity, actions=[Action("complete_link", c.link.dynamics_id, c.row.email, item=c) for c in done],
                writer=_Completer())
    await p.sink.apply(p, plan)


class _Completer:
    async def write(self, p: Pass, plan: Plan) -> None:
        await complete_links(p, [a.item for a in plan.actions])


async def complete_links(p: Pass, done: list[Completion]) -> None:
    """Pending links whose AC ids are now known: their account associations first, then the
    links, so a kill in between leaves them pending and the next pass does both again."""
    assocs: list[Association] = []
    for c in done:
        if not c.row.associate:
            continue
        title_mapped = title_on_association(p.connection.entities.of(c.row.entity).fields_for("push"))
        a = Association(c.link, c.row.ac_account_id, c.row.job_title, title_mapped)
        if c.new:
            _what_is_known(p, a, c)
        assocs.append(a)
    await ensure_associations(p, assocs)
    await p.checkpoint("after_associations", {"count": len(assocs)})
    await p.sink.save_links([c.link for c in done])
    if p.imports.assumed and p.imports.learnt is None:
        # A sample contradicted the learnt reading: what earlier chunks took from it is read again.
        again, p.imports.assumed = [a for a in p.imports.assumed if a.assumed], []
        for a in again:
            a.known, a.read_alone, a.learn, a.assumed = "read", True, True, False
        await ensure_associations(p, again)
        await p.sink.save_links([a.link for a in again])


def _what_is_known(p: Pass, a: Association, c: Completion) -> None:
    """A contact AC created for this row has only the association its import made, if any."""
    learnt = p.imports.learnt
    a.read_alone = not c.listed
    if a.ac_account_id is None or not c.row.account_named:
        a.known = "absent"
        return
    a.learn = True
    if learnt is None:
        return  # read it, and learn the reading from it
    p.imports.verify_count += 1
    if p.imports.verify_count % VERIFY_EVERY == 1:
        a.read_alone = True  # a sample (the pass's first, then one in VERIFY_EVERY) checks the reading
        return
    if learnt is False:
        a.known = "absent"
    elif not (a.title_mapped and a.job_title):
        a.known = "linked"
    else:
        return
    a.assumed = True
    p.imports.assumed.append(a)


async def row_failed(p: Pass, row: ImportRow) -> None:
    """A row AC accepted but failed while importing: make its columns count as unsent again."""
    link = await p.store.get_link(p.cid, row.entity, row.dynamics_id)
    if link is not None:
        if link.ac_id is None:
            await p.sink.delete_link(link)
        else:
            for col in row.columns:
                link.dynamics_values.pop(col, None)
            await p.sink.save_links([link])
    await p.sink.fail(Failure(row.entity, row.dynamics_id, ErrorCode.IMPORT_ROW_FAILED,
                              f"bulk import failed for {row.email} inside ActiveCampaign",
                              detail={"batch": "failed-row"}))
