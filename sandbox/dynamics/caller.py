"""Who a request runs as: the bearer token's user, or the user it impersonates, and their checks.

Impersonation (powerapps-docs ``impersonate-another-user.md`` 03/22/2022, ``webapi/impersonate-another-
user-web-api.md`` 04/06/2022): header ``CallerObjectId: <Entra object id>`` (preferred) or the legacy
``MSCRMCallerID: <systemuserid>``; the caller needs ``prvActOnBehalfOfAnotherUser``; "the impersonator is
allowed to do something if and only if the impersonator and the impersonated user have the privilege
necessary for the action". Refusals are 403 (compose-http-requests-handle-errors.md lists
CannotActOnBehalfOfAnotherUser 0x8004A110 and PrivilegeDenied 0x80040220 under 403).

Readings (register): with both headers CallerObjectId wins; an unknown user → 404; a disabled one →
``impersonate_disabled_status`` with 0x80040225; a record the caller may not touch → 403 with
``record_access_denied_code``; a change-tracking read needs organization-level (Global) Read (§2.1).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

from .dataverse import Dataverse, Row
from .errors import DataverseError, bad_request, not_found
from .security import (
    ACT_ON_BEHALF,
    OWNED,
    PRIVILEGE_DENIED,
    RIGHTS,
    Principal,
    owning_business_unit,
    principal,
    privilege_id,
    privilege_name,
    reach,
)

CANNOT_ACT_ON_BEHALF = "0x8004A110"
USER_NOT_ENABLED = "0x80040225"
_GUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
_RIGHT = {verb: member for member, verb in RIGHTS}


@dataclass
class Caller:
    user_id: str  # the user the request runs as (the impersonated one when impersonating)
    impersonator_id: str | None = None
    _principals: list[Principal] = field(default_factory=list)

    def principals(self, dv: Dataverse) -> list[Principal]:
        if not self._principals:
            self._principals = [principal(dv, "systemuser", self.user_id)]
            if self.impersonator_id:
                self._principals.append(principal(dv, "systemuser", self.impersonator_id))
        return self._principals

    # -------------------------------------------------------------- checks

    def require_privilege(self, dv: Dataverse, logical: str, verb: str) -> None:
        """403 PrivilegeDenied unless every principal holds prv<verb><table> at some depth."""
        if logical not in OWNED:
            return
        name = privilege_name(verb, logical)
        for who in self.principals(dv):
            if not who.has(name):
                raise _missing_privilege(who, name, dv.tables[logical].object_type_code, logical)

    def require_global(self, dv: Dataverse, logical: str, verb: str) -> None:
        """Organization-level privilege (a change-tracking read needs Global Read, §2.1)."""
        if logical not in OWNED:
            return
        self.require_privilege(dv, logical, verb)
        name = privilege_name(verb, logical)
        for who in self.principals(dv):
            if not reach(dv, who, name).everything:
                raise DataverseError(
                    403,
                    PRIVILEGE_DENIED,
                    f"Principal user (Id={who.id}) is missing organization-level {name} privilege "
                    f"(Id={privilege_id(name)}) for entity '{logical}', needed to retrieve changes.",
                )

    def require_row(self, dv: Dataverse, logical: str, verb: str, row: Row) -> None:
        """403 unless every principal's privilege reaches ``row`` (owner, business unit, depth)."""
        if logical not in OWNED:
            return
        self.require_privilege(dv, logical, verb)
        name = privilege_name(verb, logical)
        for who in self.principals(dv):
            if not reach(dv, who, name).covers(row):
                raise _access_denied(dv, who, logical, verb, row)

    def visible(self, dv: Dataverse, logical: str) -> Callable[[Row], bool] | None:
        """Predicate of the rows a read returns (None: every row); 403 without the Read privilege."""
        if logical not in OWNED:
            return None
        self.require_privilege(dv, logical, "Read")
        reaches = [reach(dv, who, privilege_name("Read", logical)) for who in self.principals(dv)]
        reaches = [r for r in reaches if not r.everything]
        if not reaches:
            return None
        return lambda row: all(r.covers(row) for r in reaches)


def _missing_privilege(who: Principal, name: str, otc: int, logical: str) -> DataverseError:
    return DataverseError(
        403,
        PRIVILEGE_DENIED,
        f"Principal user (Id={who.id}, type={8 if who.kind == 'systemuser' else 9}, roleCount={who.role_count}), "
        f"is missing {name} privilege (Id={privilege_id(name)}) on OTC={otc} for entity '{logical}'.",
    )


def _access_denied(dv: Dataverse, who: Principal, logical: str, verb: str, row: Row) -> DataverseError:
    table = dv.tables[logical]
    owner_type = 9 if row.get("_ownerid_value@Microsoft.Dynamics.CRM.lookuplogicalname") == "team" else 8
    return DataverseError(
        403,
        dv.switches["record_access_denied_code"],
        f"SecLib::AccessCheckEx failed. Returned hr = -2147187962, ObjectID: {row.get(table.pk) or '(new)'}, "
        f"OwnerId: {row.get('_ownerid_value')},  OwnerIdType: {owner_type} and CallingUser: {who.id}. "
        f"ObjectTypeCode: {table.object_type_code}, objectBusinessUnitId: {owning_business_unit(dv, row)}, "
        f"AccessRights: {_RIGHT[verb]} ",
    )


# ------------------------------------------------------------------ resolving the caller


def resolve(dv: Dataverse, token: str, headers: dict[str, str]) -> Caller:
    """The request's caller; 403/404/400 for an impersonation the documentation refuses."""
    token_user = dv.token_users.get(token, dv.app_user)
    object_id = headers.get("callerobjectid")
    legacy = headers.get("mscrmcallerid")
    if not object_id and not legacy:
        return Caller(token_user)
    impersonator = principal(dv, "systemuser", token_user)
    if not impersonator.has(ACT_ON_BEHALF):
        raise DataverseError(
            403, CANNOT_ACT_ON_BEHALF, "User does not have the privilege to act on behalf another user."
        )
    header, value = ("CallerObjectId", object_id) if object_id else ("MSCRMCallerID", legacy or "")
    value = value.strip().strip("{}")
    if not _GUID.match(value):
        raise bad_request(f"The {header} header must be a GUID, not '{value}'.")
    target = _find_user(dv, header, value.lower())
    if target is None:
        raise not_found("systemuser", value)
    if target.get("isdisabled"):
        raise DataverseError(
            int(dv.switches["impersonate_disabled_status"]),
            USER_NOT_ENABLED,
            "The specified user is either disabled or is not a member of any business unit.",
        )
    return Caller(target["systemuserid"], token_user)


def _find_user(dv: Dataverse, header: str, value: str) -> Row | None:
    if header == "MSCRMCallerID":
        return dv.get("systemuser", value)
    return next(
        (u for u in dv.rows["systemuser"].values() if (u.get("azureactivedirectoryobjectid") or "") == value), None
    )
