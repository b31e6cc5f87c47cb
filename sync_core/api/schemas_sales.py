"""Bodies of the seller routes: exactly the contract the panel was written against
(``solution/src/api/seller-contract.ts``), so its names and shapes are the generated types' too."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import ConfigDict, Field

from sync_core.api.errors import ErrorDetail
from sync_core.model.config import TextOnly

SalesEntity = Literal["lead", "contact"]
NotSyncedReason = Literal["no_email", "outside_criteria", "error", "not_yet_synced"]
ListStatus = Literal["active", "unsubscribed", "bounced", "unconfirmed"]
AutomationStatus = Literal["active", "completed"]
ActivityType = Literal["campaign_send", "open", "click", "reply", "bounce", "unsubscribe", "automation_entered",
                       "automation_finished", "form", "site_visit", "event"]
AC_ID = r"^[0-9]{1,18}$"


class Me(TextOnly):
    user_id: str | None
    name: str
    roles: list[str]
    is_admin: bool
    is_seller: bool


class MarketingContact(TextOnly):
    id: str
    email: str
    first_name: str
    last_name: str
    url: str


class ListMembership(TextOnly):
    id: str
    name: str
    status: ListStatus


class AutomationRun(TextOnly):
    id: str
    name: str
    status: AutomationStatus
    started_at: datetime | None
    finished_at: datetime | None


class Marketing(TextOnly):
    synced: bool
    reason: NotSyncedReason | None
    error: ErrorDetail | None
    contact: MarketingContact | None
    lists: list[ListMembership]
    tags: list[str]
    score: float | None
    automations: list[AutomationRun]


class Activity(TextOnly):
    type: ActivityType
    at: datetime
    title: str
    url: str | None
    detail: str | None


class ActivityPage(TextOnly):
    items: list[Activity]
    next_cursor: str | None
    partial: bool = Field(False, description=(
        "true when the campaign events are capped: the account lists none in `activities`, so they come from the "
        "reports of the campaigns sent last (docs/ARCHITECTURE.md, sales actions), and a sent campaign or a "
        "report page beyond the cap was left unread"))


class Choice(TextOnly):
    id: str
    name: str


class ChoicePage(TextOnly):
    items: list[Choice]
    next_cursor: str | None


class AutomationAdded(TextOnly):
    outcome: Literal["added"]
    contact_id: str
    synced_now: bool


class CampaignSent(TextOnly):
    outcome: Literal["sent"]
    contact_id: str


class AddToAutomation(TextOnly):
    model_config = ConfigDict(extra="forbid")
    automation_id: str = Field(pattern=AC_ID, description="An active automation's id (GET …/automations)")


class SendCampaign(TextOnly):
    model_config = ConfigDict(extra="forbid")
    campaign_id: str = Field(pattern=AC_ID, description="A sendable campaign's id (GET …/campaigns)")
