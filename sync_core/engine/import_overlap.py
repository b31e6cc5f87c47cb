"""The import outcomes and new AC ids read between pages of a bulk-importing push (issue 23).

A push of many contacts waits on AC's 100 imports a minute while its 5/s budget idles; the
``import/info`` calls and the ``contacts.list`` reads that give the links their ids spend that
idle budget while imports are still to come, instead of all after the last one. It runs only
after a page's Dynamics cursor is saved (everything before it durable), and does what the AC read
at a pass's start does (:mod:`ac_reader`: links saved before the AC cursor moves past them), so a
kill in it resumes as a kill between passes would. The reads of updated contacts and the email
look-ups stay with the pass that follows the push.
"""

from __future__ import annotations

import logging

from sync_core.engine import ac_reader, imports
from sync_core.engine.pass_state import Pass
from sync_core.model.errors import RetriableError, SkippableError

log = logging.getLogger("sync_core.engine")


async def read_while_importing(p: Pass) -> None:
    """Confirm what AC has processed and read the new contacts' ids, if some import is open."""
    if not await p.store.list_imports(p.cid, status="submitted"):
        return
    cursor = await p.store.get_ac_cursor(p.cid, "contact")
    if cursor is None or cursor.position is None:
        return  # the pass's own AC read has not placed the cursor: new ids wait for the next pass
    try:
        await imports.check_imports(p, until_pending=True)
        await ac_reader.read_contacts(p, updated=False)
    except (SkippableError, RetriableError) as e:
        # Nothing is lost: the pass after the push confirms and reads again from the saved cursor.
        log.warning("import read during the push of %s: %s", p.cid, type(e).__name__)
        p.count("contact", "overlap_read_failed")
