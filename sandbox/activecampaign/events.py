"""Webhook events: which webhooks an event reaches and the form fields AC posts for it.

Field names follow the AC webhook document (reference/activecampaign-webhooks-asyncapi.yml, developers.activecampaign
.com/page/webhooks): every event has ``type``, ``date_time`` (ISO-8601 with the account's offset), ``initiated_from``
(the source: public, admin, api, system), ``initiated_by`` and ``list``; contact events add the ``contact[...]``
block (``contact[fields][<perstag>]`` per custom field, ``contact[tags]`` comma-separated). Tag events carry
``tag`` (the tag name) beside the contact block: their payload is not in the document (register).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .timefmt import iso_local

if TYPE_CHECKING:
    from .state import ACState, Contact

SOURCES = frozenset({"public", "admin", "api", "system"})
# GET /webhook/events (25) plus the account events the doc's ``listid`` note names.
EVENTS = ("bounce", "click", "contact_tag_added", "contact_tag_removed", "deal_add", "deal_note_add",
          "deal_pipeline_add", "deal_stage_add", "deal_task_add", "deal_task_complete", "deal_tasktype_add",
          "deal_update", "forward", "list_add", "open", "reply", "sent", "share", "sms_reply", "sms_sent",
          "sms_unsub", "subscribe", "subscriber_note", "unsubscribe", "update")
ACCOUNT_EVENTS = ("account_add", "account_update", "account_contact_add", "account_contact_update", "contact_task_add")
# Events on which a webhook's ``listid`` has no effect (the doc's ``listid`` description).
LIST_BLIND = frozenset({"subscriber_note", "contact_tag_added", "contact_tag_removed", "contact_task_add",
                        "list_add", "sms_sent", "sms_reply", "sms_unsub", "deal_add", "deal_update", "deal_note_add",
                        "deal_pipeline_add", "deal_stage_add", "deal_task_add", "deal_tasktype_add",
                        "deal_task_complete", "account_add", "account_update", "account_contact_add",
                        "account_contact_update"})
INITIATED_BY = {"public": "public", "admin": "admin", "api": "api", "system": "system"}


@dataclass
class Delivery:
    """One POST waiting in the outbox (``ac.outbox``) or made (``ac.webhook_deliveries``)."""

    webhook_id: int | None  # None: an automation's webhook step
    url: str
    event: str
    form: list[tuple[str, str]]
    time: float
    status: int | None = None  # HTTP status, or None when the call failed (``error``)
    error: str | None = None
    copy: int = 1  # 2 for the duplicate of an at-least-once delivery


def contact_block(ac: ACState, contact: Contact, prefix: str = "contact") -> list[tuple[str, str]]:
    tags = [ac.tags[ct["tag"]]["tag"] for ct in ac.tags_of_contact(contact.id) if ct["tag"] in ac.tags]
    account = ac.account_of_contact(contact.id)
    account_name = ac.accounts[account["account"]]["name"] if account and account["account"] in ac.accounts else ""
    out = [(f"{prefix}[id]", str(contact.id)), (f"{prefix}[email]", contact.email),
           (f"{prefix}[first_name]", contact.first_name), (f"{prefix}[last_name]", contact.last_name),
           (f"{prefix}[phone]", contact.phone), (f"{prefix}[ip]", "0"), (f"{prefix}[tags]", ", ".join(tags)),
           (f"{prefix}[orgname]", ""), (f"{prefix}[customer_acct_name]", account_name)]
    for field_id, fv_id in sorted(contact.field_values.items()):
        field, value = ac.fields.get(field_id), ac.field_values.get(fv_id)
        if field is not None and value is not None:
            out.append((f"{prefix}[fields][{field['perstag'].lower()}]", value["value"]))
    return out


def account_fields(ac: ACState, contact: Contact) -> list[tuple[str, str]]:
    account = ac.account_of_contact(contact.id)
    if account is None or account["account"] not in ac.accounts:
        return [("customer_acct_name", ""), ("customer_acct_id", "0"), ("orgname", "")]
    return [("customer_acct_name", ac.accounts[account["account"]]["name"]),
            ("customer_acct_id", str(account["account"])), ("orgname", "")]


def envelope(ac: ACState, event: str, source: str, list_id: int = 0) -> list[tuple[str, str]]:
    when = iso_local(ac.now(), str(ac.switches["account_timezone"])) or ""
    return [("type", event), ("date_time", when), ("initiated_from", source),
            ("initiated_by", INITIATED_BY[source]), ("list", str(list_id))]


def reaches(webhook: dict[str, Any], event: str, source: str, list_id: int) -> bool:
    if not webhook["active"] or event not in webhook["events"] or source not in webhook["sources"]:
        return False
    return event in LIST_BLIND or not webhook["listid"] or webhook["listid"] == list_id


def emit(ac: ACState, event: str, source: str, *, contact: Contact | None = None, list_id: int = 0,
         extra: list[tuple[str, str]] | None = None) -> None:
    """Queue ``event`` for every active webhook it reaches (delivered by ``webhooks.deliver_pending``)."""
    targets = [w for w in ac.webhooks.values() if reaches(w, event, source, list_id)]
    if not targets:
        return
    form = envelope(ac, event, source, list_id)
    if contact is not None:
        form += contact_block(ac, contact)
    form += extra or []
    for webhook in targets:
        ac.outbox.append(Delivery(webhook_id=webhook["id"], url=webhook["url"], event=event, form=form,
                                  time=ac.now()))
        if ac.switches["webhook_duplicates"] == "always":
            ac.outbox.append(Delivery(webhook_id=webhook["id"], url=webhook["url"], event=event, form=form,
                                      time=ac.now(), copy=2))
