"""The in-memory AC account behind the routes (``app.state.ac``).

Records are plain dicts holding raw values (epoch-second timestamps, int ids); ``render.py`` turns them
into AC's JSON. Domain rules that more than one route needs (contact writes, udate, tags, lists) live here.
"""

from __future__ import annotations

import hashlib
import random
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import httpx

from sandbox.clock import SandboxClock, TimeSource

from . import attrs, membership
from .errors import ACError, jsonapi, no_result
from .events import emit
from .faults import Faults
from .index import SortedIds, StoreIndex, TimeIndex
from .latency import ANSWERS, PROFILES, LatencyProfile, check_clock
from .limits import SlidingWindow
from .switches import Switches

if TYPE_CHECKING:
    from .events import Delivery

PLAN_FEATURES: dict[str, frozenset[str]] = {
    "enterprise": frozenset({"accounts", "custom_objects", "scoring"}),
    "professional": frozenset({"accounts", "scoring"}),
    "plus": frozenset({"scoring"}),
    "starter": frozenset(),
    "lite": frozenset(),
}

NAME_KEYS = (("firstName", "first_name"), ("lastName", "last_name"), ("phone", "phone"), ("first_name", "first_name"),
             ("last_name", "last_name"))
EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
SINGLE_VALUE_TYPES = frozenset({"dropdown", "radio"})
MULTI_VALUE_TYPES = frozenset({"checkbox", "listbox", "multiselect"})
FIELD_TYPES = frozenset({"dropdown", "hidden", "checkbox", "date", "text", "datetime", "textarea", "NULL", "listbox",
                         "radio", "number", "multiselect"})


@dataclass
class Contact:
    id: int
    email: str
    cdate: float
    udate: float
    first_name: str = ""
    last_name: str = ""
    phone: str = ""
    field_values: dict[int, int] = field(default_factory=dict)  # field id -> fieldValue id
    bounced_hard: int = 0
    bounced_soft: int = 0
    soft_streak: int = 0  # soft bounces in a row
    bounced_date: float | None = None
    global_unsubscribed: bool = False
    on_udate: Callable[[int, float], None] | None = field(default=None, repr=False, compare=False)

    def __setattr__(self, name: str, value: Any) -> None:
        object.__setattr__(self, name, value)
        if name == "udate":  # keeps the udate index in step however udate is set (tests and seeding set it too)
            hook = self.__dict__.get("on_udate")
            if hook is not None:
                hook(self.id, value)


@dataclass
class RequestRecord:
    method: str
    path: str
    route: str | None
    status: int
    time: float


class ACState:
    """One AC account. Python helpers for tests are documented in the package docstring."""

    def __init__(self, *, clock: TimeSource | None, api_token: str, enforce_rate_limit: bool, seed: int,
                 plan: str) -> None:
        self.clock: TimeSource = clock if clock is not None else SandboxClock()
        self.api_token = api_token
        self.enforce_rate_limit = enforce_rate_limit
        self.seed = seed
        self.switches = Switches()
        self.webhook_transport: httpx.AsyncBaseTransport | None = None  # None: real HTTP (loopback)
        self.latency: LatencyProfile | None = None  # simulated per-route latency (latency.py)
        self.latency_waited = 0.0
        self.latency_answer = "clock"  # or "header": announce the latency instead of moving the clock (latency.py)
        self.faults = Faults()
        self.set_plan(plan)
        self.reset_data()

    # ----------------------------------------------------------------- lifecycle
    def reset_data(self) -> None:
        self.rng = random.Random(self.seed)
        self._next_ids: dict[str, int] = {}
        self.contacts: dict[int, Contact] = {}
        self.field_values: dict[int, dict[str, Any]] = {}
        self.tags: dict[int, dict[str, Any]] = {}
        self.contact_tags: dict[int, dict[str, Any]] = {}
        self.lists: dict[int, dict[str, Any]] = {}
        self.contact_lists: dict[int, dict[str, Any]] = {}
        self.fields: dict[int, dict[str, Any]] = {}
        self.field_options: dict[int, dict[str, Any]] = {}
        self.field_rels: dict[int, dict[str, Any]] = {}  # field <-> list (relid 0 = all lists)
        self.accounts: dict[int, dict[str, Any]] = {}
        self.account_contacts: dict[int, dict[str, Any]] = {}
        self.acf_meta: dict[int, dict[str, Any]] = {}
        self.acf_data: dict[int, dict[str, Any]] = {}
        self.automations: dict[int, dict[str, Any]] = {}
        self.contact_automations: dict[int, dict[str, Any]] = {}
        self.campaigns: dict[int, dict[str, Any]] = {}
        self.messages: dict[int, dict[str, Any]] = {}
        self.activities: dict[int, dict[str, Any]] = {}
        self.tracking_logs: dict[int, dict[str, Any]] = {}
        self.sends: list[dict[str, Any]] = []  # v1 campaign_send calls that sent something
        self.imports: dict[str, Any] = {}  # batchId -> imports.ImportBatch
        self.pending_imports: list[Any] = []  # batches not processed yet
        self.co_schemas: dict[str, dict[str, Any]] = {}
        self.co_records: dict[str, dict[str, dict[str, Any]]] = {}  # schemaId -> recordId -> record
        self.requests: list[RequestRecord] = []
        self.bounce_logs: dict[int, dict[str, Any]] = {}
        self.links: dict[int, dict[str, Any]] = {}  # campaign links (campaigns/{id}/links)
        self.campaign_events: list[dict[str, Any]] = []  # opens, clicks, replies, ... (marketing.py)
        self.scores: dict[int, dict[str, Any]] = {}
        self.score_values: dict[int, dict[str, Any]] = {}
        self.globally_unsubscribed: set[int] = set()
        self.webhooks: dict[int, dict[str, Any]] = {}
        self.outbox: list[Delivery] = []
        self.webhook_deliveries: list[Delivery] = []
        self.automation_steps: dict[tuple[int, str], dict[str, Any]] = {}
        self.delivering = False
        self._index()
        self.rps = SlidingWindow(5, 1.0)
        self.import_multi = SlidingWindow(100, 60.0)
        self.import_single = SlidingWindow(20, 60.0)
        self.user = {"id": 1, "username": "sandbox", "firstName": "Sandbox", "lastName": "Admin",
                     "email": "admin@sandbox.example", "phone": ""}

    def _index(self) -> None:
        """Lookups that would otherwise scan every record per imported row or per request (index.py)."""
        self.contact_ids = SortedIds(self.contacts)
        self.account_contact_ids = SortedIds(self.account_contacts)
        self.account_ids = SortedIds(self.accounts)
        self._by_email: StoreIndex[Contact] = StoreIndex(self.contacts, lambda c: c.email.lower())
        self._lists_by_contact: StoreIndex[dict[str, Any]] = StoreIndex(self.contact_lists, lambda x: x["contact"])
        self._tags_by_contact: StoreIndex[dict[str, Any]] = StoreIndex(self.contact_tags, lambda x: x["contact"])
        self._tags_by_tag: StoreIndex[dict[str, Any]] = StoreIndex(self.contact_tags, lambda x: x["tag"])
        self._tags_by_name: StoreIndex[dict[str, Any]] = StoreIndex(self.tags, lambda t: (t["tagType"],
                                                                                       t["tag"].lower()))
        self._lists_by_list: StoreIndex[dict[str, Any]] = StoreIndex(self.contact_lists, lambda x: x["list"])
        self._lists_by_list_status: StoreIndex[dict[str, Any]] = StoreIndex(self.contact_lists,
                                                                            lambda x: (x["list"], x["status"]))
        self._lists_by_status: StoreIndex[dict[str, Any]] = StoreIndex(self.contact_lists, lambda x: x["status"])
        self._automations_by_contact: StoreIndex[dict[str, Any]] = StoreIndex(self.contact_automations,
                                                                              lambda x: x["contact"])
        self._automations_by_automation: StoreIndex[dict[str, Any]] = StoreIndex(self.contact_automations,
                                                                                 lambda x: x["automation"])
        self.field_value_ids = SortedIds(self.field_values)
        self.values_by_field: StoreIndex[dict[str, Any]] = StoreIndex(self.field_values, lambda v: v["field"])
        self.activities_by_contact: StoreIndex[dict[str, Any]] = StoreIndex(self.activities, lambda a: a["contact"])
        self.logs_by_contact: StoreIndex[dict[str, Any]] = StoreIndex(self.tracking_logs, lambda t: t["contact"])
        self.bounces_by_contact: StoreIndex[dict[str, Any]] = StoreIndex(self.bounce_logs, lambda b: b["contact"])
        self.scores_by_contact: StoreIndex[dict[str, Any]] = StoreIndex(self.score_values, lambda v: v["contact"])
        self.by_udate = TimeIndex()
        self.email_version = 0  # bumped by every email change; with the contacts' shape it keys email_order()
        self._email_order: tuple[tuple[int, int | None, int], list[int]] | None = None
        self._links_by_contact: StoreIndex[dict[str, Any]] = StoreIndex(self.account_contacts,
                                                                        lambda x: x["contact"])
        self._links_by_account: StoreIndex[dict[str, Any]] = StoreIndex(self.account_contacts,
                                                                        lambda x: x["account"])
        self.acf_data_ids = SortedIds(self.acf_data)
        self._acf_by_account: StoreIndex[dict[str, Any]] = StoreIndex(self.acf_data, lambda d: d["accountId"])
        self._accounts_by_name: StoreIndex[dict[str, Any]] = StoreIndex(self.accounts, lambda a: a["name"].lower())

    def reset(self, *, seed_contacts: int = 0) -> None:
        """Empty the account (switches, faults and plan stay) and optionally seed it again."""
        self.reset_data()
        if seed_contacts:
            from .seed import seed_account

            seed_account(self, seed_contacts)

    def process_due_imports(self) -> None:
        """What the gate does before every real request: process import batches whose time has come."""
        from .imports import process_due_imports

        process_due_imports(self)

    def now(self) -> float:
        return self.clock.time()

    def next_id(self, kind: str) -> int:
        value = self._next_ids.get(kind, 0) + 1
        self._next_ids[kind] = value
        return value

    # ----------------------------------------------------------------- plan, faults, inspection
    def set_plan(self, plan: str) -> None:
        if plan not in PLAN_FEATURES:
            raise ValueError(f"unknown plan {plan!r}; one of {sorted(PLAN_FEATURES)}")
        self.plan = plan

    def has_feature(self, feature: str) -> bool:
        return feature in PLAN_FEATURES[self.plan]

    def set_latency(self, profile: str | dict[str, Any] | None, *, answer: str = "clock") -> None:
        """``"realistic"``, ``"none"``, a profile dict (latency.py) or None; ``answer`` (latency.ANSWERS):
        ``clock`` moves the sandbox clock, ``header`` announces the latency for the caller to wait."""
        if answer not in ANSWERS:
            raise ValueError(f"answer: one of {list(ANSWERS)}")
        if isinstance(profile, str):
            if profile not in PROFILES:
                raise ValueError(f"unknown latency profile {profile!r}; one of {sorted(PROFILES)} or a dict")
            raw = PROFILES[profile]
        else:
            raw = profile
        if raw is not None and answer == "clock":
            check_clock(self.clock)
        self.latency = LatencyProfile(raw, self.seed) if raw is not None else None
        self.latency_answer = answer

    def inject_fault(self, **values: Any) -> None:
        self.faults.update(values)

    def clear_faults(self) -> None:
        self.faults = Faults()

    def contacts_by_email(self, email: str) -> list[Contact]:
        return self._by_email.records(email.strip().lower())

    def contact_by_email(self, email: str) -> Contact | None:
        found = self.contacts_by_email(email)
        return found[0] if found else None

    def count_requests(self, *, method: str | None = None, route: str | None = None, path: str | None = None,
                       status: int | None = None) -> int:
        """Count logged real-route requests; ``route`` is the template, e.g. ``/api/3/contacts/{id}``."""
        return sum(
            1 for r in self.requests
            if (method is None or r.method == method.upper()) and (route is None or r.route == route)
            and (path is None or r.path == path) and (status is None or r.status == status)
        )

    def counts(self) -> dict[str, int]:
        return {
            "contacts": len(self.contacts), "fieldValues": len(self.field_values), "tags": len(self.tags),
            "contactTags": len(self.contact_tags), "lists": len(self.lists),
            "contactLists": len(self.contact_lists), "fields": len(self.fields), "fieldRels": len(self.field_rels),
            "accounts": len(self.accounts), "accountContacts": len(self.account_contacts),
            "accountCustomFieldMeta": len(self.acf_meta), "accountCustomFieldData": len(self.acf_data),
            "automations": len(self.automations), "contactAutomations": len(self.contact_automations),
            "campaigns": len(self.campaigns), "messages": len(self.messages), "activities": len(self.activities),
            "trackingLogs": len(self.tracking_logs), "sends": len(self.sends), "imports": len(self.imports),
            "customObjectSchemas": len(self.co_schemas),
            "customObjectRecords": sum(len(r) for r in self.co_records.values()), "requests": len(self.requests),
        }

    # ----------------------------------------------------------------- contacts
    def get_contact(self, contact_id: object) -> Contact:
        cid = as_int(contact_id)
        if cid is None or cid not in self.contacts:
            raise no_result("Subscriber", contact_id)
        return self.contacts[cid]

    def touch(self, contact: Contact, changed: bool, *, at: float | None = None) -> None:
        if changed or self.switches["udate_on_noop_update"]:
            contact.udate = self.now() if at is None else at

    def create_contact(self, data: dict[str, Any], *, at: float | None = None) -> Contact:
        email = (attrs.text(data, "email") or "").strip()
        if not email:
            raise jsonapi(422, "Email address is required", "field_missing", "/data/attributes/email")
        if not EMAIL_RE.match(email):
            raise jsonapi(422, "Email address is not valid", "field_invalid", "/data/attributes/email")
        if self.contact_by_email(email) is not None:
            raise jsonapi(422, "Email address already exists in the system", "duplicate", "/data/attributes/email")
        self.check_field_values(data.get("fieldValues"))
        self.check_names(data)
        when = self.now() if at is None else at
        contact = Contact(id=self.next_id("contact"), email=email, cdate=when, udate=when,
                          on_udate=self.by_udate.move)
        self.by_udate.move(contact.id, when)
        self._apply_names(contact, data)
        self.contacts[contact.id] = contact
        self._by_email.note(contact.id)
        self.set_field_values(contact, data.get("fieldValues") or [], at=when)
        return contact

    def update_contact(self, contact: Contact, data: dict[str, Any], *, at: float | None = None,
                       source: str | None = "api") -> bool:
        """Partial update: only keys present change. Returns whether anything changed (udate handled here)."""
        changed = False
        self.check_field_values(data.get("fieldValues"))
        self.check_names(data)
        if (email := attrs.text(data, "email")) is not None:
            email = email.strip()
            if not EMAIL_RE.match(email):
                raise jsonapi(422, "Email address is not valid", "field_invalid", "/data/attributes/email")
            other = self.contact_by_email(email)
            if other is not None and other.id != contact.id:
                raise jsonapi(422, "Email address already exists in the system", "duplicate",
                              "/data/attributes/email")
            if email != contact.email:
                contact.email, changed = email, True
                self.email_version += 1
                self._by_email.note(contact.id)
        changed |= self._apply_names(contact, data)
        changed |= self.set_field_values(contact, data.get("fieldValues") or [], at=at)
        self.touch(contact, changed, at=at)
        if changed and source is not None:
            emit(self, "update", source, contact=contact)
        return changed

    @staticmethod
    def check_names(data: dict[str, Any]) -> None:
        for key, _ in NAME_KEYS:
            attrs.text(data, key)

    @staticmethod
    def _apply_names(contact: Contact, data: dict[str, Any]) -> bool:
        changed = False
        for key, attr in NAME_KEYS:
            value = attrs.text(data, key)
            if value is not None and getattr(contact, attr) != value:
                setattr(contact, attr, value)
                changed = True
        return changed

    def delete_contact(self, contact: Contact) -> None:
        """Gone at once with its tags, lists, field values, account link and automations (register: no trash)."""
        cid = contact.id
        for store, records in ((self.contact_tags, self.tags_of_contact(cid)),
                               (self.contact_lists, self.lists_of_contact(cid)),
                               (self.account_contacts, self.links_of_contact(cid)),
                               (self.contact_automations, self.automations_of_contact(cid))):
            for record in records:
                del store[record["id"]]
        for fv_id in contact.field_values.values():
            self.field_values.pop(fv_id, None)
        del self.contacts[cid]
        self.by_udate.forget(cid)
        self.globally_unsubscribed.discard(cid)
        contact.on_udate = None

    def contacts_in_automation(self, automation_id: int) -> set[int]:
        return {x["contact"] for x in self._automations_by_automation.records(automation_id)}

    def email_order(self) -> list[int]:
        """Contact ids by (lower-case email, id), recomputed only after contacts or emails changed."""
        key = (len(self.contacts), next(reversed(self.contacts), None), self.email_version)
        if self._email_order is None or self._email_order[0] != key:
            contacts = self.contacts
            ids = sorted(contacts, key=lambda i: (contacts[i].email.lower(), i))
            self._email_order = (key, ids)
        return self._email_order[1]

    def automations_of_contact(self, contact_id: int) -> list[dict[str, Any]]:
        return self._automations_by_contact.records(contact_id)

    def add_contact_automation(self, contact: Contact, automation_id: int) -> dict[str, Any]:
        xid = self.next_id("contactAutomation")
        record = {"id": xid, "contact": contact.id, "automation": automation_id, "adddate": self.now(),
                  "status": 1, "remdate": None, "lastdate": self.now(), "completed_elements": 0,
                  "total_elements": 1}
        self.contact_automations[xid] = record
        self._automations_by_contact.note(xid)
        self._automations_by_automation.note(xid)
        if self.switches["campaign_events_in_activities"]:  # entered, as finish_automation records "complete"
            self.add_activity(contact.id, "SubscriberSeries", automation_id, "add")
        return record

    # ----------------------------------------------------------------- custom field values
    def check_field_values(self, items: Any) -> None:
        if items is None:
            return
        if not isinstance(items, list):
            raise jsonapi(422, "fieldValues must be an array", "field_invalid", "/data/attributes/fieldValues")
        for item in items:
            fid = as_int(item.get("field")) if isinstance(item, dict) else None
            if fid is None or fid not in self.fields:
                raise jsonapi(422, f"Custom field {item.get('field') if isinstance(item, dict) else item} does "
                              "not exist", "field_invalid", "/data/attributes/fieldValues")
            attrs.scalar_or_list(item.get("value"), "fieldValues")

    def normalise_value(self, field_id: int, value: Any) -> str:
        ftype = self.fields[field_id]["type"]
        if isinstance(value, list):
            parts = [str(v) for v in value]
        elif value is None:
            return ""
        else:
            text = str(value)
            parts = [p for p in text.strip("|").split("||")] if text.startswith("||") else [text]
        if ftype in MULTI_VALUE_TYPES:
            return "||" + "||".join(parts) + "||" if parts and parts != [""] else ""
        if ftype in SINGLE_VALUE_TYPES:
            plain = parts[0] if parts else ""
            if self.switches["dropdown_value_format"] == "pipes" and plain:
                return f"||{plain}||"
            return plain
        return str(value) if not isinstance(value, list) else "||" + "||".join(parts) + "||"

    def set_field_value(self, contact: Contact, field_id: int, value: Any, *, at: float | None = None) -> bool:
        when = self.now() if at is None else at
        stored = self.normalise_value(field_id, value)
        fv_id = contact.field_values.get(field_id)
        if fv_id is None:
            fv_id = self.next_id("fieldValue")
            self.field_values[fv_id] = {"id": fv_id, "contact": contact.id, "field": field_id, "value": stored,
                                        "cdate": when, "udate": when}
            contact.field_values[field_id] = fv_id
            self.values_by_field.note(fv_id)
            return True
        record = self.field_values[fv_id]
        if record["value"] == stored:
            return False
        record["value"], record["udate"] = stored, when
        return True

    def set_field_values(self, contact: Contact, items: list[dict[str, Any]], *, at: float | None = None) -> bool:
        changed = False
        for item in items:
            changed |= self.set_field_value(contact, int(item["field"]), item.get("value"), at=at)
        return changed

    # ----------------------------------------------------------------- tags and lists (membership.py)
    def add_contact_tag(self, contact: Contact, tag_id: int, *, at: float | None = None,
                        source: str | None = "api") -> dict[str, Any]:
        return membership.add_contact_tag(self, contact, tag_id, at=at, source=source)

    def remove_contact_tag(self, ct_id: int, *, source: str | None = "api") -> None:
        membership.remove_contact_tag(self, ct_id, source=source)

    def tags_of_contact(self, contact_id: int) -> list[dict[str, Any]]:
        return self._tags_by_contact.records(contact_id)

    def contacts_with_tag(self, tag_id: int) -> set[int]:
        return {ct["contact"] for ct in self._tags_by_tag.records(tag_id)}

    def find_or_create_tag(self, name: str) -> dict[str, Any]:
        return self.tag_named(name, "contact") or self.create_tag(name)

    def create_tag(self, name: str, tag_type: str = "contact", description: str = "") -> dict[str, Any]:
        return membership.create_tag(self, name, tag_type, description)

    def tag_renamed(self, tag_id: int) -> None:
        self._tags_by_name.note(tag_id)

    def tag_named(self, name: str, tag_type: str) -> dict[str, Any] | None:
        found = self._tags_by_name.records((tag_type, name.lower()))
        return found[0] if found else None

    def lists_of_contact(self, contact_id: int) -> list[dict[str, Any]]:
        return self._lists_by_contact.records(contact_id)

    def status_of(self, cl: dict[str, Any]) -> int:
        return membership.status_of(self, cl)

    def contacts_on_list(self, list_id: int | None, status: int | None) -> set[int]:
        return membership.contacts_on_list(self, list_id, status)

    def set_list_status(self, contact: Contact, list_id: int, status: int, *, at: float | None = None,
                        sourceid: int = 0, source: str | None = "api", campaign: int | None = None,
                        message: int | None = None, reason: str | None = None) -> dict[str, Any]:
        return membership.set_list_status(self, contact, list_id, status, at=at, sourceid=sourceid, source=source,
                                          campaign=campaign, message=message, reason=reason)

    def bounce(self, contact: Contact, *, kind: str, list_id: int | None, campaign: int = 0, message: int = 0,
               code: str = "5.1.1", description: str = "") -> dict[str, Any]:
        return membership.bounce(self, contact, kind=kind, list_id=list_id, campaign=campaign, message=message,
                                 code=code, description=description)

    def unsubscribe_globally(self, contact: Contact) -> None:
        contact.global_unsubscribed = True
        self.globally_unsubscribed.add(contact.id)
        if self.switches["udate_on_list_change"]:
            contact.udate = self.now()

    # ----------------------------------------------------------------- accounts
    def account_named(self, name: str) -> dict[str, Any] | None:
        found = self._accounts_by_name.records(name.lower())
        return found[0] if found else None

    def account_renamed(self, account_id: int) -> None:
        """Call after changing ``accounts[id]["name"]`` so ``account_named`` finds the new name."""
        self._accounts_by_name.note(account_id)

    def create_account(self, name: str, url: str | None = None, owner: int = 1) -> dict[str, Any]:
        if self.account_named(name) is not None:
            raise jsonapi(422, f'An account named "{name}" already exists. Please choose a new name.', "duplicate",
                          "/data/attributes/name")
        aid = self.next_id("account")
        now = self.now()
        acct = {"id": aid, "name": name, "accountUrl": url, "owner": owner, "cdate": now, "udate": now}
        self.accounts[aid] = acct
        self._accounts_by_name.note(aid)
        return acct

    def account_touched(self, account: dict[str, Any], changed: bool) -> None:
        """A write to the account: updatedTimestamp moves when it changed something (or per the noop switch)."""
        if changed or self.switches["account_udate_on_noop"]:
            account["udate"] = self.now()

    def link_touched_accounts(self, *account_ids: int) -> None:
        """An accountContacts write: moves the accounts' updatedTimestamp under ``account_udate_on_contact_link``."""
        if self.switches["account_udate_on_contact_link"]:
            for aid in set(account_ids):
                if aid in self.accounts:
                    self.accounts[aid]["udate"] = self.now()

    def acf_data_of_account(self, account_id: int) -> list[dict[str, Any]]:
        return self._acf_by_account.records(account_id)

    def acf_datum_added(self, datum_id: int) -> None:
        self._acf_by_account.note(datum_id)

    def account_of_contact(self, contact_id: int) -> dict[str, Any] | None:
        found = self._links_by_contact.records(contact_id)
        return found[0] if found else None

    def links_of_account(self, account_id: int) -> list[dict[str, Any]]:
        return self._links_by_account.records(account_id)

    def links_of_contact(self, contact_id: int) -> list[dict[str, Any]]:
        return self._links_by_contact.records(contact_id)

    def account_relinked(self, link_id: int) -> None:
        """Call after changing ``account_contacts[id]["account"]``."""
        self._links_by_account.note(link_id)

    def link_account(self, contact_id: int, account_id: int, job_title: str = "") -> dict[str, Any]:
        if self.account_of_contact(contact_id) is not None:
            raise jsonapi(422, "This contact is already associated with an account. We currently do not support "
                          "contacts on multiple accounts.", "field_invalid", "/data/attributes/account,contact")
        now = self.now()
        lid = self.next_id("accountContact")
        link = {"id": lid, "account": account_id, "contact": contact_id, "jobTitle": job_title, "cdate": now,
                "udate": now}
        self.account_contacts[lid] = link
        self._links_by_contact.note(lid)
        self._links_by_account.note(lid)
        return link

    # ----------------------------------------------------------------- activity
    def add_tracking_log(self, contact_id: int, event: str, value: str = "") -> dict[str, Any]:
        tid = self.next_id("trackingLog")
        log = {"id": tid, "contact": contact_id, "type": event, "value": value, "tstamp": self.now(),
               "hash": hashlib.sha1(f"{contact_id}:{tid}".encode()).hexdigest()}  # noqa: S324 - not security
        self.tracking_logs[tid] = log
        self.logs_by_contact.note(tid)
        return log

    def add_activity(self, contact_id: int, reference_type: str, reference_id: int = 0,
                     reference_action: str = "") -> dict[str, Any]:
        aid = self.next_id("activity")
        act = {"id": aid, "contact": contact_id, "reference_type": reference_type, "reference_id": reference_id,
               "reference_action": reference_action, "tstamp": self.now()}
        self.activities[aid] = act
        self.activities_by_contact.note(aid)
        return act


def as_int(value: object) -> int | None:
    """AC accepts ids as ints or numeric strings."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isascii() and value.strip().isdigit():  # not "²"
        return int(value.strip())
    return None


def require_int(value: object, model: str) -> int:
    result = as_int(value)
    if result is None:
        raise ACError(404, {"message": f"No Result found for {model} with id {value}"})
    return result
