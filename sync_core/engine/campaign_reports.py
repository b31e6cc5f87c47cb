"""A contact's campaign events when the account's ``activities`` list none (register
``campaign_events_in_activities``), and the link of each click where the reports name it (reference §10, §11).

Per contact, uncapped: ``contacts/{id}/bounceLogs`` (bounces, with the campaign) and the ``contactLists`` rows
a campaign's unsubscribe link closed (status 2 with ``campaign``). Per campaign, capped: v1
``campaign_report_open_list`` (one row per contact: how many times, the latest) and ``campaign_report_link_list``
(per clicked link, who clicked it: how many times, the latest), for the :data:`RECENT_CAMPAIGNS` campaigns sent last
(``orders[ldate]=DESC``), at most :data:`PAGES_PER_REPORT` pages each, a report skipped when the campaign's
counter (``uniqueopens``, ``uniquelinkclicks``) is 0. Cost: at most 3 + 2 × RECENT_CAMPAIGNS × PAGES_PER_REPORT
calls (23), typically 3 + 2 a campaign. The result is ``partial`` when a sent campaign beyond the cap was left
unread, or a report's last page read was full without the contact. The send itself is in no per-contact source
under this reading: a one-contact send made through the product comes from the product's own audit rows of
``send_campaign`` (:func:`own_sends`; a send made in AC itself is not shown). Report times are the account's wall
clock without an offset: they take the offset of the contact's own ``udate``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from sync_core.activecampaign import ActiveCampaignClient
from sync_core.engine.mapping import parse_ac_time
from sync_core.model.state import AuditEntry

_WALL_CLOCK = re.compile(r"^\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}:\d{2}$")
RECENT_CAMPAIGNS = 5
PAGES_PER_REPORT = 2
REPORT_PAGE = 20  # rows a v1 report page holds (register: unconfirmed)
SEND_ACTION, SENT = "send_campaign", "sent"  # the audit row of a one-contact send (api/routes_sales.py)


@dataclass(frozen=True)
class Event:
    type: str
    at: datetime
    campaign: str
    detail: str | None
    source: str
    id: str


@dataclass
class Found:
    events: list[Event] = field(default_factory=list)
    partial: bool = False


def _mine(row: Mapping[str, Any], contact_id: str, email: str) -> bool:
    return str(row.get("subscriberid")) == contact_id or (
        bool(email) and str(row.get("email") or "").casefold() == email.casefold())


def _whose(contact: Mapping[str, Any]) -> tuple[str, str, timedelta | None]:
    """The contact's id, email, and the offset of its own ``udate`` (what the reports' wall-clock times take)."""
    udate = parse_ac_time(contact.get("udate") or contact.get("cdate"))
    return str(contact.get("id")), str(contact.get("email") or ""), udate.utcoffset() if udate is not None else None


def _at(value: Any, offset: timedelta | None) -> datetime | None:
    at = parse_ac_time(value)
    if at is not None and offset is not None and _WALL_CLOCK.match(str(value).strip()):
        at = at.replace(tzinfo=timezone(offset))  # the account's wall clock, no offset written
    return at


def _count(campaign: Mapping[str, Any], key: str) -> int:
    try:
        return int(str(campaign.get(key) or "0"))
    except ValueError:
        return 1  # unreadable: read the report


async def _report(ac: ActiveCampaignClient, action: str, campaign_id: str, hit: Any) -> tuple[list[Any], bool]:
    """The rows ``hit`` keeps from up to PAGES_PER_REPORT pages; whether more pages may hold the contact."""
    kept: list[Any] = []
    for page in range(1, PAGES_PER_REPORT + 1):
        rows = await ac.campaign_report(action, campaign_id, page=page)
        kept += [x for r in rows if (x := hit(r)) is not None]
        if kept or len(rows) < REPORT_PAGE:
            return kept, False
    return kept, True


async def from_reports(ac: ActiveCampaignClient, contact: Mapping[str, Any], lists: Sequence[Mapping[str, Any]]
                       ) -> Found:
    """The contact's opens, clicks (detail: the link), bounces and unsubscribes from the documented reports."""
    cid, email, offset = _whose(contact)
    found = Found()
    for b in await ac.list_contact_bounce_logs(cid):
        if (at := _at(b.get("tstamp"), offset)) is not None:
            kind = "hard" if str(b.get("bounce") or b.get("bounceid")) == "1" else "soft"
            found.events.append(Event("bounce", at, str(b.get("campaign") or b.get("campaignid")),
                                      f"{kind} bounce {b.get('code') or ''}".strip(), "bounces", str(b.get("id"))))
    for cl in lists:
        if str(cl.get("status")) == "2" and cl.get("campaign") and (at := _at(cl.get("udate"), offset)):
            found.events.append(Event("unsubscribe", at, str(cl["campaign"]), cl.get("unsubreason") or None,
                                      "unsubs", str(cl.get("list"))))
    recent = [c for c in await ac.list_recent_campaigns(RECENT_CAMPAIGNS + 1) if c.get("ldate")]
    found.partial = len(recent) > RECENT_CAMPAIGNS
    for campaign in recent[:RECENT_CAMPAIGNS]:
        await _campaign(ac, campaign, cid, email, offset, found)
    return found


async def _campaign(ac: ActiveCampaignClient, campaign: Mapping[str, Any], cid: str, email: str,
                    offset: timedelta | None, found: Found) -> None:
    camp = str(campaign.get("id"))
    if _count(campaign, "uniqueopens"):
        opens, more = await _report(ac, "campaign_report_open_list", camp,
                                    lambda r: r if _mine(r, cid, email) else None)
        found.partial |= more
        for r in opens:
            if (at := _at(r.get("tstamp"), offset)) is not None:
                found.events.append(Event("open", at, camp, _times(r), "opens", camp))
    if _count(campaign, "uniquelinkclicks"):
        clicks, more = await _report(ac, "campaign_report_link_list", camp, lambda r: _clicked(r, cid, email))
        found.partial |= more
        for link, who in clicks:
            if (at := _at(who.get("tstamp"), offset)) is not None:
                found.events.append(Event("click", at, camp, str(link.get("link") or "") or None, "clicks",
                                          str(link.get("id"))))


def _clicked(row: Mapping[str, Any], cid: str, email: str) -> tuple[Mapping[str, Any], Mapping[str, Any]] | None:
    info = row.get("info")
    who = next((i for i in info if isinstance(i, dict) and _mine(i, cid, email)), None) \
        if isinstance(info, list) else None
    return (row, who) if who is not None else None


def _times(row: Mapping[str, Any]) -> str | None:
    n = _count(row, "times")
    return f"{n} times" if n > 1 else None


async def click_links(ac: ActiveCampaignClient, contact: Mapping[str, Any], campaigns: Sequence[str]
                      ) -> dict[tuple[str, datetime], str]:
    """For click activities (which name the campaign only): the link the contact clicked at that second, from the
    link reports of at most RECENT_CAMPAIGNS of those campaigns; a click matching no row gets no link."""
    cid, email, offset = _whose(contact)
    out: dict[tuple[str, datetime], str] = {}
    for camp in list(dict.fromkeys(campaigns))[:RECENT_CAMPAIGNS]:
        clicks, _ = await _report(ac, "campaign_report_link_list", camp, lambda r: _clicked(r, cid, email))
        for link, who in clicks:
            if (at := _at(who.get("tstamp"), offset)) is not None and link.get("link"):
                out[(camp, at.replace(microsecond=0))] = str(link["link"])
    return out


def own_sends(entries: Sequence[AuditEntry], contact_id: str) -> list[Event]:
    """The one-contact sends the product made to the AC contact ``contact_id``, from its audit rows of
    :data:`SEND_ACTION` (those refused or failed, or sent to another contact the record had before, are left out);
    sends of one campaign within one second are one event."""
    out: dict[tuple[str, datetime], Event] = {}
    for e in entries:
        campaign = str(e.detail.get("campaign_id") or "")
        outcome = e.after.get("outcome") if isinstance(e.after, dict) else None
        if e.action != SEND_ACTION or outcome != SENT or not campaign.isdigit() \
                or str(e.detail.get("ac_contact")) != contact_id:
            continue
        at = e.at.astimezone(UTC)
        out.setdefault((campaign, at.replace(microsecond=0)), Event("campaign_send", at, campaign, None, "sends",
                                                                    campaign))
    return list(out.values())
