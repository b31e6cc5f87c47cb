"""A contact's account in ActiveCampaign: the ``accountContacts`` association and its job title.

AC keeps a contact's account and job title on the association (a contact has one account at
most). Bulk import can name the account (``customer_acct_name``), but whether that links an
existing account is a register entry, so every association is verified: for many contacts
the associations are listed once (100 a call), for a few they are read per contact; missing
ones are created, wrong ones replaced, titles updated.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any, Literal

from sync_core.engine.fanout import fan_out
from sync_core.engine.pass_state import Pass
from sync_core.engine.sink import Failure
from sync_core.model.codes import ErrorCode
from sync_core.model.errors import RetriableError, SkippableError
from sync_core.model.state import RecordLink

log = logging.getLogger("sync_core.engine")

LIST_ALL_THRESHOLD = 100
"""With more contacts than this to check, listing every association is cheaper than asking per contact."""
ACCOUNT = "account"
TITLE = "accountContact.jobTitle"


Known = Literal["read", "absent", "linked"]
"""What is known of a contact's association before asking AC: nothing (read it); none exists (a
contact new to AC whose import did not link it); the import linked it to ``ac_account_id``."""


@dataclass(slots=True)
class Association:
    link: RecordLink
    ac_account_id: str | None
    job_title: str | None
    title_mapped: bool = True
    known: Known = "read"
    read_alone: bool = False
    """Read this contact's association on its own: it may be newer than the pass's listing."""
    learn: bool = False
    """A new contact whose import named its account: what AC did tells the import's reading."""
    assumed: bool = False
    """``known`` comes from the learnt reading, not from this row."""


async def preload_account_contacts(p: Pass) -> None:
    """List every association once for this pass (100 a call)."""
    if p.caches.account_contacts is None and "account" not in p.outcome.unavailable:
        table: dict[str, dict[str, Any]] = {}
        p.caches.account_contacts_at = p.clock.now()
        async for ac_row in p.ac.iter_account_contacts():
            table[str(ac_row.get("contact"))] = ac_row
        p.caches.account_contacts = table


async def _existing(p: Pass, work: list[Association]) -> dict[str, dict[str, Any]]:
    listed = [w for w in work if not w.read_alone]
    if p.caches.account_contacts is None and len(listed) > LIST_ALL_THRESHOLD:
        await preload_account_contacts(p)
    out = p.caches.account_contacts if p.caches.account_contacts is not None else {}
    alone = [w for w in work if p.caches.account_contacts is None or w.read_alone]

    async def read(item: Association) -> None:
        contact_id = str(item.link.ac_id)
        out.pop(contact_id, None)
        async for ac_row in p.ac.iter_account_contacts(contact_id=contact_id):
            out[contact_id] = ac_row

    await fan_out(alone, read, key=lambda w: str(w.link.ac_id))
    return out


def _observe(p: Pass, read: list[Association], existing: dict[str, dict[str, Any]]) -> None:
    """What AC did with the imports that named the accounts of these new contacts."""
    for item in read:
        if item.learn and item.ac_account_id is not None:
            current = existing.get(str(item.link.ac_id))
            linked = current is not None and str(current.get("account")) == item.ac_account_id
            p.imports.seen[linked] = p.imports.seen.get(linked, 0) + 1
            if p.imports.learnt is not None and linked != p.imports.learnt:
                p.imports.learnt = None


async def ensure_associations(p: Pass, work: list[Association]) -> None:
    """Make AC's association of each contact match; failures are recorded per contact."""
    work = [w for w in work if w.link.ac_id]
    if not work or "account" in p.outcome.unavailable:
        return
    to_read = [w for w in work if w.known == "read"]
    existing = await _existing(p, to_read) if to_read else {}
    _observe(p, to_read, existing)
    doubtful = [w for w in work if w.assumed and p.imports.learnt is None]
    if doubtful:  # a sample contradicted the learnt reading: what was assumed is read instead
        for w in doubtful:
            w.known, w.read_alone, w.assumed = "read", True, False
        existing.update(await _existing(p, doubtful))
        _observe(p, doubtful, existing)

    async def one(item: Association) -> None:
        await _ensure_one(p, item, existing)

    await fan_out(work, one, key=lambda w: str(w.link.ac_id))


async def _ensure_one(p: Pass, item: Association, existing: dict[str, dict[str, Any]]) -> None:
    contact_id = str(item.link.ac_id)
    if item.known == "read":
        current = existing.get(contact_id)
    elif item.known == "linked":
        # The import linked it (the learnt reading) and there is no title to set: nothing to send.
        item.link.ac_values[ACCOUNT] = item.ac_account_id
        if item.title_mapped:
            item.link.ac_values[TITLE] = item.job_title
        return
    else:
        current = None
    try:
        if item.ac_account_id is None:
            if current is not None:
                await p.ac.delete_account_contact(str(current["id"]))
                existing.pop(contact_id, None)
        elif current is not None and str(current.get("account")) == item.ac_account_id:
            if item.title_mapped and (current.get("jobTitle") or None) != (item.job_title or None):
                await p.ac.update_account_contact(str(current["id"]), job_title=item.job_title or "")
                current["jobTitle"] = item.job_title
        else:
            if current is not None:
                await p.ac.delete_account_contact(str(current["id"]))
            created = await p.ac.create_account_contact(
                item.ac_account_id, contact_id, job_title=item.job_title if item.title_mapped else None)
            existing[contact_id] = {"id": created.get("id"), "account": item.ac_account_id,
                                    "contact": contact_id, "jobTitle": item.job_title}
            p.count(item.link.entity, "account_linked")
    except SkippableError as e:
        if item.known == "read":
            await _record_failure(p, item, e)
            return
        # It was taken to have no association, but AC refused the create: it has one (a pass
        # killed after creating it, or the import's reading changed). Read it and make it right.
        item.known, item.read_alone, item.assumed = "read", True, False
        await ensure_associations(p, [item])
        return
    except RetriableError as e:
        await _record_failure(p, item, e)
        return
    item.link.ac_values[ACCOUNT] = item.ac_account_id
    if item.title_mapped:
        item.link.ac_values[TITLE] = item.job_title


async def _record_failure(p: Pass, item: Association, e: Exception) -> None:
    await p.sink.fail(Failure(item.link.entity, item.link.dynamics_id, ErrorCode.ACCOUNT_CONTACT,
                              f"account association: {type(e).__name__}: {e}"))
    # Make the account columns count as unsent, so the retry does it again.
    item.link.dynamics_values.pop("parentcustomerid", None)
