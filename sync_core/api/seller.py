"""Who may use the sales actions, and on which records.

A seller holds ActiveCampaign User, ActiveCampaign Admin or System Administrator in the connection's
Dynamics environment, directly or through a team (the roles ``roles.py`` recognises). Before any read or
action on a lead or contact, Dynamics is asked whether *that user* may read it (``RetrievePrincipalAccess``
bound to the caller's systemuser): the app's identity reads and writes on the seller's behalf, so its own
wider access must never stand in for theirs. A record the user cannot read — or that does not exist —
is the same 403, so the answer tells nothing about records one cannot see.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated

from fastapi import Depends

from sync_core.api.auth import Caller
from sync_core.api.context import ApiContext, CallerDep, Ctx, member
from sync_core.api.errors import ApiError
from sync_core.api.roles import AC_USER, ADMIN_ROLES, CallerRoles
from sync_core.api.schemas_sales import SalesEntity
from sync_core.dynamics import is_guid
from sync_core.model.config import ConnectionConfig

if TYPE_CHECKING:
    from sync_core.runtime import Runtime

SELLER_ROLES = ADMIN_ROLES | {AC_USER}
ENTITY_SETS = {"lead": "leads", "contact": "contacts"}


@dataclass
class Seller:
    caller: Caller
    config: ConnectionConfig
    roles: CallerRoles
    user_id: str
    runtime: Runtime
    ctx: ApiContext


@dataclass
class SellerRecord:
    """A lead or contact the seller may read."""

    seller: Seller
    entity: SalesEntity
    dynamics_id: str


def is_seller(roles: CallerRoles) -> bool:
    return bool(roles.roles & SELLER_ROLES)


async def seller(ctx: Ctx, caller: CallerDep, connection_id: str) -> Seller:
    config, _, roles = await member(ctx, caller, connection_id)
    if not is_seller(roles) or roles.user_id is None:
        raise ApiError(403, "forbidden", "this needs the ActiveCampaign User security role (or ActiveCampaign "
                                         "Admin, System Administrator) in the connection's Dynamics environment")
    return Seller(caller=caller, config=config, roles=roles, user_id=roles.user_id, runtime=await ctx.runtime(),
                  ctx=ctx)


SellerDep = Annotated[Seller, Depends(seller)]


async def readable_record(s: SellerDep, entity: SalesEntity, dynamics_id: str) -> SellerRecord:
    if not is_guid(dynamics_id):
        raise ApiError(422, "invalid_record_id", "dynamics_id is the record's GUID", field="dynamics_id")
    did = dynamics_id.strip("{}").lower()
    if not await s.ctx.can_read(s.config, s.user_id, ENTITY_SETS[entity], did):
        raise ApiError(403, "record_forbidden", f"you cannot read this {entity} in Dynamics", field="dynamics_id")
    return SellerRecord(seller=s, entity=entity, dynamics_id=did)


RecordDep = Annotated[SellerRecord, Depends(readable_record)]
