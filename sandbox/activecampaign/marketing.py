"""What a seller's marketing view and timeline read: campaign events, links, automation progress, scores.

The control routes make these happen as contacts and automations would (``control_events.py``); the real routes
read them back: campaign counters (``opens``, ``uniquelinkclicks``, ...), ``campaigns/{id}/links``, ``activities``
(register ``campaign_events_in_activities``), ``contactAutomations`` and ``contacts/{id}/scoreValues``, and the
webhook events ``open``, ``click``, ``reply``, ``forward``, ``unsubscribe``, ``bounce`` (field names of the AC
webhook document).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .events import account_fields, emit

if TYPE_CHECKING:
    from .state import ACState, Contact

CAMPAIGN_EVENTS = ("open", "click", "reply", "forward", "unsubscribe", "bounce")
# Counters of the campaign row each event moves: (total, unique per contact).
COUNTERS = {"open": ("opens", "uniqueopens"), "click": ("linkclicks", "uniquelinkclicks"),
            "reply": ("replies", "uniquereplies"), "forward": ("forwards", "uniqueforwards"),
            "unsubscribe": ("unsubscribes", None)}
# Campaign statuses (v1 campaign_create: 0 draft, 1 scheduled [C]; the others [U]).
DRAFT, SCHEDULED, SENDING, PAUSED, STOPPED, COMPLETED = 0, 1, 2, 3, 4, 5
SENDABLE = frozenset({SENDING, COMPLETED})


def add_link(ac: ACState, campaign_id: int, message_id: int, url: str, name: str = "") -> dict[str, Any]:
    lid = ac.next_id("link")
    link = {"id": lid, "campaign": campaign_id, "message": message_id, "link": url, "name": name or url,
            "tracked": 1}
    ac.links[lid] = link
    return link


def links_of_campaign(ac: ACState, campaign_id: int) -> list[dict[str, Any]]:
    return sorted((x for x in ac.links.values() if x["campaign"] == campaign_id), key=lambda x: x["id"])


def can_send(ac: ACState, campaign: dict[str, Any], contact: Contact) -> str | None:
    """Why ``campaign_send`` refuses (AC answers ``result_code: 0`` with a message), or None."""
    if int(campaign.get("status", 0)) not in SENDABLE:
        return "This campaign can not be sent (it is a draft or has not been sent)"
    if contact.global_unsubscribed:
        return "This contact has unsubscribed from all lists"
    statuses = [ac.status_of(cl) for cl in ac.lists_of_contact(contact.id)]
    if statuses and not any(s == 1 for s in statuses) and any(s in (2, 3) for s in statuses):
        return f"This contact is {'bounced' if 3 in statuses else 'unsubscribed'}"  # opted out of every list
    return None


def campaign_block(ac: ACState, campaign: dict[str, Any], message_id: int | None) -> list[tuple[str, str]]:
    message = ac.messages.get(message_id or 0)
    return [("campaign[id]", str(campaign["id"])), ("campaign[name]", campaign["name"]),
            ("campaign[status]", str(campaign.get("status", 0))), ("campaign[type]", campaign.get("type", "single")),
            ("campaign[recipients]", str(len({s["contact"] for s in ac.sends if s["campaignid"] == campaign["id"]}))),
            ("campaign[message][id]", str(message_id or "")),
            ("campaign[message][subject]", message["subject"] if message else "")]


def record_event(ac: ACState, campaign: dict[str, Any], contact: Contact, event: str, *,
                 message_id: int | None = None, link: dict[str, Any] | None = None, list_id: int | None = None,
                 reason: str = "") -> dict[str, Any]:
    """A contact opened, clicked, replied to, forwarded or unsubscribed from a campaign (or it bounced)."""
    message_id = message_id or (campaign.get("messages") or [None])[0]
    seen_before = any(e["contact"] == contact.id and e["event"] == event for e in ac.campaign_events
                      if e["campaign"] == campaign["id"])
    entry = {"campaign": campaign["id"], "contact": contact.id, "event": event, "message": message_id,
             "link": link["id"] if link else None, "time": ac.now()}
    ac.campaign_events.append(entry)
    total, unique = COUNTERS.get(event, (None, None))
    counters = campaign.setdefault("counters", {})
    if total:
        counters[total] = counters.get(total, 0) + 1
    if unique and not seen_before:
        counters[unique] = counters.get(unique, 0) + 1
    if ac.switches["campaign_events_in_activities"]:
        ac.add_activity(contact.id, "Campaign" + event.capitalize(), campaign["id"], event)
    block = campaign_block(ac, campaign, message_id)
    if event == "unsubscribe":
        targets = [list_id] if list_id else [cl["list"] for cl in ac.lists_of_contact(contact.id)
                                            if ac.status_of(cl) == 1]
        for lid in targets:  # the unsubscribe event (with the campaign) comes from set_list_status
            ac.set_list_status(contact, lid, 2, source=None, campaign=campaign["id"], message=message_id,
                               reason=reason)
            emit(ac, "unsubscribe", "public", contact=contact, list_id=lid,
                 extra=[("list[0][id]", str(lid)), ("unsubscribe[reason]", reason), *block,
                        *account_fields(ac, contact)])
    elif event == "bounce":
        return {"event": entry, **ac.bounce(contact, kind="hard", list_id=list_id, campaign=campaign["id"],
                                            message=message_id or 0)}
    else:
        extra = [*block, *account_fields(ac, contact)]
        if link is not None:
            extra += [("link[id]", str(link["id"])), ("link[url]", link["link"])]
        emit(ac, event, "public", contact=contact, extra=extra)
    return {"event": entry}


def finish_automation(ac: ACState, contact: Contact, automation_id: int) -> dict[str, Any] | None:
    """The contact reaches the end of the automation: status 2, completed, remdate set."""
    for record in ac.automations_of_contact(contact.id):
        if record["automation"] == automation_id and record.get("status", 1) == 1:
            now = ac.now()
            record.update(status=2, remdate=now, lastdate=now,
                          completed_elements=record.get("total_elements", 1))
            if ac.switches["campaign_events_in_activities"]:
                ac.add_activity(contact.id, "SubscriberSeries", automation_id, "complete")
            return record
    return None


def set_score(ac: ACState, contact: Contact, score_id: int, value: int) -> dict[str, Any]:
    for sv in ac.scores_by_contact.records(contact.id):
        if sv["score"] == score_id:
            sv.update(value=value, mdate=ac.now())
            return sv
    sid = ac.next_id("scoreValue")
    sv = {"id": sid, "score": score_id, "contact": contact.id, "value": value, "cdate": ac.now(), "mdate": ac.now()}
    ac.score_values[sid] = sv
    ac.scores_by_contact.note(sid)
    return sv
