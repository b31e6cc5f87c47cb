"""The two sales actions on one AC contact, and the choices a seller may pick from (reference §9, §10).

A seller may use active automations (``status`` 1) and campaigns that have gone out — sending (2) or
completed (5): ``campaign_send`` re-sends an existing campaign, and a draft or a scheduled one cannot be
re-sent (the status numbers beyond 0 and 1 are unconfirmed; see sandbox register ``campaign_events…``).
A refusal of AC's (the contact unsubscribed, the campaign not sendable, the automation refusing the
contact) is a :class:`Refused` with AC's own reason; a contact already in the automation is
:class:`AlreadyInAutomation` with its run's state.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sync_core.activecampaign import ActiveCampaignClient, CampaignSendError
from sync_core.clock import Clock
from sync_core.engine.mapping import parse_ac_time
from sync_core.model.errors import NotFoundError, PermissionDeniedError, ValidationError

ACTIVE_AUTOMATION = "1"
SENDABLE_CAMPAIGN = frozenset({"2", "5"})
CATALOGUE_SECONDS = 60.0
TAG_SECONDS = 600.0
ACTIVITIES_SEEN_SECONDS = 86400.0


class SalesCache:
    """What sales actions would otherwise read on every click, per AC account: the automations and campaigns
    (a minute: a new or paused one shows within it; AC still refuses a paused automation itself), the tag
    names (a minute), the lists and the ids of the sync's tags (ten minutes), and whether the account lists campaign
events in ``activities`` (a day, once seen)."""

    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self._rows: dict[tuple[str, str], tuple[float, Any]] = {}

    async def _get(self, key: tuple[str, str], ttl: float, load: Callable[[], Awaitable[Any]]) -> Any:
        hit = self._rows.get(key)
        if hit is not None and self._clock.monotonic() - hit[0] < ttl:
            return hit[1]
        value = await load()
        if len(self._rows) > 1000:
            self._rows.clear()
        self._rows[key] = (self._clock.monotonic(), value)
        return value

    async def automations(self, ac: ActiveCampaignClient) -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = await self._get((ac.api_url, "automations"), CATALOGUE_SECONDS,
                                                     lambda: _all(ac.iter_automations()))
        return rows

    async def campaigns(self, ac: ActiveCampaignClient) -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = await self._get((ac.api_url, "campaigns"), CATALOGUE_SECONDS,
                                                     lambda: _all(ac.iter_campaigns()))
        return rows

    async def lists(self, ac: ActiveCampaignClient) -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = await self._get((ac.api_url, "lists"), TAG_SECONDS, ac.list_lists)
        return rows

    async def tags(self, ac: ActiveCampaignClient) -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = await self._get((ac.api_url, "tags"), CATALOGUE_SECONDS, ac.list_tags)
        return rows

    def saw_campaign_activities(self, ac: ActiveCampaignClient) -> None:
        self._rows[(ac.api_url, "campaign_activities")] = (self._clock.monotonic(), True)

    def campaign_activities_seen(self, ac: ActiveCampaignClient) -> bool:
        """Whether a contact's ``activities`` listed campaign events in this account within the day: then another
        contact without them has none, and the reports are not read for it."""
        hit = self._rows.get((ac.api_url, "campaign_activities"))
        return hit is not None and self._clock.monotonic() - hit[0] < ACTIVITIES_SEEN_SECONDS

    async def tag_id(self, ac: ActiveCampaignClient, name: str) -> str:
        found: str = await self._get((ac.api_url, "tag:" + name.strip().casefold()), TAG_SECONDS,
                                     lambda: ac.ensure_tag(name))
        return found


async def _all(rows: AsyncIterator[dict[str, Any]]) -> list[dict[str, Any]]:
    return [r async for r in rows]


class Refused(Exception):
    """AC refused the action; ``reason`` is AC's own words."""

    def __init__(self, code: str, reason: str, field: str | None = None) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason
        self.field = field


@dataclass
class AlreadyInAutomation(Exception):
    automation: str
    started_at: datetime | None


@dataclass(frozen=True)
class Choice:
    id: str
    name: str


def usable_automation(a: Mapping[str, Any]) -> bool:
    return str(a.get("status")) == ACTIVE_AUTOMATION


def usable_campaign(c: Mapping[str, Any]) -> bool:
    return str(c.get("status")) in SENDABLE_CAMPAIGN


def choices(rows: list[dict[str, Any]], usable: Callable[[Mapping[str, Any]], bool], search: str, offset: int,
            limit: int) -> tuple[list[Choice], int | None]:
    """Usable rows whose name contains ``search`` (any case), from ``offset``; the next offset or None."""
    needle = search.strip().casefold()
    found = [Choice(str(r.get("id")), str(r.get("name", ""))) for r in rows
             if usable(r) and needle in str(r.get("name", "")).casefold()]
    chosen = found[offset:offset + limit]
    return chosen, offset + limit if len(found) > offset + limit else None


def _find(rows: list[dict[str, Any]], wanted: str) -> dict[str, Any] | None:
    return next((r for r in rows if str(r.get("id")) == wanted), None)


async def add_to_automation(ac: ActiveCampaignClient, cache: SalesCache, ac_id: str, automation_id: str) -> str:
    """Adds the contact; returns the automation's name."""
    automation = _find(await cache.automations(ac), automation_id)
    if automation is None or not usable_automation(automation):
        raise Refused("unknown_automation", f"no active automation {automation_id}", "automation_id")
    name = str(automation.get("name", ""))
    for run in await ac.list_contact_automations(ac_id):
        if str(run.get("automation") or run.get("seriesid")) == automation_id and str(run.get("status")) == "1":
            raise AlreadyInAutomation(name, parse_ac_time(run.get("adddate")))
    try:
        await ac.add_contact_to_automation(ac_id, automation_id)
    except (ValidationError, PermissionDeniedError, NotFoundError) as e:
        raise Refused("activecampaign_refused", f"ActiveCampaign refused: {e.message}") from None
    return name


async def send_campaign(ac: ActiveCampaignClient, cache: SalesCache, email: str, campaign_id: str) -> str:
    """v1 ``campaign_send`` (action ``send``) with the campaign's message; returns the campaign's name."""
    campaign = _find(await cache.campaigns(ac), campaign_id)
    if campaign is None or not usable_campaign(campaign):
        raise Refused("unknown_campaign", f"no sendable campaign {campaign_id} (a draft or scheduled campaign "
                      "cannot be sent to one contact)", "campaign_id")
    message = next((str(x.get("messageid")) for x in await ac.list_campaign_links(campaign_id)
                    if str(x.get("messageid") or "0") != "0"), None)
    if message is None:
        raise Refused("campaign_without_message", "ActiveCampaign names no message of this campaign "
                      "(campaigns/{id}/links), so it cannot be sent to one contact", "campaign_id")
    try:
        await ac.send_campaign(email=email, campaign_id=campaign_id, message_id=message)
    except CampaignSendError as e:
        raise Refused("activecampaign_refused", f"ActiveCampaign refused: {e.result_message}") from None
    return str(campaign.get("name", ""))
