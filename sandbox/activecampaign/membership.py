"""Tags and list memberships of contacts: writes (with their webhook events and udate rules) and indexed reads.

List statuses (``contactLists.status``): 0 unconfirmed, 1 active, 2 unsubscribed, 3 bounced (AC help "Contact list
statuses explained" and an AC community answer [C]/[S]). A hard bounce marks the contact bounced at once, three soft
bounces in a row do (help "About campaign bounces and bounce codes" [C]); which lists show it is register
``bounce_scope``. What AC calls a global unsubscribe has no documented API read (register
``global_unsubscribe_reading``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .events import account_fields, emit

if TYPE_CHECKING:
    from .state import ACState, Contact

UNCONFIRMED, ACTIVE, UNSUBSCRIBED, BOUNCED = 0, 1, 2, 3
SOFT_BOUNCES_TO_BOUNCED = 3


# ----------------------------------------------------------------- tags
def add_contact_tag(ac: ACState, contact: Contact, tag_id: int, *, at: float | None = None,
                    source: str | None = "api") -> dict[str, Any]:
    for ct in ac.tags_of_contact(contact.id):
        if ct["tag"] == tag_id:
            return ct
    when = ac.now() if at is None else at
    ctid = ac.next_id("contactTag")
    ct = {"id": ctid, "contact": contact.id, "tag": tag_id, "cdate": when}
    ac.contact_tags[ctid] = ct
    ac._tags_by_contact.note(ctid)
    ac._tags_by_tag.note(ctid)
    if ac.switches["udate_on_tag_change"]:
        contact.udate = when
    if source is not None:
        emit(ac, "contact_tag_added", source, contact=contact, extra=[("tag", ac.tags[tag_id]["tag"])])
    return ct

def remove_contact_tag(ac: ACState, ct_id: int, *, source: str | None = "api") -> None:
    ct = ac.contact_tags.pop(ct_id)
    contact = ac.contacts.get(ct["contact"])
    if contact is None:
        return
    if ac.switches["udate_on_tag_change"]:
        contact.udate = ac.now()
    if source is not None and ct["tag"] in ac.tags:
        emit(ac, "contact_tag_removed", source, contact=contact, extra=[("tag", ac.tags[ct["tag"]]["tag"])])

def create_tag(ac: ACState, name: str, tag_type: str = "contact", description: str = "") -> dict[str, Any]:
    tid = ac.next_id("tag")
    tag = {"id": tid, "tag": name, "tagType": tag_type, "description": description, "cdate": ac.now()}
    ac.tags[tid] = tag
    ac._tags_by_name.note(tid)
    return tag

# ----------------------------------------------------------------- lists
def status_of(ac: ACState, cl: dict[str, Any]) -> int:
    """The status a read shows (a global unsubscribe shows as 2 under the ``all_lists`` reading)."""
    contact = ac.contacts.get(cl["contact"])
    if (contact is not None and contact.global_unsubscribed and cl["status"] in (UNCONFIRMED, ACTIVE)
            and ac.switches["global_unsubscribe_reading"] == "all_lists"):
        return UNSUBSCRIBED
    status: int = cl["status"]
    return status

def contacts_on_list(ac: ACState, list_id: int | None, status: int | None) -> set[int]:
    """Ids of contacts with a membership of ``list_id`` (any list when None) in ``status`` (any when None),
    as reads show it, through the indexes."""
    if list_id is None and status is None:
        return set(ac.contacts)
    if status is None:
        assert list_id is not None
        records = ac._lists_by_list.records(list_id)
    else:
        records = (ac._lists_by_list_status.records((list_id, status)) if list_id is not None
                   else ac._lists_by_status.records(status))
        if ac.switches["global_unsubscribe_reading"] == "all_lists" and ac.globally_unsubscribed:
            shifted = [cl for cid in ac.globally_unsubscribed for cl in ac.lists_of_contact(cid)
                       if list_id is None or cl["list"] == list_id]
            records = [cl for cl in records if ac.status_of(cl) == status] + [
                cl for cl in shifted if cl["status"] != status and ac.status_of(cl) == status]
    return {cl["contact"] for cl in records}

def set_list_status(ac: ACState, contact: Contact, list_id: int, status: int, *, at: float | None = None,
                    sourceid: int = 0, source: str | None = "api", campaign: int | None = None,
                    message: int | None = None, reason: str | None = None) -> dict[str, Any]:
    when = ac.now() if at is None else at
    cl = next((x for x in ac.lists_of_contact(contact.id) if x["list"] == list_id), None)
    if cl is not None and cl["status"] == status:
        return cl
    if cl is None:
        clid = ac.next_id("contactList")
        cl = {"id": clid, "contact": contact.id, "list": list_id, "status": status, "sdate": when,
              "udate": when, "sourceid": sourceid}
        ac.contact_lists[clid] = cl
        ac._lists_by_contact.note(clid)
        ac._lists_by_list.note(clid)
    else:
        cl["status"], cl["udate"], cl["sourceid"] = status, when, sourceid or cl.get("sourceid", 0)
    cl.update(campaign=campaign, message=message, unsubreason=reason if status == UNSUBSCRIBED else None)
    ac._lists_by_list_status.note(cl["id"])
    ac._lists_by_status.note(cl["id"])
    if ac.switches["udate_on_list_change"]:
        contact.udate = when
    if source is not None and status in (ACTIVE, UNSUBSCRIBED):
        extra = account_fields(ac, contact) if status == UNSUBSCRIBED else []
        if status == UNSUBSCRIBED:
            extra = [("list[0][id]", str(list_id)), ("unsubscribe[reason]", reason or ""), *extra]
        emit(ac, "subscribe" if status == ACTIVE else "unsubscribe", source, contact=contact,
             list_id=list_id, extra=extra)
    return cl

# ----------------------------------------------------------------- bounces and global unsubscribes
def bounce(ac: ACState, contact: Contact, *, kind: str, list_id: int | None, campaign: int = 0,
           message: int = 0, code: str = "5.1.1", description: str = "") -> dict[str, Any]:
    """What a mail server's bounce does; the contact is marked bounced on a hard one or the third soft one."""
    now = ac.now()
    if kind == "hard":
        contact.bounced_hard += 1
        contact.soft_streak = 0
    else:
        contact.bounced_soft += 1
        contact.soft_streak += 1
    contact.bounced_date = now
    bounced = kind == "hard" or contact.soft_streak >= SOFT_BOUNCES_TO_BOUNCED
    log_id = ac.next_id("bounceLog")
    log = {"id": log_id, "contact": contact.id, "email": contact.email, "campaign": campaign, "message": message,
           "code": code, "kind": kind, "description": description, "tstamp": now}
    ac.bounce_logs[log_id] = log
    ac.bounces_by_contact.note(log_id)
    if bounced:
        scope = ac.switches["bounce_scope"]
        targets = [cl["list"] for cl in ac.lists_of_contact(contact.id) if cl["status"] != BOUNCED] \
            if scope == "all_lists" or list_id is None else [list_id]
        for lid in targets:
            ac.set_list_status(contact, lid, BOUNCED, source=None, campaign=campaign or None,
                                 message=message or None)
    emit(ac, "bounce", "system", contact=contact, list_id=list_id or 0,
         extra=[("campaign[id]", str(campaign)), ("bounce[type]", kind), ("bounce[code]", code),
                ("bounce[description]", description)])
    return {"bounceLog": log, "bounced": bounced}

