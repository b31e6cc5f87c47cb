"""Automations, campaigns (with v1 ``campaign_send``) and a contact's activity (reference §9-§11)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any

from sync_core.activecampaign._base import ClientBase
from sync_core.activecampaign._contacts import ac_datetime
from sync_core.activecampaign._errors import CampaignSendError
from sync_core.activecampaign._paging import as_int, iter_offset
from sync_core.activecampaign._shapes import many, one, seg

CAMPAIGN_SEND_ACTIONS = frozenset({"send", "copy", "test", "source", "messagesize", "spamcheck", "preview"})
CAMPAIGN_REPORTS = frozenset({"campaign_report_open_list", "campaign_report_link_list",
                              "campaign_report_bounce_list", "campaign_report_unsubscription_list"})


class MarketingApi(ClientBase):
    """``/automations``, ``/contactAutomations``, ``/campaigns``, ``/messages``, ``/activities``, v1."""

    def iter_automations(self) -> AsyncIterator[dict[str, Any]]:
        async def fetch(paging: dict[str, Any]) -> dict[str, Any]:
            return await self._get("automations", kind="automations.list", params=paging)

        return iter_offset(fetch, "automations")

    async def add_contact_to_automation(self, contact_id: str, automation_id: str) -> dict[str, Any]:
        body = await self._post("contactAutomations",
                                {"contactAutomation": {"contact": contact_id, "automation": automation_id}},
                                kind="contactAutomation.create")
        return one(body, "contactAutomation") or body

    async def list_contact_automations(self, contact_id: str) -> list[dict[str, Any]]:
        body = await self._get(f"contacts/{seg(contact_id)}/contactAutomations", kind="contact.contactAutomations")
        return many(body, "contactAutomations")

    def iter_campaigns(self) -> AsyncIterator[dict[str, Any]]:
        async def fetch(paging: dict[str, Any]) -> dict[str, Any]:
            return await self._get("campaigns", kind="campaigns.list", params=paging)

        return iter_offset(fetch, "campaigns")

    async def list_campaign_links(self, campaign_id: str) -> list[dict[str, Any]]:
        """``campaigns/{id}/links``: each link names its ``messageid`` (the message a one-contact send needs)."""
        body = await self._get(f"campaigns/{seg(campaign_id)}/links", kind="campaign.links")
        return many(body, "links")

    async def list_contact_score_values(self, contact_id: str) -> list[dict[str, Any]]:
        body = await self._get(f"contacts/{seg(contact_id)}/scoreValues", kind="contact.scoreValues")
        return many(body, "scoreValues")

    async def list_messages(self) -> list[dict[str, Any]]:
        async def fetch(paging: dict[str, Any]) -> dict[str, Any]:
            return await self._get("messages", kind="messages.list", params=paging)

        return [m async for m in iter_offset(fetch, "messages")]

    async def send_campaign(self, *, email: str, campaign_id: str, message_id: str, action: str = "send",
                            type: str = "html") -> dict[str, Any]:
        """v1 ``campaign_send`` to one contact, POSTed with the key as the documented ``api_key`` form
        field (whether v1 also reads the ``Api-Token`` header is unconfirmed), so it is never in a URL;
        success is ``result_code`` 1, whatever the HTTP status said."""
        if action not in CAMPAIGN_SEND_ACTIONS:
            raise ValueError(f"campaign_send action must be one of {sorted(CAMPAIGN_SEND_ACTIONS)}")
        form = {"email": email, "campaignid": campaign_id, "messageid": message_id, "type": type, "action": action}
        return await self._v1("campaign_send", form)

    async def _v1(self, api_action: str, form: dict[str, str], *, empty_ok: bool = False) -> dict[str, Any]:
        """One v1 call, the key in the form body (never a URL); success is ``result_code`` 1 whatever the HTTP
        status said. ``empty_ok``: a report's "Nothing is returned" (``result_code`` 0) is an empty page."""
        params = {"api_action": api_action, "api_output": "json"}
        response = await self._send("POST", "", kind=api_action, params=params,
                                    form={"api_key": self._pipeline.http.headers["Api-Token"], **form},
                                    url=f"{self.api_url}/admin/api.php")
        body = self._json(response)
        if as_int(body.get("result_code")) != 1:
            said = str(body.get("result_message") or "no result_message")
            if empty_ok and "nothing is returned" in said.casefold():
                return {}
            raise CampaignSendError(f"ActiveCampaign {api_action} failed: {said}", result_message=said,
                                    details=body)
        return body

    async def campaign_report(self, api_action: str, campaign_id: str, *, page: int = 1) -> list[dict[str, Any]]:
        """One page of a v1 campaign report (``campaign_report_open_list`` / ``_link_list`` / ...; reference §11):
        its rows (under ``"0"``, ``"1"``, ... beside ``result_code``); an empty page is []."""
        if api_action not in CAMPAIGN_REPORTS:
            raise ValueError(f"campaign report must be one of {sorted(CAMPAIGN_REPORTS)}")
        body = await self._v1(api_action, {"campaignid": campaign_id, "page": str(page)}, empty_ok=True)
        rows = [(as_int(k), v) for k, v in body.items() if isinstance(v, dict) and as_int(k) is not None]
        return [v for _, v in sorted(rows, key=lambda kv: kv[0] or 0)]

    async def list_recent_campaigns(self, limit: int) -> list[dict[str, Any]]:
        """The ``limit`` campaigns sent last (``orders[ldate]=DESC``, documented; never-sent ones come last)."""
        body = await self._get("campaigns", kind="campaigns.recent",
                               params={"orders[ldate]": "DESC", "limit": str(limit), "offset": "0"})
        return many(body, "campaigns")

    async def list_contact_bounce_logs(self, contact_id: str) -> list[dict[str, Any]]:
        body = await self._get(f"contacts/{seg(contact_id)}/bounceLogs", kind="contact.bounceLogs")
        return many(body, "bounceLogs")

    async def list_contact_activities(self, contact_id: str, *, after: datetime | None = None) -> list[dict[str, Any]]:
        """``activities?contact=`` (oldest first); AC documents reading the contact first to refresh them."""
        extra: dict[str, Any] = {"contact": contact_id, "orders[tstamp]": "ASC"}
        if after is not None:
            extra["after"] = ac_datetime(after)

        async def fetch(paging: dict[str, Any]) -> dict[str, Any]:
            return await self._get("activities", kind="activities.list", params={**extra, **paging})

        return [a async for a in iter_offset(fetch, "activities")]

    async def list_tracking_logs(self, contact_id: str) -> list[dict[str, Any]]:
        body = await self._get(f"contacts/{seg(contact_id)}/trackingLogs", kind="contact.trackingLogs")
        return many(body, "trackingLogs")
