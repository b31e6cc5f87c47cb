"""Creates on request checked against Dynamics when the configuration is saved.

The owner must be an enabled, interactive user (an application user is not a seller who can work the
record) or an owner team; every constant names a column a create may set.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sync_core.engine.validation_types import CONFIG_KEY, ConfigIssue
from sync_core.model.config import ConnectionConfig

if TYPE_CHECKING:
    from sync_core.dynamics import DataverseClient

APPLICATION_USER = 4
"""``systemuser.accessmode`` of an application (non-interactive) user."""
OWNER_TEAM = 0


async def check_create_requests(config: ConnectionConfig, dv: DataverseClient) -> list[ConfigIssue]:
    out: list[ConfigIssue] = []
    owner = config.create_requests.owner
    if config.create_requests.enabled and owner is not None:
        if owner.kind == "systemuser":
            user = await dv.get("systemusers", owner.id, select=["systemuserid", "isdisabled", "accessmode"])
            if user is None:
                out.append(ConfigIssue("create_requests.owner.id", f"no Dynamics user has the id {owner.id}"))
            elif user.get("isdisabled"):
                out.append(ConfigIssue("create_requests.owner.id", "this Dynamics user is disabled"))
            elif user.get("accessmode") == APPLICATION_USER:
                out.append(ConfigIssue("create_requests.owner.id", "this is an application user: choose the user "
                                       "or owner team who will work the records"))
        else:
            team = await dv.get("teams", owner.id, select=["teamid", "teamtype"])
            if team is None:
                out.append(ConfigIssue("create_requests.owner.id", f"no Dynamics team has the id {owner.id}"))
            elif team.get("teamtype") != OWNER_TEAM:
                out.append(ConfigIssue("create_requests.owner.id", "only an owner team can own records"))
    for entity in config.requested():
        meta = await dv.entity_metadata(entity)
        for column in config.entities.of(entity).constants:
            attr = meta.attributes.get(column)
            if attr is None or not attr.is_valid_for_create:
                out.append(ConfigIssue(f"entities.{CONFIG_KEY[entity]}.constants.{column}",
                                       f"{entity} has no column {column!r} a create can set"))
    return out
