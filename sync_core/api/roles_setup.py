"""``python -m sync_core dynamics setup``: create the product's two security roles where missing.

A role created in the root business unit is copied by Dataverse into every child unit, so the
roles are created once, in the root unit (the unit of the app user, found by WhoAmI, when that
is the root). Returns the names it created.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sync_core.api.roles import PRODUCT_ROLES, root_business_unit

if TYPE_CHECKING:
    from sync_core.dynamics import DataverseClient
    from sync_core.runtime import Runtime


async def ensure_roles(dv: DataverseClient) -> list[str]:
    """Create ``ActiveCampaign User`` and ``ActiveCampaign Admin`` in the root unit if missing."""
    root = await root_business_unit(dv)
    created: list[str] = []
    for name in PRODUCT_ROLES:
        if not await dv.find_roles(name, business_unit_id=root):
            await dv.create_role(name, root)
            created.append(name)
    return created


async def setup_connection_roles(rt: Runtime, connection_id: str) -> list[str]:
    """``ensure_roles`` in the Dynamics environment of a saved connection, as the app's identity."""
    config = await rt.store.get_config(connection_id)
    if config is None:
        raise LookupError(f"no connection {connection_id}")
    async with rt.clients.interactive().stored_dynamics(rt.secrets, config) as dv:
        return await ensure_roles(dv)
