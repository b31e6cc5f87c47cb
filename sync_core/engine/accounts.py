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
from dataclasses import dataclass
from typing import Any

from sync_core.engine import deletes, history
from sync_core.engine.fanout import fan_out
from sync_core.engine.handler import Record, select_for
from sync_core.engine.mapping import ac_values_for, changed_columns, dynamics_values, own_write, parse_ac_time
from sync_core.engine.pass_state import PRIMARY_ID, Pass
from sync_core.engine.sink import Action, Failure, Plan
from sync_core.model.codes import ErrorCode
from sync_core.model.config import FieldMapping
from sync_core.model.errors import ConflictError, NotFoundError, PlanLimitError, RetriableError, SkippableError
from sync_core.model.state import EntityName, RecordLink

log = logging.getLogger("sync_core.engine")

NAME = "name"


class AccountsUnavailable(Exception):
    """The AC plan has no accounts API."""


async def ac_account_index(p: Pass) -> dict[str, str]:
    """Lower-cased AC account name → id, listed once per pass when a full read needs it."""
    if p.caches.ac_accounts is None:
        index: dict[str, str] = {}
        try:
            async for a in p.ac.iter_accounts():
                index[str(a.get("name") or "").strip().lower()] = str(a["id"])
        except PlanLimitError as e:
            raise AccountsUnavailable(str(e)) from e
        p.caches.ac_accounts = index
    return p.caches.ac_accounts


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


@dataclass(slots=True)
class _Planned:
    record: Mapping[str, Any]
    values: dict[str, Any]
    link: RecordLink | None
    changed: list[str]
    name: str


class AccountHandler:
    entity: EntityName = "account"

    def __init__(self, p: Pass) -> None:
        self.fields = p.connection.entities.of("account").fields_for("push")
        self.open_errors: set[str] = set()
        self._full_read = False

    async def prepare(self, p: Pass) -> list[str]:
        return select_for(p, "account", self.fields)

    async def plan(self, p: Pass, records: Sequence[Record], *, full_read: bool) -> Plan:
        plan = Plan("account", writer=self)
        self._full_read = full_read
        if full_read:
            await ac_account_index(p)  # listed once: the writes adopt AC accounts by name from it
        id_col = PRIMARY_ID["account"]
        links = await p.store.get_links(p.cid, "account", [str(r[id_col]) for r in records])
        for r in sorted(records, key=lambda r: (str(r.get("createdon") or ""), str(r[id_col]))):
            did = str(r[id_col])
            values = dynamics_values(r, self.fields)
            name = str(values.get(NAME) or "").strip()
            if not name:
                p.count("account", "skipped_no_name")
                continue
            link = links.get(did)
            changed = changed_columns(values, link.dynamics_values if link else None)
            if link is not None and not changed:
                p.count("account", "skipped_echo" if own_write(r, link) else "unchanged")
                if did in self.open_errors:
                    plan.cleared.append(did)
                    self.open_errors.discard(did)
                continue
            plan.actions.append(Action("create" if link is None else "update", did, name,
                                       item=_Planned(r, values, link, changed, name)))
        return plan

    async def write(self, p: Pass, plan: Plan) -> None:
        index = p.caches.ac_accounts if self._full_read else None
        saved: list[RecordLink] = []
        claimed: dict[str, str] = {}  # AC account id → the Dynamics account that took it in this page
        def out_of_time() -> bool:
            if saved and p.time.out():
                # One call per account: a page can outlast the pass. Stop here, keep what is linked;
                # the page is read again and its linked accounts compare unchanged.
                p.time.page_cut = True
                return True
            return False

        async def one(action: Action) -> None:
            link = await self._write_one(p, action.record_id, action.item, index, claimed)
            if link is None:
                return
            saved.append(link)
            claimed[str(link.ac_id)] = action.record_id
            if index is not None:
                index[action.item.name.lower()] = str(link.ac_id)
            if action.record_id in self.open_errors:
                await p.sink.clear("account", action.record_id)
                self.open_errors.discard(action.record_id)

        # Accounts of one name one after another, oldest first: the first takes the name, the others are reported.
        await fan_out(plan.actions, one, key=lambda a: a.item.name.lower(), stop=out_of_time)
        await p.checkpoint("after_ac_write", {"entity": "account", "count": len(saved)})
        await p.sink.save_links(saved)
        await p.checkpoint("after_links_saved", {"entity": "account", "count": len(saved)})

    async def _write_one(self, p: Pass, did: str, x: _Planned, index: dict[str, str] | None,
                         claimed: dict[str, str]) -> RecordLink | None:
        link = x.link
        sent = ac_values_for(self.fields, x.values, set(x.changed) | ({NAME} if link is None else set()))
        try:
            if link is None:
                ac_id = await _adopt_or_create(p, did, x.name, self.fields, sent, index, claimed)
                if ac_id is None:
                    return None
                link = RecordLink(entity="account", dynamics_id=did, ac_id=ac_id)
                p.count("account", "created")
            else:
                assert link.ac_id is not None
                updated = await p.ac.update_account(link.ac_id, account_body(self.fields, sent))
                # AC's own time of this write: the account scan then knows the change is ours (an echo).
                link.ac_modified = parse_ac_time(updated.get("updatedTimestamp")) or link.ac_modified
                p.count("account", "updated")
        except (SkippableError, RetriableError) as e:
            if isinstance(e, NotFoundError) and link is not None:
                await deletes.ac_deleted(p, link)  # deleted in AC: unlinked (created again when it next changes)
                return None
            await p.sink.fail(Failure("account", did, e.error_code, f"{type(e).__name__}: {e}",
                                      retriable=not isinstance(e, ConflictError)))
            return None
        before = dict(link.dynamics_values)
        link.dynamics_values = dict(x.values)
        history.pushed(link, before, at=p.clock.now(), run_id=p.run.run_id)
        etag = x.record.get("@odata.etag")
        link.dynamics_etag = str(etag) if etag else link.dynamics_etag
        link.ac_values = {**link.ac_values, **sent}
        link.dynamics_modified = parse_ac_time(x.record.get("modifiedon")) or link.dynamics_modified
        link.synced_at = p.clock.now()
        return link


async def _adopt_or_create(p: Pass, did: str, name: str, fields: Sequence[FieldMapping],
                           sent: dict[str, Any], index: dict[str, str] | None,
                           claimed: dict[str, str]) -> str | None:
    existing_id: str | None
    if index is not None:
        existing_id = index.get(name.lower())
    else:
        try:
            found = await p.ac.find_account_by_name(name)
        except PlanLimitError as e:
            raise AccountsUnavailable(str(e)) from e
        existing_id = str(found["id"]) if found else None
    if existing_id is not None:
        holders = [h.dynamics_id for h in await p.store.get_links_by_ac(p.cid, "account", existing_id)]
        if existing_id in claimed:
            holders.append(claimed[existing_id])
        other = [h for h in holders if h != did]
        if other:
            await p.sink.fail(Failure("account", did, ErrorCode.DUPLICATE_NAME, retriable=False,
                                      cause=f"another Dynamics account ({other[0]}) is linked to the "
                                            f"ActiveCampaign account named {name!r}; only the oldest is linked"))
            return None
        await p.ac.update_account(existing_id, account_body(fields, sent))
        p.count("account", "adopted")
        return existing_id
    created = await p.ac.create_account(account_body(fields, sent))
    return str(created["id"])
