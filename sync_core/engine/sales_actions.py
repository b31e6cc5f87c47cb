"""The two sales actions on one AC contact, and the choices a seller may pick from (reference §9, §10).

A seller may use active automations (``status`` 1) and campaigns that have gone out — sending (2) or
completed (5): ``campaign_send`` re-sends an existing campaign, and a draft or a scheduled one cannot be
re-sent (the status numbers beyond 0 and 1 are unconfirmed; see sandbox register ``campaign_events…``).
A refusal of AC's (the contact unsubscribed, the campaign not sendable, the automation refusing the
contact) is a :class:`Refused` with AC's own reason; a contact already in the automation is
:class:`AlreadyInAutomation` with its run's state.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from typing import Any

from sync_core.activecampaign import ActiveCampaignClient, CampaignSendError
from sync_core.model.errors import NotFoundError, PermissionDeniedError, ValidationError

ACTIVE_AUTOMATION = "1"
SENDABLE_CAMPAIGN = frozenset({"2", "5"})


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
    started_at: str | None


@dataclass(frozen=True)
class Choice:
    id: str
    name: str


def usable_automation(a: Mapping[str, Any]) -> bool:
    return str(a.get("status")) == ACTIVE_AUTOMATION


def usable_campaign(c: Mapping[str, Any]) -> bool:
    return str(c.get("status")) in SENDABLE_CAMPAIGN


async def choices(rows: AsyncIterator[dict[str, Any]], usable: Any, search: str, offset: int, limit: int
                  ) -> tuple[list[Choice], int | None]:
    """Usable rows whose name contains ``search`` (any case), from ``offset``; the next offset or None."""
    needle = search.strip().casefold()
    found: list[Choice] = []
    async for row in rows:
        if usable(row) and needle in str(row.get("name", "")).casefold():
            found.append(Choice(str(row.get("id")), str(row.get("name", ""))))
            if len(found) > offset + limit:
                break
    chosen = found[offset:offset + limit]
    return chosen, offset + limit if len(found) > offset + limit else None


async def _find(rows: AsyncIterator[dict[str, Any]], wanted: str) -> dict[str, Any] | None:
    async for row in rows:
        if str(row.get("id")) == wanted:
            return row
    return None


async def add_to_automation(ac: ActiveCampaignClient, ac_id: str, automation_id: str) -> str:
    """Adds the contact; returns the automation's name."""
    automation = await _find(ac.iter_automations(), automation_id)
    if automation is None or not usable_automation(automation):
        raise Refused("unknown_automation", f"no active automation {automation_id}", "automation_id")
    name = str(automation.get("name", ""))
    for run in await ac.list_contact_automations(ac_id):
        if str(run.get("automation") or run.get("seriesid")) == automation_id and str(run.get("status")) == "1":
            raise AlreadyInAutomation(name, str(run.get("adddate") or "") or None)
    try:
        await ac.add_contact_to_automation(ac_id, automation_id)
    except (ValidationError, PermissionDeniedError, NotFoundError) as e:
        raise Refused("activecampaign_refused", f"ActiveCampaign refused: {e.message}") from None
    return name


async def send_campaign(ac: ActiveCampaignClient, email: str, campaign_id: str) -> str:
    """v1 ``campaign_send`` (action ``send``) with the campaign's message; returns the campaign's name."""
    campaign = await _find(ac.iter_campaigns(), campaign_id)
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
