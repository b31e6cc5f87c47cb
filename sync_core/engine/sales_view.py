"""What a seller sees of a person in ActiveCampaign: the contact, its lists, tags, score, automations, and its
marketing timeline (reference §9–§11).

The timeline merges the documented sources: ``activities`` (campaign sends, opens, clicks, replies, bounces,
unsubscribes, forwards — the ``Campaign*`` vocabulary is unconfirmed, register ``campaign_events_in_activities``;
an account that does not list campaign events there shows none of them), ``contactAutomations`` (entered and
finished, with their dates) and ``trackingLogs`` (event tracking). Items are ordered newest first by
(time, source, id); the cursor is the last item's key, so a page does not shift when new activity arrives.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from sync_core.activecampaign import ActiveCampaignClient
from sync_core.engine.mapping import parse_ac_time
from sync_core.engine.sales_actions import SalesCache

LIST_STATUS = {"0": "unconfirmed", "1": "active", "2": "unsubscribed", "3": "bounced"}
CAMPAIGN_EVENTS = {"CampaignSend": "campaign_send", "CampaignOpen": "open", "CampaignClick": "click",
                   "CampaignReply": "reply", "CampaignBounce": "bounce", "CampaignUnsubscribe": "unsubscribe"}
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
    lists = _by_id(await ac.list_lists())
    memberships = [{"id": str(m.get("list")), "name": str(lists.get(str(m.get("list")), {}).get("name", "")),
                    "status": LIST_STATUS.get(str(m.get("status")), "unconfirmed")}
                   for m in await ac.list_contact_lists(ac_id)]
    tag_ids = [str(t.get("tag")) for t in await ac.list_contact_tags(ac_id)]
    names = {str(t.get("id")): str(t.get("tag", "")) for t in await ac.list_tags()} if tag_ids else {}
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


def _names(rows: Sequence[Mapping[str, Any]]) -> dict[str, str]:
    return {str(r.get("id")): str(r.get("name", "")) for r in rows}


async def timeline(ac: ActiveCampaignClient, cache: SalesCache, ac_id: str) -> list[TimelineItem]:
    """Every item of the person's timeline, newest first."""
    app = app_url(ac.api_url)
    items = await _campaign_activities(ac, cache, ac_id, app)
    names = _names(await cache.automations(ac))
    for r in await ac.list_contact_automations(ac_id):
        aid = str(r.get("automation") or r.get("seriesid"))
        title, url = names.get(aid, f"Automation {aid}"), f"{app}/app/automations/{aid}"
        if (start := parse_ac_time(r.get("adddate"))) is not None:
            items.append(TimelineItem("automation_entered", start, title, url, None, "entered", str(r.get("id"))))
        done = str(r.get("status")) == "2" or str(r.get("completed")) == "1"
        if done and (end := parse_ac_time(r.get("remdate"))) is not None:
            items.append(TimelineItem("automation_finished", end, title, url, None, "finished", str(r.get("id"))))
    for log in await ac.list_tracking_logs(ac_id):
        if (at := parse_ac_time(log.get("tstamp"))) is not None:
            items.append(TimelineItem("event", at, str(log.get("type") or "Event"), None,
                                      str(log.get("value")) if log.get("value") else None, "event",
                                      str(log.get("id"))))
    return sorted(items, key=TimelineItem.order, reverse=True)


async def _campaign_activities(ac: ActiveCampaignClient, cache: SalesCache, ac_id: str, app: str
                               ) -> list[TimelineItem]:
    await ac.get_contact(ac_id)  # AC generates a contact's activities when the contact is read (§11)
    rows = [a for a in await ac.list_contact_activities(ac_id) if a.get("reference_type") in CAMPAIGN_EVENTS]
    campaigns = _names(await cache.campaigns(ac)) if rows else {}
    out = []
    for a in rows:
        at = parse_ac_time(a.get("tstamp"))
        ref = str(a.get("reference_id") or "")
        if at is None:
            continue
        out.append(TimelineItem(CAMPAIGN_EVENTS[str(a["reference_type"])], at, campaigns.get(ref, f"Campaign {ref}"),
                                f"{app}/app/campaigns/{ref}" if ref else None, None, "activity", str(a.get("id"))))
    return out


def page(items: Sequence[TimelineItem], cursor: str | None, limit: int) -> tuple[list[TimelineItem], str | None]:
    """Items after ``cursor`` (a previous page's last key), at most ``limit``, and the next cursor."""
    rest = [i for i in items if cursor is None or _before(i, cursor)]
    chosen = rest[:limit]
    return chosen, chosen[-1].key if len(rest) > limit and chosen else None


def _before(item: TimelineItem, cursor: str) -> bool:
    at, source, ident = cursor.split("|")
    return item.order() < (at, source, int(ident))
