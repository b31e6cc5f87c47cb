"""$batch, metadata, and messages against the Dataverse sandbox."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from sync_core.dynamics import (
    BatchOperation,
    DataverseClient,
    NotExecutedError,
    NotFoundError,
    ValidationError,
)


async def test_batch_of_1000_with_one_failure_continues(client: DataverseClient, dv: Any) -> None:
    before = len(dv.rows["contact"])
    ops = [BatchOperation("POST", "contacts", {"lastname": f"Batch {i}", "emailaddress1": f"b{i}@example.com"})
           for i in range(1000)]
    ops[437] = BatchOperation("POST", "contacts", {"lastname": "x" * 51})  # over MaxLength 50
    results = await client.execute_batch(ops, continue_on_error=True)
    assert client.calls.snapshot() == {"$batch": 1}
    assert len(results) == 1000
    failed = [i for i, r in enumerate(results) if not r.ok]
    assert failed == [437]
    assert isinstance(results[437].error, ValidationError) and results[437].error.dataverse_code == "0x80044331"
    assert len(dv.rows["contact"]) == before + 999
    created = {r.entity_id for r in results if r.ok}
    assert len(created) == 999 and created <= set(dv.rows["contact"])


async def test_more_than_1000_operations_split_into_calls(client: DataverseClient, dv: Any) -> None:
    ops = [BatchOperation("POST", "accounts", {"name": f"Acct {i}"}) for i in range(1001)]
    results = await client.execute_batch(ops)
    assert client.calls.snapshot() == {"$batch": 2}
    assert all(r.ok for r in results) and len({r.entity_id for r in results}) == 1001


async def test_atomic_change_set_rolls_back(client: DataverseClient, dv: Any) -> None:
    before = {k: len(v) for k, v in dv.rows.items()}
    account_ref = "$1"
    ops = [
        BatchOperation("POST", "accounts", {"name": "Atomic Inc"}, content_id="1"),
        BatchOperation("POST", "contacts", {"lastname": "Linked", "parentcustomerid_account@odata.bind": account_ref}),
        BatchOperation("PATCH", f"contacts({uuid.uuid4()})", {"lastname": "gone"}, headers={"If-Match": "*"}),
    ]
    results = await client.execute_batch(ops, atomic=True)
    assert len(results) == 3 and all(not r.ok for r in results)
    assert all(isinstance(r.error, NotFoundError) for r in results)
    assert {k: len(v) for k, v in dv.rows.items()} == before

    # the same change set without the failing part commits, and $1 resolved to the new account
    results = await client.execute_batch(ops[:2], atomic=True)
    assert all(r.ok for r in results)
    contact = await client.get("contacts", str(results[1].entity_id), select=["_parentcustomerid_value"])
    assert contact is not None and contact["_parentcustomerid_value"] == results[0].entity_id


async def test_batch_without_continue_stops_at_first_error(client: DataverseClient, dv: Any) -> None:
    ops = [BatchOperation("POST", "contacts", {"lastname": "one"}),
           BatchOperation("POST", "contacts", {"lastname": "y" * 80}),
           BatchOperation("POST", "contacts", {"lastname": "three"})]
    results = await client.execute_batch(ops, continue_on_error=False)
    assert [r.status for r in results] == [204, 400, 424]
    assert isinstance(results[2].error, NotExecutedError)
    names = {r["lastname"] for r in dv.rows["contact"].values()}
    assert "one" in names and "three" not in names


async def test_metadata_with_options_required_levels_and_cache(client: DataverseClient) -> None:
    lead = await client.entity_metadata("lead")
    calls = client.calls.snapshot()["metadata"]
    assert (lead.entity_set_name, lead.primary_id_attribute, lead.primary_name_attribute) == ("leads", "leadid",
                                                                                              "fullname")
    assert lead.change_tracking_enabled
    subject = lead.attributes["subject"]
    assert (subject.type_name, subject.required_level, subject.max_length) == ("StringType", "ApplicationRequired",
                                                                               300)
    source = lead.attributes["leadsourcecode"]
    assert source.type_name == "PicklistType" and source.options is not None
    assert source.options[8] == "Web" and len(source.options) == 10
    state = lead.attributes["statecode"]
    assert state.options == {0: "Open", 1: "Qualified", 2: "Disqualified"} and not state.is_valid_for_create
    assert lead.attributes["customerid"].type_name == "CustomerType"
    assert set(lead.attributes["customerid"].targets) == {"account", "contact"}
    assert lead.attributes["parentaccountid"].targets == ("account",)

    again = await client.entity_metadata("lead")
    assert again is lead and client.calls.snapshot()["metadata"] == calls  # cached: no HTTP call
    assert await client.entity_set_name("lead") == "leads"

    opportunity = await client.entity_metadata("opportunity")
    assert opportunity.attributes["estimatedvalue"].type_name == "MoneyType"
    assert opportunity.attributes["name"].required_level == "ApplicationRequired"


async def test_qualify_lead_and_merge(client: DataverseClient, dv: Any) -> None:
    lead_id = await client.create("leads", {"subject": "Interested", "lastname": "Lead", "firstname": "Larry",
                                            "emailaddress1": "larry@example.com"})
    created = await client.qualify_lead(str(lead_id), create_contact=True)
    assert any("contactid" in ref for ref in created)
    assert dv.rows["lead"][lead_id]["statecode"] == 1

    keep = await client.create("contacts", {"lastname": "Keep", "emailaddress1": "same@example.com"})
    lose = await client.create("contacts", {"lastname": "Lose", "emailaddress1": "same@example.com"})
    await client.merge("contact", str(keep), str(lose), update_content={"jobtitle": "Merged title"})
    loser = await client.get("contacts", str(lose), select=["merged", "_masterid_value", "statecode"])
    assert loser is not None and loser["merged"] is True and loser["_masterid_value"] == keep
    winner = await client.get("contacts", str(keep), select=["jobtitle"])
    assert winner is not None and winner["jobtitle"] == "Merged title"


@pytest.mark.parametrize("reading", ["error", "allow"])
async def test_qualify_closed_lead(client: DataverseClient, dv: Any, reading: str) -> None:
    dv.set_switches({"qualify_closed_lead": reading})
    lead_id = await client.create("leads", {"subject": "Twice", "lastname": "Lead"})
    await client.qualify_lead(str(lead_id))
    if reading == "error":
        with pytest.raises(ValidationError):
            await client.qualify_lead(str(lead_id))
    else:
        await client.qualify_lead(str(lead_id))
