"""The seller routes the Dynamics panel calls (issue 19): who am I, a record's marketing view and timeline, the
automations and campaigns a seller may use, and the two sales actions. Every route of a record first checks
that the caller may read it in Dynamics (``seller.py``); every action is audited, refused or not."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Annotated, Any

from fastapi import APIRouter, Query

from sync_core.activecampaign import ActiveCampaignClient
from sync_core.api import audit_log
from sync_core.api.context import CallerDep, Ctx, member
from sync_core.api.errors import ApiError, ErrorDetail, documented, upstream_error
from sync_core.api.preview import both_clients
from sync_core.api.roles import ADMIN_ROLES
from sync_core.api.schemas_sales import (
    Activity,
    ActivityPage,
    AddToAutomation,
    AutomationAdded,
    CampaignSent,
    Choice,
    ChoicePage,
    Marketing,
    Me,
    SendCampaign,
)
from sync_core.api.seller import SELLER_ROLES, RecordDep, SellerDep, SellerRecord
from sync_core.dynamics import DataverseClient
from sync_core.engine import campaign_reports, sales_actions, sales_view
from sync_core.engine.mapping import utc_text
from sync_core.engine.one_record import NoEmail, PersonRecord, read_person, sync_person
from sync_core.model.codes import code_of
from sync_core.model.errors import SyncError
from sync_core.store.audit import MAX_TARGETS

router = APIRouter(tags=["sales"])
ERRORS = documented(401, 403, 404, 422, 502, 503)
ACTION_ERRORS = documented(401, 403, 404, 409, 422, 502, 503)
P = "/api/connections/{connection_id}"
RECORD = P + "/records/{entity}/{dynamics_id}"
Cursor = Annotated[str | None, Query(max_length=60)]
Limit = Annotated[int, Query(ge=1, le=100)]
Search = Annotated[str, Query(max_length=100)]
SENDS_READ = 500  # the product's own sends to one person a timeline shows, newest first


@asynccontextmanager
async def clients(r: SellerRecord) -> AsyncIterator[tuple[ActiveCampaignClient, DataverseClient, PersonRecord]]:
    """Both clients and the record, read with the app's identity once the caller's own access was checked."""
    s = r.seller
    try:
        async with both_clients(s.ctx, s.config, people=True) as (ac, dv):
            person = await read_person(dv, s.config, r.entity, r.dynamics_id)
            if person is None:
                raise ApiError(403, "record_forbidden", f"you cannot read this {r.entity} in Dynamics",
                               field="dynamics_id")
            yield ac, dv, person
    except SyncError as e:
        raise upstream_error(e, e.service or "upstream") from None


@router.get(P + "/me", response_model=Me, responses=ERRORS, summary="The caller: its Dynamics user and roles")
async def me(ctx: Ctx, caller: CallerDep, connection_id: str) -> Me:
    _, _, roles = await member(ctx, caller, connection_id)
    return Me(user_id=roles.user_id, name=caller.name, roles=sorted(roles.roles),
              is_admin=bool(roles.roles & ADMIN_ROLES), is_seller=bool(roles.roles & SELLER_ROLES))


@router.get(RECORD + "/marketing", response_model=Marketing, responses=ERRORS,
            summary="The person's ActiveCampaign contact, lists, tags, score and automations, or why it is not synced")
async def marketing(r: RecordDep) -> Marketing:
    async with clients(r) as (ac, _, person):
        if (ac_id := await _ac_contact(r, person)) is not None:
            view = await sales_view.contact_view(ac, r.seller.ctx.sales_cache, ac_id)
            return Marketing(synced=True, reason=None, error=None, **view)
    reason, error = await _not_synced(r, person)
    return Marketing(synced=False, reason=reason, error=error, contact=None, lists=[], tags=[], score=None,
                     automations=[])


async def _ac_contact(r: SellerRecord, person: PersonRecord) -> str | None:
    """The person's AC contact: its link's, or that of another record of the same email (one contact per email)."""
    store, cid = r.seller.runtime.store, r.seller.config.connection_id
    link = await store.get_link(cid, r.entity, r.dynamics_id)
    if link is not None and link.ac_id:
        return link.ac_id
    shared = await store.find_links_by_email(cid, person.email) if person.email else []
    return next((lk.ac_id for lk in shared if lk.ac_id), None)


async def _not_synced(r: SellerRecord, person: PersonRecord) -> tuple[Any, ErrorDetail | None]:
    if not person.email:
        return "no_email", None
    errors = await r.seller.runtime.store.list_errors(r.seller.config.connection_id, entity=r.entity)
    failed = next((e for e in errors if e.record_id == r.dynamics_id), None)
    if failed is not None:
        return "error", ErrorDetail(code=code_of(failed.code), message=failed.cause[:500])
    return ("not_yet_synced" if person.in_scope else "outside_criteria"), None


@router.get(RECORD + "/activities", response_model=ActivityPage, responses=ERRORS,
            summary="The person's marketing timeline, newest first, paged by cursor")
async def activities(r: RecordDep, cursor: Cursor = None, limit: Limit = 20) -> ActivityPage:
    if cursor is not None and not sales_view.CURSOR.match(cursor):
        raise ApiError(422, "invalid_cursor", "cursor is the next_cursor of a previous page", field="cursor")
    async with clients(r) as (ac, _, person):
        if (ac_id := await _ac_contact(r, person)) is None:
            return ActivityPage(items=[], next_cursor=None, partial=False)
        everything, partial = await sales_view.timeline(ac, r.seller.ctx.sales_cache, ac_id,
                                                        own_sends=lambda: _own_sends(r, person, ac_id))
        items, nxt = sales_view.page(everything, cursor, limit)
    return ActivityPage(items=[Activity(type=i.type, at=i.at, title=i.title, url=i.url, detail=i.detail)
                               for i in items], next_cursor=nxt, partial=partial)


async def _own_sends(r: SellerRecord, person: PersonRecord, ac_id: str) -> list[campaign_reports.Event]:
    """The sends made through the product to the AC contact, audited under this record or another record of the
    contact (a lead and a contact of one email share it)."""
    store, cid = r.seller.runtime.store, r.seller.config.connection_id
    shared = await store.find_links_by_email(cid, person.email) if person.email else []
    targets = dict.fromkeys([f"{r.entity}/{r.dynamics_id}",
                             *(f"{lk.entity}/{lk.dynamics_id}" for lk in shared if lk.ac_id == ac_id)])
    rows = await store.list_audit(cid, limit=SENDS_READ, action=campaign_reports.SEND_ACTION,
                                  targets=list(targets)[:MAX_TARGETS])
    return campaign_reports.own_sends(rows, ac_id)


async def _choices(s: SellerDep, kind: str, search: str, cursor: str | None, limit: int) -> ChoicePage:
    if cursor is not None and not cursor.isdigit():
        raise ApiError(422, "invalid_cursor", "cursor is the next_cursor of a previous page", field="cursor")
    try:
        async with both_clients(s.ctx, s.config, people=True) as (ac, _):
            cache = s.ctx.sales_cache
            rows = await (cache.automations(ac) if kind == "automations" else cache.campaigns(ac))
            usable = sales_actions.usable_automation if kind == "automations" else sales_actions.usable_campaign
            found, nxt = sales_actions.choices(rows, usable, search, int(cursor or 0), limit)
    except SyncError as e:
        raise upstream_error(e, "activecampaign") from None
    return ChoicePage(items=[Choice(id=c.id, name=c.name) for c in found],
                      next_cursor=str(nxt) if nxt is not None else None)


@router.get(P + "/automations", response_model=ChoicePage, responses=ERRORS,
            summary="Active automations a seller may add a person to (search by name)")
async def automations(s: SellerDep, search: Search = "", cursor: Cursor = None, limit: Limit = 20) -> ChoicePage:
    return await _choices(s, "automations", search, cursor, limit)


@router.get(P + "/campaigns", response_model=ChoicePage, responses=ERRORS,
            summary="Campaigns a seller may send to one person (search by name)")
async def campaigns(s: SellerDep, search: Search = "", cursor: Cursor = None, limit: Limit = 20) -> ChoicePage:
    return await _choices(s, "campaigns", search, cursor, limit)


async def _audit(r: SellerRecord, action: str, outcome: str, **detail: Any) -> None:
    s = r.seller
    await audit_log.record(s.runtime, s.config.connection_id, s.caller, action, target=f"{r.entity}/{r.dynamics_id}",
                           after={"outcome": outcome}, detail=detail)


async def _synced(r: SellerRecord, ac: ActiveCampaignClient, person: PersonRecord, action: str) -> tuple[str, bool]:
    """The person's AC contact id, synced on request if it has none; whether it was synced now."""
    s = r.seller
    try:
        link, now = await sync_person(ac, s.runtime.store, s.config, person, clock=s.runtime.clock,
                                      tag_id=s.ctx.sales_cache.tag_id)
    except NoEmail as e:
        await _audit(r, action, "refused: no_email")
        raise ApiError(422, "no_email", f"{e}, so it cannot have an ActiveCampaign contact",
                       field="dynamics_id") from None
    if now:
        await _audit(r, "sync_record_on_request", "synced", ac_contact=link.ac_id)
    assert link.ac_id is not None
    return link.ac_id, now


async def _refused(r: SellerRecord, action: str, e: Exception, **detail: Any) -> ApiError:
    if isinstance(e, sales_actions.AlreadyInAutomation):
        await _audit(r, action, "refused: already_in_automation", **detail)
        since = f" since {utc_text(e.started_at)}" if e.started_at else ""
        return ApiError(409, "already_in_automation", f"the contact is already in the automation “{e.automation}” "
                        f"(active{since})", field="automation_id")
    if isinstance(e, sales_actions.Refused):
        await _audit(r, action, f"refused: {e.code}", reason=e.reason, **detail)
        return ApiError(422, e.code, e.reason, field=e.field)
    assert isinstance(e, SyncError)
    await _audit(r, action, f"failed: {type(e).__name__}", **detail)
    return upstream_error(e, e.service or "activecampaign")


Act = Callable[[ActiveCampaignClient, str, PersonRecord], Awaitable[str]]


async def _act(r: SellerRecord, action: str, outcome: str, what: str, wanted: str, act: Act) -> tuple[str, bool]:
    """A sales action's shape: the record synced first if it is not, ``act`` on its AC contact (it returns the
    name of ``what`` it used), every refusal audited and answered as ``_refused`` says, the success audited with
    ``what``'s id and name. The AC contact's id, and whether the record was synced now."""
    chosen = {f"{what}_id": wanted}
    async with clients(r) as (ac, _, person):
        try:
            ac_id, now = await _synced(r, ac, person, action)
            name = await act(ac, ac_id, person)
        except (sales_actions.Refused, sales_actions.AlreadyInAutomation, SyncError) as e:
            raise await _refused(r, action, e, **chosen) from None
    await _audit(r, action, outcome, **chosen, **{what: name}, ac_contact=ac_id)
    return ac_id, now


@router.post(RECORD + "/automations", response_model=AutomationAdded, responses=ACTION_ERRORS,
             summary="Add the person to an automation (syncing the record to ActiveCampaign first if needed)")
async def add_to_automation(r: RecordDep, body: AddToAutomation) -> AutomationAdded:
    async def add(ac: ActiveCampaignClient, ac_id: str, _: PersonRecord) -> str:
        return await sales_actions.add_to_automation(ac, r.seller.ctx.sales_cache, ac_id, body.automation_id)

    ac_id, now = await _act(r, "add_to_automation", "added", "automation", body.automation_id, add)
    return AutomationAdded(outcome="added", contact_id=ac_id, synced_now=now)


@router.post(RECORD + "/campaigns", response_model=CampaignSent, responses=ACTION_ERRORS,
             summary="Send a campaign to the person (v1 campaign_send; syncing the record first if needed)")
async def send_campaign(r: RecordDep, body: SendCampaign) -> CampaignSent:
    async def send(ac: ActiveCampaignClient, _: str, person: PersonRecord) -> str:
        assert person.email is not None  # synced, so it has one
        return await sales_actions.send_campaign(ac, r.seller.ctx.sales_cache, person.email, body.campaign_id)

    ac_id, _ = await _act(r, campaign_reports.SEND_ACTION, campaign_reports.SENT, "campaign", body.campaign_id, send)
    return CampaignSent(outcome="sent", contact_id=ac_id)
