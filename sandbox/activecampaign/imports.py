"""Bulk import: validation, per-minute limits, and asynchronous processing on the sandbox clock.

A batch is queued on submit and processed by ``process_due_imports`` once the clock reaches
``submitted + switches["import_delay_seconds"]``; the gate calls it before every real request, so any later
request (including ``import/info``) sees the batch completed. Rows are processed in order, as of the due time.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .errors import ACError
from .events import emit
from .state import EMAIL_RE, ACState, as_int
from .timefmt import local_date

MAX_CONTACTS = 250
VALIDATION_MESSAGE = ("JSON payload did not pass validation. Please fix failure Reasons and retry. The import was "
                      "not queued for processing.")
MULTI_LIMIT_REASON = ("Up to 100 imports may be requested per minute.Please batch contacts into larger requests, or "
                      "retry this request in a minute.")
SINGLE_LIMIT_REASON = ("Up to 20 single-contact imports may be requested per minute.Please batch contacts into "
                       "larger requests, or retry this request in a minute.")


@dataclass
class ImportBatch:
    batch_id: str
    submitted: float
    due: float
    rows: list[dict[str, Any]]
    exclude_automations: bool
    completed: bool = False
    success: list[str] = field(default_factory=list)  # rendered per switch at processing time
    failure: list[str] = field(default_factory=list)
    contact_ids: list[int] = field(default_factory=list)


def _reason(field: str, text: str) -> str:
    return f"Field\u2018 {field}\u2019 {text}"


def _row_reasons(ac: ACState, row: Any) -> list[str]:
    if not isinstance(row, dict):
        return ["Contact must be an object"]
    reasons = []
    email = row.get("email")
    if not isinstance(email, str) or not EMAIL_RE.match(email.strip()):
        reasons.append(_reason("email", "incorrect format"))
    for key in ("first_name", "last_name", "phone", "customer_acct_name"):
        value = row.get(key)
        if value is not None and (isinstance(value, bool) or not isinstance(value, str | int | float)):
            reasons.append(_reason(key, "must be a string"))
    reasons += _list_reasons(row, "fields", lambda item: _field_reason(ac, item))
    tags = row.get("tags")
    if tags is not None and (not isinstance(tags, list) or not all(isinstance(t, str) for t in tags)):
        reasons.append(_reason("tags", "must be an array of strings"))
    reasons += _list_reasons(row, "subscribe", lambda item: _list_reason(ac, "subscribe", item))
    reasons += _list_reasons(row, "unsubscribe", lambda item: _list_reason(ac, "unsubscribe", item))
    return reasons


def _list_reasons(row: dict[str, Any], key: str, check: Callable[[Any], str | None]) -> list[str]:
    items = row.get(key)
    if items is None:
        return []
    if not isinstance(items, list):
        return [_reason(key, "must be an array")]
    return [reason for item in items if (reason := check(item)) is not None]


def _field_reason(ac: ACState, item: Any) -> str | None:
    fid = as_int(item.get("id")) if isinstance(item, dict) else None
    if fid is None or fid not in ac.fields:
        return _reason("fields", f"references unknown custom field {item!r}")
    value = item.get("value")
    values = value if isinstance(value, list) else [value]
    if any(v is not None and (isinstance(v, bool) or not isinstance(v, str | int | float)) for v in values):
        return _reason("fields", f"value of field {fid} must be a string")
    return None


def _list_reason(ac: ACState, key: str, item: Any) -> str | None:
    lid = as_int(item.get("listid")) if isinstance(item, dict) else None
    if lid is None or lid not in ac.lists:
        return _reason(key, f"references unknown list {item!r}")
    return None


def submit_import(ac: ACState, body: Any) -> tuple[int, dict[str, Any]]:
    contacts = body.get("contacts") if isinstance(body, dict) else None
    single = isinstance(contacts, list) and len(contacts) == 1
    window, reason = (ac.import_single, SINGLE_LIMIT_REASON) if single else (ac.import_multi, MULTI_LIMIT_REASON)
    if not window.try_admit(ac.now()):
        return 400, {"success": 0, "message": "Rate limit exceeded.", "failureReasons": [reason]}
    if not isinstance(contacts, list) or not contacts:
        return 400, {"success": 0, "message": VALIDATION_MESSAGE,
                     "failureReasons": ["'contacts' must be a non-empty array"]}
    if len(contacts) > MAX_CONTACTS:
        return 400, {"success": 0, "message": VALIDATION_MESSAGE,
                     "failureReasons": [f"Up to {MAX_CONTACTS} contacts may be imported per request."]}
    base = int(ac.switches["failure_row_base"])
    failures = [{"contact": index + base, "failureReason": text}
                for index, row in enumerate(contacts) for text in _row_reasons(ac, row)]
    if failures:
        return 400, {"success": 0, "message": VALIDATION_MESSAGE, "failureReasons": failures}
    now = ac.now()
    batch_id = str(uuid.UUID(int=ac.rng.getrandbits(128), version=4))
    batch = ImportBatch(batch_id=batch_id, submitted=now, due=now + float(ac.switches["import_delay_seconds"]),
                        rows=contacts, exclude_automations=bool(body.get("exclude_automations", False)))
    ac.imports[batch_id] = batch
    ac.pending_imports.append(batch)
    return 200, {"Success": 1, "queued_contacts": len(contacts), "batchId": batch_id,
                 "message": "Contact import queued"}


def process_due_imports(ac: ACState) -> None:
    if not ac.pending_imports:
        return
    now = ac.now()
    for batch in sorted(ac.pending_imports, key=lambda b: b.due):
        if batch.due <= now:
            _process(ac, batch)
            ac.pending_imports.remove(batch)


def _process(ac: ACState, batch: ImportBatch) -> None:
    pattern = ac.faults.import_fail_pattern
    for row in batch.rows:
        email = str(row["email"]).strip()
        if pattern and pattern in email:
            batch.failure.append(email)
            continue
        contact_id = _apply_row(ac, row, batch.due)
        batch.contact_ids.append(contact_id)
        batch.success.append(str(contact_id) if ac.switches["import_info_success"] == "ids" else email)
    batch.completed = True


def _apply_row(ac: ACState, row: dict[str, Any], at: float) -> int:
    source = "api" if ac.switches["import_fires_webhooks"] else None  # "mass operations do not fire" (register)
    names = {k: row[k] for k in ("first_name", "last_name", "phone") if row.get(k) is not None}
    fields = [{"field": int(item["id"]), "value": item.get("value")} for item in row.get("fields") or []]
    contact = ac.contact_by_email(str(row["email"]))
    if contact is None:
        contact = ac.create_contact({"email": str(row["email"]).strip(), **names, "fieldValues": fields}, at=at)
    else:
        changed = ac._apply_names(contact, names)
        changed |= ac.set_field_values(contact, fields, at=at)
        if changed or ac.switches["udate_on_import"]:
            contact.udate = at
        if changed and source is not None:
            emit(ac, "update", source, contact=contact)
    for name in row.get("tags") or []:
        ac.add_contact_tag(contact, ac.find_or_create_tag(name)["id"], at=at, source=source)
    unsubscribed = {cl["list"] for cl in ac.lists_of_contact(contact.id) if cl["status"] == 2}
    for item in row.get("subscribe") or []:
        lid = int(item["listid"])
        if lid not in unsubscribed:  # "Contacts cannot be subscribed to lists they previously unsubscribed from"
            ac.set_list_status(contact, lid, 1, at=at, source=source)
    for item in row.get("unsubscribe") or []:
        ac.set_list_status(contact, int(item["listid"]), 2, at=at, source=source)
    _apply_account(ac, contact.id, row.get("customer_acct_name"))
    return contact.id


def _apply_account(ac: ACState, contact_id: int, name: Any) -> None:
    mode = ac.switches["customer_acct_name"]
    if not isinstance(name, str) or not name.strip() or mode == "ignore" or not ac.has_feature("accounts"):
        return
    account = ac.account_named(name.strip())
    if account is None:
        if mode != "link_or_create":
            return
        account = ac.create_account(name.strip())
    if ac.account_of_contact(contact_id) is None:
        ac.link_account(contact_id, account["id"])


def import_info(ac: ACState, batch_id: str | None) -> dict[str, Any]:
    if not batch_id:
        raise ACError(400, {"success": 0, "message": "'batchId' is a required field."})
    batch = ac.imports.get(batch_id)
    if batch is None:
        raise ACError(404, {"success": 0, "message": f"No batch found with id {batch_id}"})
    if not batch.completed:
        return {"status": ac.switches["import_info_pending"], "success": [], "failure": []}
    return {"status": "completed", "success": list(batch.success), "failure": list(batch.failure)}


def import_status(ac: ACState) -> dict[str, Any]:
    zone = str(ac.switches["account_timezone"])
    groups: dict[tuple[bool, str], list[ImportBatch]] = {}
    for batch in ac.imports.values():
        groups.setdefault((batch.completed, local_date(batch.submitted, zone)), []).append(batch)

    def rows(done: bool) -> list[dict[str, str]]:
        return [{"forDate": day, "batches": str(len(items)), "contacts": str(sum(len(b.rows) for b in items))}
                for (completed, day), items in sorted(groups.items()) if completed is done]

    return {"outstanding": rows(False), "recentlyCompleted": rows(True)}
