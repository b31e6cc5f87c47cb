"""The seed's Data Configuration rules, checked by ``validate_connection_config`` against both sandboxes.

Real clients (``DataverseClient``, ``ActiveCampaignClient``) on ``httpx.ASGITransport`` read the
Dataverse sandbox's ``EntityDefinitions`` and the AC sandbox's fields; AC custom fields and their
options are created through the AC API (``POST /api/3/fields``, ``POST /api/3/fieldOption/bulk``).
Every issue must name its field path in the configuration document.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from pydantic import ValidationError

from sandbox.activecampaign import create_app as ac_create_app
from sandbox.dynamics import create_app as dv_create_app
from sync_core.activecampaign import ActiveCampaignClient
from sync_core.clock import FakeClock
from sync_core.dynamics import DataverseClient, StaticTokenCredential
from sync_core.engine.validation import ConfigIssue, validate_connection_config
from sync_core.model.config import ConnectionConfig
from tests.engine.conftest import apply_switches

AC_URL = "http://ac.rules"
DV_URL = "http://dataverse.rules"
AC_KEY = "rules-ac-key"
DV_TOKEN = "rules-dv-token"
LEAD_SOURCES = {1: "Advertisement", 2: "Employee Referral", 3: "External Referral", 4: "Partner",
                5: "Public Relations", 6: "Seminar", 7: "Trade Show", 8: "Web", 9: "Word of Mouth", 10: "Other"}


@dataclass
class Systems:
    dv: DataverseClient
    ac: ActiveCampaignClient
    fields: dict[str, str]
    """AC custom field title → mapping key (``field:<id>``)."""

    async def issues(self, **entities: Any) -> list[ConfigIssue]:
        doc: dict[str, Any] = {"connection_id": "rules", "activecampaign": {"api_url": AC_URL},
               "dynamics": {"environment_url": DV_URL},
               "entities": {"contacts": {"enabled": False}, **entities}}
        found = await validate_connection_config(ConnectionConfig.model_validate(doc), dv=self.dv, ac=self.ac)
        for issue in found:  # every issue names where it is
            assert issue.field.startswith("entities."), issue
            assert issue.message, issue
        return found


def paths(issues: list[ConfigIssue]) -> list[str]:
    return sorted(i.field for i in issues)


@pytest.fixture
async def systems(clock: FakeClock, sandbox_switches: dict[str, dict[str, Any]]) -> AsyncIterator[Systems]:
    dv_app = dv_create_app(clock=clock, tokens=(DV_TOKEN,), seed=1, seed_contacts=0)
    ac_app = ac_create_app(clock=clock, api_token=AC_KEY, seed=1, enforce_rate_limit=False)
    apply_switches(ac_app, dv_app, sandbox_switches)
    dv = DataverseClient(DV_URL, StaticTokenCredential(DV_TOKEN), clock=clock,
                         transport=httpx.ASGITransport(app=dv_app))
    ac = ActiveCampaignClient(AC_URL, AC_KEY, clock=clock, transport=httpx.ASGITransport(app=ac_app))
    fields: dict[str, str] = {}
    # AC custom fields through the AC API, as an admin would add them.
    for title, kind in [("Position", "text"), ("Birthday", "date"), ("Notes", "textarea")]:
        created = await ac.create_field(title, kind, all_lists=False)
        fields[title] = f"field:{created['id']}"
    source = await ac.create_field("Lead source", "dropdown", all_lists=False)
    await ac.create_field_options(str(source["id"]), ["Ads", "Referral", "Partner", "Events", "Web", "Other"])
    fields["Lead source"] = f"field:{source['id']}"
    try:
        yield Systems(dv, ac, fields)
    finally:
        await dv.aclose()
        await ac.aclose()


# --- creates on request: constants and owner (issue 18) ---------------------------------------------


def request_doc(**create_requests: Any) -> dict[str, Any]:
    return {"connection_id": "rules", "activecampaign": {"api_url": AC_URL}, "dynamics": {"environment_url": DV_URL},
            "entities": {"contacts": {"enabled": False},
                         "leads": {"enabled": True, "direction": "bidirectional",
                                   "constants": {"subject": "From ActiveCampaign", "lastname": "(unknown)"}}},
            "create_requests": {"enabled": True, "tag_create_contact": None, **create_requests}}


def refusal(doc: dict[str, Any]) -> str:
    with pytest.raises(ValidationError) as caught:
        ConnectionConfig.model_validate(doc)
    (error,) = caught.value.errors()
    return str(error["msg"])


OWNER = {"kind": "systemuser", "id": "00000000-0000-0000-0000-000000000001"}


def test_constants_and_request_settings_the_engine_cannot_carry_out_are_refused_naming_the_field() -> None:
    doc = request_doc(owner=OWNER)
    assert ConnectionConfig.model_validate(doc).requested() == ["lead"]
    # No owner: the application user would silently own the records.
    assert refusal(request_doc()).startswith("Value error, create_requests.owner:")
    # A lead needs its required columns from a constant when AC has no value.
    missing = request_doc(owner=OWNER)
    del missing["entities"]["leads"]["constants"]["subject"]
    assert "entities.leads.constants: subject is required" in refusal(missing)
    # Constants of a table nothing creates do nothing: refused.
    off = request_doc(owner=OWNER, enabled=False)
    assert "entities.leads.constants: constants fill records created on request" in refusal(off)
    accounts = request_doc(owner=OWNER)
    accounts["entities"]["accounts"] = {"enabled": True, "direction": "pull", "constants": {"name": "x"}}
    assert "entities.accounts.constants: only contacts and leads" in refusal(accounts)
    # Requests for a table that does not pull cannot sync the record back.
    push_only = request_doc(owner=OWNER, tag_create_contact="D365: Create Contact")
    push_only["entities"]["contacts"] = {"enabled": True, "direction": "push", "constants": {"lastname": "x"}}
    assert "create_requests.tag_create_contact: contacts must sync" in refusal(push_only)


def _user(dv_app: Any, first: str) -> str:
    return next(str(u["systemuserid"]) for u in dv_app.state.dataverse.rows["systemuser"].values()
                if u.get("firstname") == first)


async def test_the_owner_and_constant_columns_are_checked_against_dynamics(clock: FakeClock) -> None:
    dv_app = dv_create_app(clock=clock, tokens=(DV_TOKEN,), seed=1, seed_contacts=0)
    ac_app = ac_create_app(clock=clock, api_token=AC_KEY, seed=1, enforce_rate_limit=False)
    dv = DataverseClient(DV_URL, StaticTokenCredential(DV_TOKEN), clock=clock,
                         transport=httpx.ASGITransport(app=dv_app))
    ac = ActiveCampaignClient(AC_URL, AC_KEY, clock=clock, transport=httpx.ASGITransport(app=ac_app))
    state = dv_app.state.dataverse
    team = next(t for t in state.rows["team"].values() if t.get("teamtype") == 0)

    async def issues(owner: dict[str, Any], **constants: Any) -> list[tuple[str, str]]:
        doc = request_doc(owner=owner)
        doc["entities"]["leads"]["constants"].update(constants)
        found = await validate_connection_config(ConnectionConfig.model_validate(doc), dv=dv, ac=ac)
        return [(i.field, i.message) for i in found]

    try:
        assert await issues({"kind": "systemuser", "id": _user(dv_app, "Sam")}) == []
        assert await issues({"kind": "team", "id": str(team["teamid"])}) == []
        (unknown,) = await issues(OWNER)
        assert unknown[0] == "create_requests.owner.id" and "no Dynamics user" in unknown[1]
        (app_user,) = await issues({"kind": "systemuser", "id": str(state.app_user)})
        assert app_user[0] == "create_requests.owner.id" and "application user" in app_user[1]
        (bad_column,) = await issues({"kind": "team", "id": str(team["teamid"])}, nosuchcolumn="x")
        assert bad_column[0] == "entities.leads.constants.nosuchcolumn"
    finally:
        await dv.aclose()
        await ac.aclose()


# --- compatibility, deal fields, unknown names --------------------------------------------------------


async def test_an_incompatible_pair_is_refused_with_its_compatible_candidates(systems: Systems) -> None:
    f = systems.fields
    found = await systems.issues(contacts={"enabled": True, "direction": "push", "custom": [
        {"dynamics": "address1_city", "activecampaign": f["Birthday"]}]})
    assert paths(found) == ["entities.contacts.custom[0]"]
    assert "not compatible" in found[0].message
    candidates = found[0].candidates or []
    assert f["Position"] in candidates and f["Notes"] in candidates and "firstName" in candidates
    assert f["Birthday"] not in candidates and f["Lead source"] not in candidates
    # The compatible choice is accepted.
    assert await systems.issues(contacts={"enabled": True, "direction": "push", "custom": [
        {"dynamics": "address1_city", "activecampaign": f["Position"]}]}) == []


async def test_ac_deal_fields_cannot_be_mapped(systems: Systems) -> None:
    found = await systems.issues(contacts={"enabled": True, "direction": "push", "custom": [
        {"dynamics": "address1_city", "activecampaign": "deal:3"}]})
    assert paths(found) == ["entities.contacts.custom[0].activecampaign"]
    assert "deal" in found[0].message.lower()


async def test_unknown_columns_and_fields_are_refused_with_their_path(systems: Systems) -> None:
    found = await systems.issues(leads={"enabled": True, "direction": "push", "custom": [
        {"dynamics": "jobtitle", "activecampaign": systems.fields["Position"]},
        {"dynamics": "nosuchcolumn", "activecampaign": systems.fields["Notes"]},
        {"dynamics": "companyname", "activecampaign": "field:9999"}]})
    assert paths(found) == ["entities.leads.custom[1].dynamics", "entities.leads.custom[2].activecampaign"]
    # The unknown AC field comes with the fields that would fit the column.
    assert systems.fields["Notes"] in (found[1].candidates or [])


async def test_lookups_and_duplicates_are_refused(systems: Systems) -> None:
    f = systems.fields
    found = await systems.issues(contacts={"enabled": True, "direction": "push", "custom": [
        {"dynamics": "originatingleadid", "activecampaign": f["Position"]},
        {"dynamics": "address1_city", "activecampaign": f["Notes"]},
        {"dynamics": "address1_country", "activecampaign": f["Notes"]}]})
    assert paths(found) == ["entities.contacts.custom[0].dynamics", "entities.contacts.custom[2].activecampaign"]


# --- option sets ------------------------------------------------------------------------------------


def _lead_source_map(**override: str) -> dict[str, str]:
    base = {1: "Ads", 2: "Referral", 3: "Referral", 4: "Partner", 5: "Other", 6: "Events", 7: "Events", 8: "Web",
            9: "Referral", 10: "Other"}
    return {**{str(k): v for k, v in base.items()}, **override}


async def test_an_option_set_maps_value_by_value_to_real_dropdown_options(systems: Systems) -> None:
    key = systems.fields["Lead source"]

    def leads(option_map: dict[str, str] | None, direction: str = "bidirectional") -> dict[str, Any]:
        return {"enabled": True, "direction": direction,
                "custom": [{"dynamics": "leadsourcecode", "activecampaign": key, "option_map": option_map}]}

    assert await systems.issues(leads=leads(_lead_source_map())) == []
    # An option AC does not have: refused at that value.
    found = await systems.issues(leads=leads(_lead_source_map(**{"8": "Website"}), direction="push"))
    assert paths(found) == ["entities.leads.custom[0].option_map.8"]
    assert "Website" in found[0].message and "Web" in (found[0].candidates or [])
    # Both ways, AC's "Web" is now also left without a Dynamics value.
    found = await systems.issues(leads=leads(_lead_source_map(**{"8": "Website"})))
    assert paths(found) == ["entities.leads.custom[0].option_map", "entities.leads.custom[0].option_map.8"]
    # A Dynamics value left out (it would reach AC as nothing) and a value Dynamics does not have.
    partial = _lead_source_map(**{"42": "Ads"})
    del partial["10"]
    found = await systems.issues(leads=leads(partial))
    assert paths(found) == ["entities.leads.custom[0].option_map.10", "entities.leads.custom[0].option_map.42"]
    # No map at all.
    found = await systems.issues(leads=leads(None))
    assert paths(found) == ["entities.leads.custom[0].option_map"]
    # Pulling too: an AC option no Dynamics value maps to could not be written back.
    no_web = _lead_source_map(**{"8": "Other"})
    found = await systems.issues(leads=leads(no_web))
    assert paths(found) == ["entities.leads.custom[0].option_map"] and "'Web'" in found[0].message
    assert await systems.issues(leads=leads(no_web, direction="push")) == []


# --- standard mappings ------------------------------------------------------------------------------


async def test_a_standard_field_turned_off_may_be_remapped_to_a_custom_field(systems: Systems) -> None:
    position = systems.fields["Position"]
    remap = [{"dynamics": "jobtitle", "activecampaign": position}]
    assert await systems.issues(contacts={"enabled": True, "direction": "push", "standard": {"jobTitle": False},
                                          "custom": remap}) == []
    found = await systems.issues(contacts={"enabled": True, "direction": "push", "custom": remap})
    assert paths(found) == ["entities.contacts.custom[0]"]
    assert "jobTitle" in found[0].message and "turn it off" in found[0].message
    # The AC side of a standard mapping is taken as well while it is on.
    found = await systems.issues(leads={"enabled": True, "direction": "push", "custom": [
        {"dynamics": "companyname", "activecampaign": "firstName"}]})
    assert paths(found) == ["entities.leads.custom[0]"]
    assert await systems.issues(leads={"enabled": True, "direction": "push", "standard": {"firstName": False},
                                       "custom": [{"dynamics": "companyname", "activecampaign": "firstName"}]}) == []


async def test_email_and_account_cannot_be_turned_off(systems: Systems) -> None:
    found = await systems.issues(contacts={"enabled": True, "direction": "push",
                                           "standard": {"email": False, "account": False, "phone": False}})
    assert paths(found) == ["entities.contacts.standard.account", "entities.contacts.standard.email"]
    found = await systems.issues(leads={"enabled": True, "direction": "push", "standard": {"email": False}},
                                 accounts={"enabled": True, "direction": "push", "standard": {"name": False}})
    assert paths(found) == ["entities.accounts.standard.name", "entities.leads.standard.email"]
    found = await systems.issues(contacts={"enabled": True, "direction": "push", "standard": {"nickname": False}})
    assert paths(found) == ["entities.contacts.standard.nickname"]


async def test_opportunity_fields_are_fixed(systems: Systems) -> None:
    found = await systems.issues(opportunities={"enabled": True, "direction": "push",
                                                "standard": {"stepname": False}, "custom": [
        {"dynamics": "salesstage", "activecampaign": "stage"}]})
    assert paths(found) == ["entities.opportunities.custom", "entities.opportunities.standard.stepname"]


# --- criteria -----------------------------------------------------------------------------------------


async def test_match_criteria_are_checked_against_metadata(systems: Systems) -> None:
    def leads(*conditions: dict[str, Any]) -> dict[str, Any]:
        return {"enabled": True, "direction": "push", "scope": "criteria", "criteria": list(conditions)}

    assert await systems.issues(leads=leads(
        {"field": "leadsourcecode", "operator": "in", "value": [1, 8]},
        {"field": "emailaddress1", "operator": "contains", "value": "@prospects."},
        {"field": "parentaccountid", "operator": "is_empty"},
        {"field": "companyname", "operator": "ne", "value": "Contoso"})) == []
    found = await systems.issues(leads=leads(
        {"field": "nosuch", "operator": "eq", "value": "x"},
        {"field": "leadsourcecode", "operator": "contains", "value": "Web"},
        {"field": "companyname", "operator": "gt", "value": "M"},
        {"field": "leadsourcecode", "operator": "in", "value": [8, "Web", 99]},
        {"field": "companyname", "operator": "eq", "value": ""},
        {"field": "emailaddress1", "operator": "starts_with", "value": ""}))
    assert paths(found) == ["entities.leads.criteria[0].field", "entities.leads.criteria[1].operator",
                            "entities.leads.criteria[2].operator", "entities.leads.criteria[3].value[1]",
                            "entities.leads.criteria[3].value[2]", "entities.leads.criteria[4].value",
                            "entities.leads.criteria[5].value"]
    found = await systems.issues(leads={"enabled": True, "direction": "push", "scope": "criteria"})
    assert paths(found) == ["entities.leads.criteria"]


async def test_custom_criteria_on_opportunities_are_parsed_and_checked(systems: Systems) -> None:
    async def check(text: str) -> list[ConfigIssue]:
        return await systems.issues(opportunities={"enabled": True, "direction": "push", "scope": "custom",
                                                   "custom_filter": text})

    assert await check("estimatedvalue gt 1000 and (stepname eq 'Propose' or not contains(name,'test'))") == []
    assert await check("salesstage eq 2 or _parentaccountid_value eq null") == []
    assert await check("estimatedclosedate lt 2026-12-31T00:00:00Z and statecode eq 0") == []
    refused = {
        "nosuch eq 1": "no column",
        "name like 'x'": "unsupported operator",
        "substringof('a',name)": "unsupported function",
        "tolower(name) eq 'a'": "unsupported function",
        "contains(estimatedvalue,'1')": "works on text",
        "name gt 'M'": "compares numbers and dates",
        "salesstage eq 'Propose'": "whole number",
        "salesstage eq 9": "no option value",
        "parentaccountid eq null": "lookup",
        "Name eq 'x'": "no column",
        "name eq 'x' AND stepname eq 'y'": "unexpected",
        "name eq": "ends too early",
    }
    for text, why in refused.items():
        found = await check(text)
        assert paths(found) == ["entities.opportunities.custom_filter"], (text, found)
        assert why in found[0].message, (text, found[0].message)
    found = await systems.issues(opportunities={"enabled": True, "direction": "push", "scope": "custom"})
    assert paths(found) == ["entities.opportunities.custom_filter"]
    # Custom criteria are an opportunity option only.
    found = await systems.issues(contacts={"enabled": True, "direction": "push", "scope": "custom",
                                           "custom_filter": "firstname eq 'a'"})
    assert paths(found) == ["entities.contacts.scope"]
