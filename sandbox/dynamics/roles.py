"""Security roles as Dataverse keeps them: templates, one copy per business unit, the root role.

Sources: ``security-roles.md`` (MS-docs repo, 11/11/2021) — role template GUIDs are "unique and
constant in all environments", "a security role can exist in the root business unit (BU) and
replicated to different BU's", and a role is addressed by
``roles(_roletemplateid_value=…,_businessunitid_value=…,componentstate=0,overwritetime=1900-01-01T00:00:00Z)``
or ``roles(_parentrootroleid_value=<role-ID>,_businessunitid_value=…,…)``;
``reference/entities/role.md`` (02/15/2023) — ``roletemplateid`` (lookup to roletemplate, RequiredLevel
None, read-only), ``parentrootroleid`` (lookup to role, SystemRequired, read-only), ``parentroleid``
(read-only), ``businessunitid`` not valid for update, ``isinherited`` (0 Team privileges only,
1 Direct User (Basic) access level and Team privileges).

Readings (register): each copy's ``_parentroleid_value`` is the parent unit's copy and its
``_parentrootroleid_value`` the root unit's role; the root role's ``_parentrootroleid_value`` is its own
id (switch ``root_role_parent_root``: ``null``).
"""

from __future__ import annotations

from typing import Any

from .dataverse import Dataverse, Row
from .errors import DataverseError

INHERITED_ROLE = "0x8004140c"  # unManagedidsrolesdeletenonparentrole (data-service-error-codes.md)

# security-roles.md "Standard role templates" (lower-cased as the Web API writes GUIDs).
SYSTEM_ADMINISTRATOR_TEMPLATE = "627090ff-40a3-4053-8790-584edc5be201"
# Template names: the role names of the CRM 2015 "entity privileges" tables, except Basic User and
# Knowledge Manager (not in those tables; unconfirmed).
ROLE_TEMPLATES: dict[str, str] = {
    SYSTEM_ADMINISTRATOR_TEMPLATE: "System Administrator",
    "119f245c-3cc8-4b62-b31c-d1a046ced15d": "System Customizer",
    "2d101bb3-5ced-4122-83f1-94d5efde4e3b": "Support User",
    "d892cc0b-28c7-4e88-bd92-72f2c366baed": "Delegate",
    "236750cd-45ae-4939-ab12-b24b920ced93": "Basic User",
    "85937b6b-91a1-46ed-9778-929fc9f61812": "CEO-Business Manager",
    "29123793-6ae5-4955-9f1a-f10ceb9705f1": "Vice President of Sales",
    "c0ed2f4f-6f92-4691-92ba-78f2931e8fba": "Sales Manager",
    "a4be89ff-7c35-4d69-9900-999c3f603e6f": "Salesperson",
    "ecfd0b44-5720-45e3-ae68-417ddb0fb654": "Customer Service Representative",
    "1808b939-dd07-4ca7-aa99-ddd2734378f1": "CSR Manager",
    "09a25608-d28b-4d47-b57c-79271fe6a525": "Marketing Professional",
    "debec338-bca7-4882-ae04-84e6ddda2984": "Schedule Manager",
    "6caba073-59a8-4d6b-8e7b-4ccb50c5166b": "Vice President of Marketing",
    "d9d602db-2761-4170-877f-983494567c08": "Marketing Manager",
    "dcd60b89-421c-44ae-bff0-dd6323df885c": "Scheduler",
    "b4b40b17-cf37-4ea8-b2c5-b580f2f48654": "Knowledge Manager",
}
OVERWRITE_TIME = "1900-01-01T00:00:00Z"  # the value security-roles.md puts in the role alternate key


def role_system_columns(template: str | None, managed: bool = False) -> dict[str, Any]:
    """Columns every role row carries besides name, business unit and lineage."""
    return {
        "_roletemplateid_value": template,
        "componentstate": 0,
        "overwritetime": OVERWRITE_TIME,
        "ismanaged": managed,
    }


def root_reference(dv: Dataverse, role_id: str) -> str | None:
    """``_parentrootroleid_value`` of a root role under the current reading."""
    return role_id if dv.switches["root_role_parent_root"] == "self" else None


def apply_root_reading(dv: Dataverse) -> None:
    """Rewrite the root roles' ``_parentrootroleid_value`` after the switch changed (system-side)."""
    for role in list(dv.rows["role"].values()):
        if role.get("_parentroleid_value") is None:
            wanted = root_reference(dv, role["roleid"])
            if role.get("_parentrootroleid_value") != wanted:
                dv.touch("role", role, {"_parentrootroleid_value": wanted})


def root_role_id(role: Row) -> str:
    """The id that names a role across business units (its root role's id)."""
    return str(role.get("_parentrootroleid_value") or role["roleid"])


def set_up_created_role(dv: Dataverse, role: Row) -> Row:
    """A role just created through the Web API: it is the root of its lineage, then copied down."""
    role = dv.touch(
        "role",
        role,
        {
            **role_system_columns(None),
            "isinherited": 1 if role.get("isinherited") is None else role["isinherited"],
            "_parentrootroleid_value": root_reference(dv, role["roleid"]),
            "_parentroleid_value": None,
        },
    )
    if dv.switches["role_copies_to_child_bus"]:
        _copy_down(dv, role, role["roleid"])
    return role


def _copy_down(dv: Dataverse, parent: Row, root_id: str) -> None:
    parent_bu = parent.get("_businessunitid_value")
    for bu in list(dv.rows["businessunit"].values()):
        if bu.get("_parentbusinessunitid_value") != parent_bu:
            continue
        copy = dv.create(
            "role",
            {"name": parent["name"], "isinherited": parent.get("isinherited", 1)},
            {"businessunitid": ("businessunit", bu["businessunitid"])},
        )
        copy = dv.touch(
            "role",
            copy,
            {
                **role_system_columns(parent.get("_roletemplateid_value"), bool(parent.get("ismanaged"))),
                "_parentrootroleid_value": root_id,
                "_parentroleid_value": parent["roleid"],
            },
        )
        _copy_down(dv, copy, root_id)


def delete_role(dv: Dataverse, role: Row) -> None:
    """A unit's copy can't be deleted; deleting a role deletes its copies (role.md: role_parent_root_role
    cascades Delete)."""
    if role.get("_parentroleid_value"):
        raise DataverseError(400, INHERITED_ROLE, "Cannot delete a role that is inherited from a parent business.")
    for other in list(dv.rows["role"].values()):
        if other["roleid"] != role["roleid"] and other.get("_parentrootroleid_value") == role["roleid"]:
            dv.delete("role", other["roleid"])
    dv.delete("role", role["roleid"])
    dv.role_privileges.pop(role["roleid"], None)
