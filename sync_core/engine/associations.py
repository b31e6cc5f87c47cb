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

from sync_core.engine.context import PassContext
from sync_core.model.errors import RetriableError, SkippableError
from sync_core.model.state import RecordError, RecordLink

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


async def preload_account_contacts(ctx: PassContext) -> None:
    """List every association once for this pass (100 a call)."""
    if ctx.account_contacts is None and "account" not in ctx.unavailable:
        table: dict[str, dict[str, Any]] = {}
        async for ac_row in ctx.ac.iter_account_contacts():
            table[str(ac_row.get("contact"))] = ac_row
        ctx.account_contacts = table


async def _existing(ctx: PassContext, work: list[Association]) -> dict[str, dict[str, Any]]:
    listed = [w for w in work if not w.read_alone]
    if ctx.account_contacts is None and len(listed) > LIST_ALL_THRESHOLD:
        await preload_account_contacts(ctx)
    out = ctx.account_contacts if ctx.account_contacts is not None else {}
    for item in work:
        if ctx.account_contacts is not None and not item.read_alone:
            continue
        contact_id = str(item.link.ac_id)
        out.pop(contact_id, None)
        async for ac_row in ctx.ac.iter_account_contacts(contact_id=contact_id):
            out[contact_id] = ac_row
    return out


def _observe(ctx: PassContext, read: list[Association], existing: dict[str, dict[str, Any]]) -> None:
    """What AC did with the imports that named the accounts of these new contacts."""
    for item in read:
        if item.learn and item.ac_account_id is not None:
            current = existing.get(str(item.link.ac_id))
            linked = current is not None and str(current.get("account")) == item.ac_account_id
            ctx.import_link_seen[linked] = ctx.import_link_seen.get(linked, 0) + 1
            if ctx.import_links_accounts is not None and linked != ctx.import_links_accounts:
                ctx.import_links_accounts = None


async def ensure_associations(ctx: PassContext, work: list[Association]) -> None:
    """Make AC's association of each contact match; failures are recorded per contact."""
    work = [w for w in work if w.link.ac_id]
    if not work or ctx.dry_run or "account" in ctx.unavailable:
        return
    to_read = [w for w in work if w.known == "read"]
    existing = await _existing(ctx, to_read) if to_read else {}
    _observe(ctx, to_read, existing)
    doubtful = [w for w in work if w.assumed and ctx.import_links_accounts is None]
    if doubtful:  # a sample contradicted the learnt reading: what was assumed is read instead
        for w in doubtful:
            w.known, w.read_alone, w.assumed = "read", True, False
        existing.update(await _existing(ctx, doubtful))
        _observe(ctx, doubtful, existing)
    for item in work:
        contact_id = str(item.link.ac_id)
        if item.known == "read":
            current = existing.get(contact_id)
        elif item.known == "linked":
            # The import linked it (the learnt reading) and there is no title to set: nothing to send.
            item.link.ac_values[ACCOUNT] = item.ac_account_id
            if item.title_mapped:
                item.link.ac_values[TITLE] = item.job_title
            continue
        else:
            current = None
        try:
            if item.ac_account_id is None:
                if current is not None:
                    await ctx.ac.delete_account_contact(str(current["id"]))
                    existing.pop(contact_id, None)
            elif current is not None and str(current.get("account")) == item.ac_account_id:
                if item.title_mapped and (current.get("jobTitle") or None) != (item.job_title or None):
                    await ctx.ac.update_account_contact(str(current["id"]), job_title=item.job_title or "")
                    current["jobTitle"] = item.job_title
            else:
                if current is not None:
                    await ctx.ac.delete_account_contact(str(current["id"]))
                created = await ctx.ac.create_account_contact(
                    item.ac_account_id, contact_id, job_title=item.job_title if item.title_mapped else None)
                existing[contact_id] = {"id": created.get("id"), "account": item.ac_account_id,
                                        "contact": contact_id, "jobTitle": item.job_title}
                ctx.run.count(item.link.entity, "account_linked")
        except SkippableError as e:
            if item.known == "read":
                await _record_failure(ctx, item, e)
                continue
            # It was taken to have no association, but AC refused the create: it has one (a pass
            # killed after creating it, or the import's reading changed). Read it and make it right.
            item.known, item.read_alone, item.assumed = "read", True, False
            await ensure_associations(ctx, [item])
            continue
        except RetriableError as e:
            await _record_failure(ctx, item, e)
            continue
        item.link.ac_values[ACCOUNT] = item.ac_account_id
        if item.title_mapped:
            item.link.ac_values[TITLE] = item.job_title


async def _record_failure(ctx: PassContext, item: Association, e: Exception) -> None:
    ctx.run.count(item.link.entity, "errors")
    now = ctx.clock.now()
    await ctx.store.record_error(ctx.cid, RecordError(
        entity=item.link.entity, side="activecampaign", record_id=item.link.dynamics_id,
        cause=f"account association: {type(e).__name__}: {e}", code="account_contact",
        first_seen=now, last_seen=now))
    # Make the account columns count as unsent, so the retry does it again.
    item.link.dynamics_values.pop("parentcustomerid", None)
