"""Business-required (ApplicationRequired) columns on writes through the Web API (register ``application_required``).

Sources: the RequiredLevel of each column is from dynamics-webapi.md §7 ([C]: lead ``subject`` and ``lastname``,
contact ``lastname``, account ``name``, opportunity ``name`` and ``customerid``); that the level is only enforced by
model-driven forms, and a Web API / SDK create without the value succeeds, is secondary (Stack Overflow question
15404343 "Why doesn't a field marked Business Required throw an error when passed a null", itaintboring.com "When
required field validation is not client-side only anymore") — so the default reading is ``not_enforced``, and
``enforced`` refuses (400 ``0x80044331``, message unconfirmed) a create without the value or an update that clears
it. ``transactioncurrencyid`` stays unenforced under both readings (dynamics-webapi.md §7: "not API-enforced").
"""

from __future__ import annotations

from typing import Any

from .dataverse import Dataverse, Row
from .errors import VALIDATION, bad_request
from .schema import Column, Table

TABLES = frozenset({"contact", "lead", "account", "opportunity"})
NOT_ENFORCED = frozenset({("opportunity", "transactioncurrencyid")})


def _sent(column: Column, values: dict[str, Any], binds: dict[str, tuple[str, str | None]]) -> bool | None:
    """Whether the request gives the column a value (None: the request does not name it)."""
    if column.is_lookup:
        return None if column.name not in binds else binds[column.name][1] is not None
    if column.name not in values:
        return None
    return values[column.name] not in (None, "")


def check(dv: Dataverse, table: Table, current: Row | None, values: dict[str, Any],
          binds: dict[str, tuple[str, str | None]]) -> None:
    """Refuse a create (``current`` None) missing a business-required value, or an update clearing one."""
    if dv.switches["application_required"] != "enforced" or table.logical not in TABLES:
        return
    for column in table.columns.values():
        if column.required != "ApplicationRequired" or (table.logical, column.name) in NOT_ENFORCED:
            continue
        sent = _sent(column, values, binds)
        if sent is False or (sent is None and current is None):
            raise bad_request(
                f"A validation error occurred. The value of '{column.name}' on record of type '{table.logical}' "
                "is required (RequiredLevel ApplicationRequired).",
                code=VALIDATION,
            )
