"""statecode / statuscode rules of a create or update (deactivation is a PATCH of both).

Sources: update-delete-entities-using-web-api.md ("set statecode together with the desired statuscode");
reference/entities/account.md (StateCode IsValidForCreate False; 0 Active DefaultStatus 1, 1 Inactive
DefaultStatus 2; "Inactive accounts are read-only and can't be edited unless they are reactivated");
dynamics-webapi.md §7 (lead and opportunity pairs); data-service-error-codes.md InvalidStateCodeStatusCode
0x80048408 and CannotUpdateObjectBecauseItIsInactive 0x80040230.

Readings (register): a statecode without a statuscode takes the state's DefaultStatus; a statuscode alone
must belong to the record's current state; an update of an inactive record (other than a state change) is
accepted (switch ``inactive_update``: ``refuse``).
"""

from __future__ import annotations

from typing import Any

from .dataverse import Dataverse, Row
from .errors import bad_request
from .schema import Table

# statecode -> (DefaultStatus, valid statuscodes)
STATES: dict[str, dict[int, tuple[int, tuple[int, ...]]]] = {
    "contact": {0: (1, (1,)), 1: (2, (2,))},
    "account": {0: (1, (1,)), 1: (2, (2,))},
    "transactioncurrency": {0: (1, (1,)), 1: (2, (2,))},
    "lead": {0: (1, (1, 2)), 1: (3, (3,)), 2: (4, (4, 5, 6, 7))},
    "opportunity": {0: (1, (1, 2)), 1: (3, (3,)), 2: (4, (4, 5))},
}
INVALID_PAIR = "0x80048408"
INACTIVE = "0x80040230"
_STATE_ONLY = {"statecode", "statuscode"}


def apply(dv: Dataverse, table: Table, current: Row | None, values: dict[str, Any]) -> None:
    """Validate (and complete) the state and status of a create (``current`` None) or an update."""
    rules = STATES.get(table.logical)
    if rules is None:
        return
    if current is not None:
        _guard_closed_records(dv, table, current, values)
    if current is None:
        values.pop("statecode", None)  # not valid for create: ignored (entity-attribute-metadata.md)
    if "statecode" not in values and "statuscode" not in values:
        return
    state = values.get("statecode", current.get("statecode", 0) if current is not None else 0)
    if state not in rules:
        raise _invalid(table, state, values.get("statuscode"))
    default, valid = rules[state]
    if "statuscode" not in values:
        values["statuscode"] = default
    elif values["statuscode"] not in valid:
        raise _invalid(table, state, values["statuscode"])


def _guard_closed_records(dv: Dataverse, table: Table, current: Row, values: dict[str, Any]) -> None:
    if dv.switches["inactive_update"] != "refuse" or current.get("statecode", 0) == 0:
        return
    reactivating = values.get("statecode") == 0
    if not reactivating and set(values) - _STATE_ONLY:
        raise bad_request("The object cannot be updated because it is inactive.", INACTIVE)


def _invalid(table: Table, state: Any, status: Any) -> Exception:
    return bad_request(
        f"{status} is not a valid status code for state code {table.logical}State.{state} on {table.logical}. "
        "State code is invalid or state code is valid but status code is invalid for a specified state code.",
        INVALID_PAIR,
    )
