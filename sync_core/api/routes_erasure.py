"""Right to erasure and its suppression: admin only, audited by the suppression's hash (never the email)."""

from __future__ import annotations

from fastapi import APIRouter

from sync_core.api import audit_log
from sync_core.api.context import AdminDep
from sync_core.api.errors import STANDARD, ApiError, documented, upstream_error
from sync_core.api.preview import both_clients
from sync_core.api.schemas import ErasureRequest, ErasureView, LiftRequest, LiftView
from sync_core.engine import erasure
from sync_core.model import errors as model

router = APIRouter(tags=["erasure"])
ERRORS = documented(*STANDARD)


@router.post("/api/connections/{connection_id}/erasure", response_model=ErasureView, responses=ERRORS,
             summary="Erase a person: their ActiveCampaign contact and every row naming them; Dynamics is left "
                     "to you, and the person is not pushed back until the suppression is lifted")
async def erase(a: AdminDep, body: ErasureRequest) -> ErasureView:
    rt, cid = a.runtime, a.config.connection_id
    try:
        async with both_clients(a.ctx, a.config) as (ac, _dv):
            done = await erasure.erase(rt.store, ac, cid, body.email)
    except model.SyncError as e:
        raise upstream_error(e, e.service or "activecampaign") from None
    await audit_log.record(rt, cid, a.caller, "erasure", target=f"suppression:{done.suppression}",
                           detail={"ac_contacts_deleted": done.ac_contacts_deleted, "rows": done.rows})
    return ErasureView(suppression=done.suppression, ac_contacts_deleted=done.ac_contacts_deleted,
                       rows_removed=done.rows, dynamics=done.dynamics)


@router.post("/api/connections/{connection_id}/suppressions/lift", response_model=LiftView, responses=ERRORS,
             summary="Lift a person's suppression (after an erasure or an AC delete): the sync may push them again")
async def lift(a: AdminDep, body: LiftRequest) -> LiftView:
    rt, cid = a.runtime, a.config.connection_id
    digest = await rt.store.suppression_hash(cid, body.email)
    if not await rt.store.lift_suppression(cid, body.email):
        raise ApiError(404, "not_suppressed", "this email is not suppressed on this connection", field="email")
    await audit_log.record(rt, cid, a.caller, "lift_suppression", target=f"suppression:{digest}")
    return LiftView(suppression=digest, lifted=True)
