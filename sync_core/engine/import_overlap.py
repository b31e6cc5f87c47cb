"""The import outcomes and new AC ids read between pages of a bulk-importing push (issue 23).

A push of many contacts waits on AC's 100 imports a minute while its 5/s budget idles; the
``import/info`` calls and the ``contacts.list`` reads that give the links their ids spend that
idle budget while imports are still to come, instead of all after the last one. It runs only
after a page's Dynamics cursor is saved (everything before it durable), and does what the AC read
at a pass's start does (:mod:`ac_reader`: links saved before the AC cursor moves past them), so a
kill in it resumes as a kill between passes would. The reads of updated contacts and the email
look-ups stay with the pass that follows the push.

After the push's last page the same read goes on while each look finds something new (an import
confirmed, a new contact read): AC processes imports a few seconds after they are sent, so the ids
of the last pages are read in this pass, while the budget is free, instead of in a follow-up pass
queued after a delay. A look that finds nothing (the oldest open import still processing, no new
contact) ends it: the follow-up pass comes when AC should have processed the rest.
"""

from __future__ import annotations

import logging

from sync_core.engine import ac_reader, imports
from sync_core.engine.fanout import AC_CALLS_IN_FLIGHT
from sync_core.engine.pass_state import Pass
from sync_core.model.errors import RetriableError, SkippableError

log = logging.getLogger("sync_core.engine")


async def read_while_importing(p: Pass, *, in_flight: int = 1) -> bool:
    """Confirm what AC has processed and read the new contacts' ids, if some import is open.

    Whether it found anything: an import confirmed or a new contact read. ``in_flight``: the
    ``import/info`` asks kept in flight as imports are found processed (``imports.check_imports``):
    1 between pages (the 100 imports a minute leave the 5/s idle there, and an ask past a processing
    import would be spent for nothing), more after the push, where the 5/s is what limits."""
    if not await p.store.list_imports(p.cid, status="submitted"):
        return False
    cursor = await p.store.get_ac_cursor(p.cid, "contact")
    if cursor is None or cursor.position is None:
        return False  # the pass's own AC read has not placed the cursor: new ids wait for the next pass
    read_before = p.run.counts.get("contact", {}).get("ac_read", 0)
    try:
        confirmed = await imports.check_imports(p, until_pending=True, width=in_flight)
        await ac_reader.read_contacts(p, updated=False)
    except (SkippableError, RetriableError) as e:
        # Nothing is lost: the pass after the push confirms and reads again from the saved cursor.
        log.warning("import read during the push of %s: %s", p.cid, type(e).__name__)
        p.count("contact", "overlap_read_failed")
        return False
    return bool(confirmed) or p.run.counts.get("contact", {}).get("ac_read", 0) > read_before


async def read_after_push(p: Pass) -> None:
    """After the push's last page: read on while AC processes the imports just sent (see above)."""
    while not p.time.out() and not p.time.more_work and await read_while_importing(p, in_flight=AC_CALLS_IN_FLIGHT):
        p.count("contact", "overlap_after_push")
