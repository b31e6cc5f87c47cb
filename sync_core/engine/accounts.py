"""Dynamics accounts → ActiveCampaign accounts (1:1 links).

AC account names are unique, Dynamics names are not: among Dynamics accounts with one name
the oldest is linked and the rest are reported. An AC account that already has the name and
is linked to nothing is adopted rather than duplicated. Fields cannot come through bulk
import, so every account costs one create or update call; on an initial read or backfill the
AC accounts are listed once (100 a call) instead of searched one by one. A plan without the
accounts API makes the whole entity unavailable, reported once, not failed record by record.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

from sync_core.engine.context import PRIMARY_ID, PassContext
from sync_core.engine.criteria import matches
from sync_core.engine.mapping import ac_values_for, changed_columns, dynamics_values, parse_ac_time
from sync_core.engine.merges import merged_into
from sync_core.model.config import FieldMapping
from sync_core.model.errors import ConflictError, PlanLimitError, RetriableError, SkippableError
from sync_core.model.state import EntityName, RecordError, RecordLink

log = logging.getLogger("sync_core.engine")

NAME = "name"


class AccountsUnavailable(Exception):
    """The AC plan has no accounts API."""


async def ac_account_index(ctx: PassContext) -> dict[str, str]:
    """Lower-cased AC account name → id, listed once per pass when a full read needs it."""
    if ctx.ac_accounts is None:
        index: dict[str, str] = {}
        try:
            async for a in ctx.ac.iter_accounts():
                index[str(a.get("name") or "").strip().lower()] = str(a["id"])
        except PlanLimitError as e:
            raise AccountsUnavailable(str(e)) from e
        ctx.ac_accounts = index
    return ctx.ac_accounts


def account_body(fields: Sequence[FieldMapping], values: Mapping[str, Any]) -> dict[str, Any]:
    body: dict[str, Any] = {}
    custom: list[dict[str, Any]] = []
    for key, v in values.items():
        if key.startswith("field:"):
            custom.append({"customFieldId": int(key.split(":", 1)[1]), "fieldValue": "" if v is None else v})
        else:
            body[key] = "" if v is None else v
    if custom:
        body["fields"] = custom
    return body


async def process_page(ctx: PassContext, fields: Sequence[FieldMapping], records: Sequence[Mapping[str, Any]],
                       *, open_errors: set[str], full_read: bool) -> None:
    entity: EntityName = "account"
    mapping = ctx.connection.entities.accounts
    id_col = PRIMARY_ID[entity]
    index = await ac_account_index(ctx) if full_read else None
    links = await ctx.store.get_links(ctx.cid, entity, [str(r[id_col]) for r in records])
    ctx.run.count(entity, "read", len(records))
    saved: list[RecordLink] = []
    claimed: dict[str, str] = {}  # AC account id → the Dynamics account that took it in this page
    for r in sorted(records, key=lambda r: (str(r.get("createdon") or ""), str(r[id_col]))):
        if saved and ctx.out_of_time():
            # One call per account: a page can outlast the pass. Stop here, keep what is linked;
            # the page is read again and its linked accounts compare unchanged.
            ctx.page_cut = True
            break
        did = str(r[id_col])
        if merged_into(r) is not None:  # merged away: its link went to the winner (merges.py)
            ctx.run.count(entity, "skipped_merged")
            continue
        if mapping.scope == "criteria" and not matches(r, mapping.criteria):
            ctx.run.count(entity, "skipped_criteria")
            continue
        values = dynamics_values(r, fields)
        name = str(values.get(NAME) or "").strip()
        if not name:
            ctx.run.count(entity, "skipped_no_name")
            continue
        link = links.get(did)
        changed = changed_columns(values, link.dynamics_values if link else None)
        if link is not None and not changed:
            ctx.run.count(entity, "unchanged")
            await _cleared(ctx, did, open_errors)
            continue
        if ctx.dry_run:
            ctx.run.count(entity, "would_create" if link is None else "would_update")
            ctx.sample(entity, "create" if link is None else "update", did, name)
            continue
        sent = ac_values_for(fields, values, set(changed) | ({NAME} if link is None else set()))
        try:
            if link is None:
                ac_id = await _adopt_or_create(ctx, did, name, fields, sent, index, claimed)
                if ac_id is None:
                    continue
                link = RecordLink(entity=entity, dynamics_id=did, ac_id=ac_id)
                ctx.run.count(entity, "created")
            else:
                assert link.ac_id is not None
                await ctx.ac.update_account(link.ac_id, account_body(fields, sent))
                ctx.run.count(entity, "updated")
        except (SkippableError, RetriableError) as e:
            await _fail(ctx, did, f"{type(e).__name__}: {e}", code=type(e).__name__,
                        retriable=not isinstance(e, ConflictError))
            continue
        link.dynamics_values = dict(values)
        link.ac_values = {**link.ac_values, **sent}
        link.dynamics_modified = parse_ac_time(r.get("modifiedon")) or link.dynamics_modified
        link.synced_at = ctx.clock.now()
        saved.append(link)
        claimed[str(link.ac_id)] = did
        if index is not None:
            index[name.lower()] = str(link.ac_id)
        await _cleared(ctx, did, open_errors)
    await ctx.checkpoint("after_ac_write", {"entity": entity, "count": len(saved)})
    if saved:
        await ctx.store.save_links(ctx.cid, saved)
    await ctx.checkpoint("after_links_saved", {"entity": entity, "count": len(saved)})


async def _adopt_or_create(ctx: PassContext, did: str, name: str, fields: Sequence[FieldMapping],
                           sent: dict[str, Any], index: dict[str, str] | None,
                           claimed: dict[str, str]) -> str | None:
    existing_id: str | None
    if index is not None:
        existing_id = index.get(name.lower())
    else:
        try:
            found = await ctx.ac.find_account_by_name(name)
        except PlanLimitError as e:
            raise AccountsUnavailable(str(e)) from e
        existing_id = str(found["id"]) if found else None
    if existing_id is not None:
        holders = [h.dynamics_id for h in await ctx.store.get_links_by_ac(ctx.cid, "account", existing_id)]
        if existing_id in claimed:
            holders.append(claimed[existing_id])
        other = [h for h in holders if h != did]
        if other:
            await _fail(ctx, did, f"another Dynamics account ({other[0]}) is linked to the "
                                  f"ActiveCampaign account named {name!r}; only the oldest is linked",
                        code="duplicate_name", retriable=False)
            return None
        await ctx.ac.update_account(existing_id, account_body(fields, sent))
        ctx.run.count("account", "adopted")
        return existing_id
    created = await ctx.ac.create_account(account_body(fields, sent))
    return str(created["id"])


async def _cleared(ctx: PassContext, did: str, open_errors: set[str]) -> None:
    if did in open_errors and not ctx.dry_run:
        await ctx.store.clear_error(ctx.cid, "account", "activecampaign", did)
        open_errors.discard(did)


async def _fail(ctx: PassContext, did: str, cause: str, *, code: str, retriable: bool = True) -> None:
    ctx.run.count("account", "errors")
    if ctx.dry_run:
        return
    now = ctx.clock.now()
    await ctx.store.record_error(ctx.cid, RecordError(entity="account", side="activecampaign", record_id=did,
                                                      cause=cause, code=code, retriable=retriable,
                                                      first_seen=now, last_seen=now))
