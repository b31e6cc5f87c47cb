"""Dataverse actions: ``Merge`` and ``QualifyLead``."""

from __future__ import annotations

from typing import Any

from .dataverse import LLN, Dataverse, Row
from .errors import DataverseError, bad_request, not_found
from .http import ApiRequest, ApiResponse
from .records import split_body

MERGEABLE = ("account", "contact", "lead")
# Deactivated state of a merge loser, per table (lead: Disqualified / Canceled).
_LOSER_STATE = {"account": (1, 2), "contact": (1, 2), "lead": (2, 7)}
_CHILD_TABLES = ("contact", "lead", "account", "opportunity")


def _target(dv: Dataverse, value: Any, role: str) -> tuple[str, Row]:
    if not isinstance(value, dict):
        raise bad_request(f"'{role}' must be an entity object with '@odata.type' and its primary key.")
    logical = str(value.get("@odata.type", "")).removeprefix("#").removeprefix("Microsoft.Dynamics.CRM.")
    if logical not in MERGEABLE:
        raise bad_request(f"Merge is not supported for entity '{logical or '?'}'.", code="0x80040203")
    table = dv.tables[logical]
    row_id = value.get(table.pk)
    if not isinstance(row_id, str):
        raise bad_request(f"'{role}' must carry '{table.pk}'.")
    row = dv.get(logical, row_id)
    if row is None:
        raise not_found(logical, row_id)
    return logical, row


def merge(dv: Dataverse, req: ApiRequest) -> ApiResponse:
    """POST Merge {Target, Subordinate, UpdateContent, PerformParentingChecks} → 204.

    The loser is deactivated with ``merged = true`` and ``masterid`` → winner; the winner takes
    ``UpdateContent``; with the register switch on, records pointing at the loser move to the winner.
    """
    body = req.json()
    if not isinstance(body, dict):
        raise bad_request("The request body must be a JSON object.")
    logical, winner = _target(dv, body.get("Target"), "Target")
    sub_logical, loser = _target(dv, body.get("Subordinate"), "Subordinate")
    table = dv.tables[logical]
    if sub_logical != logical:
        raise bad_request("The Target and the Subordinate of a merge must be of the same entity type.")
    winner_id, loser_id = winner[table.pk], loser[table.pk]
    if winner_id == loser_id:
        raise bad_request("Cannot merge a record into itself.", code="0x80040203")
    if loser.get("merged"):
        raise bad_request("The subordinate record has already been merged.", code="0x80040203")
    content = body.get("UpdateContent") or {}
    values, binds = split_body(dv, table, content)
    values.pop(table.pk, None)
    if values or binds:
        winner = dv.update(logical, winner_id, values, binds)
    if dv.switches["merge_reparents_children"]:
        _reparent(dv, logical, loser_id, winner_id)
    state, status = _LOSER_STATE[logical]
    dv.touch(
        logical,
        dv.rows[logical][loser_id],
        {
            "statecode": state,
            "statuscode": status,
            "merged": True,
            "_masterid_value": winner_id,
        },
    )
    return ApiResponse.empty(204)


def _reparent(dv: Dataverse, logical: str, loser_id: str, winner_id: str) -> None:
    for child_logical in _CHILD_TABLES:
        child_table = dv.tables[child_logical]
        lookups = [
            f"_{c.name}_value"
            for c in child_table.columns.values()
            if c.is_lookup and logical in c.targets and c.name not in ("masterid", "ownerid")
        ]
        for row in list(dv.rows[child_logical].values()):
            if row[child_table.pk] == loser_id:
                continue
            changes = {
                key: winner_id
                for key in lookups
                if row.get(key) == loser_id and (row.get(key + LLN) or logical) == logical
            }
            if changes:
                dv.touch(child_logical, row, changes)


def qualify_lead(dv: Dataverse, req: ApiRequest, lead: Row) -> ApiResponse:
    """POST leads(<id>)/Microsoft.Dynamics.CRM.QualifyLead → the created records."""
    body = req.json()
    if not isinstance(body, dict):
        raise bad_request("The request body must be a JSON object.")
    for name in ("CreateAccount", "CreateContact", "CreateOpportunity", "Status"):
        if name not in body:
            raise bad_request(f"Required parameter '{name}' is missing for the QualifyLead action.")
    if lead.get("statecode", 0) != 0 and dv.switches["qualify_closed_lead"] == "error":
        raise DataverseError(
            400, "0x80040203", "The lead is closed. You cannot convert or qualify a lead that is already closed."
        )
    status = body["Status"]
    if status not in (3,):
        raise bad_request(f"{status} is not a valid status code for state code LeadState.Qualified on lead.")
    lead_id = lead["leadid"]
    created: list[dict[str, Any]] = []
    origin = {"originatingleadid": ("lead", lead_id)}
    account_id = lead.get("_parentaccountid_value")
    if body["CreateAccount"] and lead.get("companyname"):
        account = dv.create("account", {"name": lead["companyname"]}, dict(origin))
        account_id = account["accountid"]
        created.append({"@odata.type": "#Microsoft.Dynamics.CRM.account", "accountid": account_id})
    contact_id = lead.get("_parentcontactid_value")
    if body["CreateContact"]:
        values = {
            k: lead.get(k)
            for k in ("firstname", "lastname", "emailaddress1", "jobtitle", "telephone1", "mobilephone")
            if lead.get(k) is not None
        }
        binds: dict[str, tuple[str, str | None]] = dict(origin)
        if account_id:
            binds["parentcustomerid"] = ("account", account_id)
        contact = dv.create("contact", values, binds)
        contact_id = contact["contactid"]
        created.append({"@odata.type": "#Microsoft.Dynamics.CRM.contact", "contactid": contact_id})
    if body["CreateOpportunity"]:
        customer = ("account", account_id) if account_id else ("contact", contact_id) if contact_id else None
        if customer is None:
            raise bad_request("A potential customer is required to create an opportunity from a lead.")
        binds = {"customerid": customer, **origin}
        if account_id:
            binds["parentaccountid"] = ("account", account_id)
        if contact_id:
            binds["parentcontactid"] = ("contact", contact_id)
        opportunity = dv.create(
            "opportunity", {"name": lead.get("subject") or lead.get("fullname") or "Opportunity"}, binds
        )
        created.append(
            {"@odata.type": "#Microsoft.Dynamics.CRM.opportunity", "opportunityid": opportunity["opportunityid"]}
        )
    dv.touch("lead", lead, {"statecode": 1, "statuscode": status})
    return ApiResponse.json(
        200,
        {"@odata.context": f"{req.base}$metadata#Collection(Microsoft.Dynamics.CRM.crmbaseentity)", "value": created},
    )
