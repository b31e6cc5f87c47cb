"""What a seller sees of a person in ActiveCampaign: the contact, its lists, tags, score, automations, and its
marketing timeline (reference §9–§11).

The timeline merges the documented sources: ``activities`` (campaign sends, opens, clicks, replies, bounces,
unsubscribes, forwards — the ``Campaign*`` vocabulary is unconfirmed, register ``campaign_events_in_activities``;
for an account that does not list them there, the bounded per-contact and per-campaign reports of
``campaign_reports``, the answer saying when they were capped, and the one-contact sends the product made, from
its own audit rows), ``contactAutomations`` (entered and finished, with their dates) and ``trackingLogs`` (event
tracking; site tracking's page visits among them). Items are ordered newest first by (time in UTC, source, id);
the cursor is the last item's key, so a page does not shift when new activity arrives.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from sync_core.activecampaign import ActiveCampaignClient
from sync_core.engine import campaign_reports
from sync_core.engine.mapping import parse_ac_time
from sync_core.engine.sales_actions import SalesCache

LIST_STATUS = {"0": "unconfirmed", "1": "active", "2": "unsubscribed", "3": "bounced"}
CAMPAIGN_EVENTS = {"CampaignSend": "campaign_send", "CampaignOpen": "open", "CampaignClick": "click",
                   "CampaignReply": "reply", "CampaignBounce": "bounce", "CampaignUnsubscribe": "unsubscribe"}
# Site tracking's page visits are tracked events of this name (reference §11; the v3 spec lists it among the
# event names, and TrackCmp's local event reads {"event": "__pagevisit", "url": …}).
PAGE_VISIT = "__pagevisit"
CURSOR = re.compile(r"^[0-9]{14}\|[a-z]{1,12}\|[0-9]{1,18}$")
_API_HOST = re.compile(r"\.api-[a-z0-9]+\.com$")


def app_url(api_url: str) -> str:
    """The account's app (``https://<account>.activehosted.com``) from its API URL (``<account>.api-us1.com``);
    another host (a stand-in) is its own app."""
    parts = urlsplit(api_url)
    host = _API_HOST.sub(".activehosted.com", parts.netloc)
    return f"{parts.scheme}://{host}"


@dataclass(frozen=True)
class TimelineItem:
    type: str
    at: datetime
    title: str
    url: str | None
    detail: str | None
    source: str
    id: str

    def __post_init__(self) -> None:
        """In UTC, whatever offset the source wrote (AC answers in the account's zone, the audit in UTC), so
        items of several sources order by the instant."""
        object.__setattr__(self, "at", self.at.astimezone(UTC))

    @property
    def key(self) -> str:
        return f"{self.at.strftime('%Y%m%d%H%M%S')}|{self.source}|{self.id}"

    def order(self) -> tuple[str, str, int]:
        return self.at.strftime("%Y%m%d%H%M%S"), self.source, int(self.id) if self.id.isdigit() else 0


def _by_id(rows: Sequence[Mapping[str, Any]]) -> dict[str, Mapping[str, Any]]:
    return {str(r.get("id")): r for r in rows}


async def contact_view(ac: ActiveCampaignClient, cache: SalesCache, ac_id: str) -> dict[str, Any]:
    """The contact, its lists with status, tags, score and automations, in the contract's shape."""
    contact = await ac.get_contact(ac_id)
    lists = _by_id(await cache.lists(ac))
    memberships = [{"id": str(m.get("list")), "name": str(lists.get(str(m.get("list")), {}).get("name", "")),
                    "status": LIST_STATUS.get(str(m.get("status")), "unconfirmed")}
                   for m in await ac.list_contact_lists(ac_id)]
    tag_ids = [str(t.get("tag")) for t in await ac.list_contact_tags(ac_id)]
    names = _tag_names(await cache.tags(ac)) if tag_ids else {}
    if any(t not in names for t in tag_ids):  # a tag newer than the cached list
        names = _tag_names(await ac.list_tags())
    scores = await ac.list_contact_score_values(ac_id)
    score = float(str(scores[0].get("value", "0"))) if scores else None
    app = app_url(ac.api_url)
    return {"contact": {"id": ac_id, "email": str(contact.get("email") or ""),
                        "first_name": str(contact.get("firstName") or ""),
                        "last_name": str(contact.get("lastName") or ""), "url": f"{app}/app/contacts/{ac_id}"},
            "lists": memberships, "tags": [names[t] for t in tag_ids if names.get(t)], "score": score,
            "automations": await automation_runs(ac, cache, ac_id)}


async def automation_runs(ac: ActiveCampaignClient, cache: SalesCache, ac_id: str) -> list[dict[str, Any]]:
    runs = await ac.list_contact_automations(ac_id)
    names = _names(await cache.automations(ac)) if runs else {}
    out = []
    for r in sorted(runs, key=lambda r: str(r.get("adddate") or ""), reverse=True):
        aid = str(r.get("automation") or r.get("seriesid"))
        done = str(r.get("status")) == "2" or str(r.get("completed")) == "1"
        out.append({"id": aid, "name": names.get(aid, f"Automation {aid}"), "status": "completed" if done else "active",
                    "started_at": parse_ac_time(r.get("adddate")),
                    "finished_at": parse_ac_time(r.get("remdate")) if done else None})
    return out


def _tag_names(rows: Sequence[Mapping[str, Any]]) -> dict[str, str]:
    return {str(t.get("id")): str(t.get("tag", "")) for t in rows}


def _names(rows: Sequence[Mapping[str, Any]]) -> dict[str, str]:
    return {str(r.get("id")): str(r.get("name", "")) for r in rows}


OwnSends = Callable[[], Awaitable[Sequence[campaign_reports.Event]]]


async def timeline(ac: ActiveCampaignClient, cache: SalesCache, ac_id: str, own_sends: OwnSends | None = None
                   ) -> tuple[list[TimelineItem], bool]:
    """Every item of the person's timeline, newest first; whether the campaign events are partial (capped).
    ``own_sends``: the one-contact sends the product made (read only when ``activities`` list no campaign events,
    so a send AC lists is never shown twice)."""
    app = app_url(ac.api_url)
    items, partial = await _campaign_events(ac, cache, ac_id, app, own_sends)
    names = _names(await cache.automations(ac))
    for r in await ac.list_contact_automations(ac_id):
        aid = str(r.get("automation") or r.get("seriesid"))
        title, url = names.get(aid, f"Automation {aid}"), f"{app}/app/automations/{aid}"
        if (start := parse_ac_time(r.get("adddate"))) is not None:
            items.append(TimelineItem("automation_entered", start, title, url, None, "entered", str(r.get("id"))))
        done = str(r.get("status")) == "2" or str(r.get("completed")) == "1"
        if done and (end := parse_ac_time(r.get("remdate"))) is not None:
            items.append(TimelineItem("automation_finished", end, title, url, None, "finished", str(r.get("id"))))
    items += [item for log in await ac.list_tracking_logs(ac_id) if (item := _tracked(log)) is not None]
    return sorted(items, key=TimelineItem.order, reverse=True), partial


def _tracked(log: Mapping[str, Any]) -> TimelineItem | None:
    """A tracking log: a site visit when its event is site tracking's ``__pagevisit`` (titled by its value, the
    page), any other tracked event titled by the event's name with its value as the detail."""
    if (at := parse_ac_time(log.get("tstamp"))) is None:
        return None
    event, value = str(log.get("type") or ""), str(log.get("value") or "") or None
    if event == PAGE_VISIT:
        return TimelineItem("site_visit", at, value or "a page", None, None, "event", str(log.get("id")))
    return TimelineItem("event", at, event or "Event", None, value, "event", str(log.get("id")))


async def _campaign_events(ac: ActiveCampaignClient, cache: SalesCache, ac_id: str, app: str,
                           own_sends: OwnSends | None) -> tuple[list[TimelineItem], bool]:
    """From ``activities`` when the account lists campaign events there (once seen, remembered per account),
    clicks given their link from the link reports; else from the bounded reports (``campaign_reports``) and the
    product's own sends."""
    contact = await ac.get_contact(ac_id)  # AC generates a contact's activities when the contact is read (§11)
    rows = [a for a in await ac.list_contact_activities(ac_id) if a.get("reference_type") in CAMPAIGN_EVENTS]
    if rows:
        cache.saw_campaign_activities(ac)
    elif not cache.campaign_activities_seen(ac):
        found = await campaign_reports.from_reports(ac, {**contact, "id": ac_id}, await ac.list_contact_lists(ac_id))
        sends = await own_sends() if own_sends is not None else []
        return await _titled(ac, cache, app, [*found.events, *sends]), found.partial
    clicked = [str(a.get("reference_id")) for a in rows if a["reference_type"] == "CampaignClick"]
    links = await campaign_reports.click_links(ac, {**contact, "id": ac_id}, clicked) if clicked else {}
    events = []
    for a in rows:
        if (at := parse_ac_time(a.get("tstamp"))) is not None:
            ref = str(a.get("reference_id") or "")
            kind = CAMPAIGN_EVENTS[str(a["reference_type"])]
            detail = links.get((ref, at.replace(microsecond=0))) if kind == "click" else None
            events.append(campaign_reports.Event(kind, at, ref, detail, "activity", str(a.get("id"))))
    return await _titled(ac, cache, app, events), False


async def _titled(ac: ActiveCampaignClient, cache: SalesCache, app: str, events: Sequence[campaign_reports.Event]
                  ) -> list[TimelineItem]:
    campaigns = _names(await cache.campaigns(ac)) if events else {}
    return [TimelineItem(e.type, e.at, campaigns.get(e.campaign, f"Campaign {e.campaign}"),
                         f"{app}/app/campaigns/{e.campaign}" if e.campaign else None, e.detail, e.source, e.id)
            for e in events]


def page(items: Sequence[TimelineItem], cursor: str | None, limit: int) -> tuple[list[TimelineItem], str | None]:
    """Items after ``cursor`` (a previous page's last key), at most ``limit``, and the next cursor."""
    rest = [i for i in items if cursor is None or _before(i, cursor)]
    chosen = rest[:limit]
    return chosen, chosen[-1].key if len(rest) > limit and chosen else None


def _before(item: TimelineItem, cursor: str) -> bool:
    at, source, ident = cursor.split("|")
    return item.order() < (at, source, int(ident))
