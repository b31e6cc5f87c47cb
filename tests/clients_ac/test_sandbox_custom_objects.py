"""Custom-object schemas and records, and the plan limit, against the sandbox."""

from __future__ import annotations

from typing import Any

import pytest

from sync_core.activecampaign import ActiveCampaignClient, NotFoundError, PlanLimitError

SCHEMA = {
    "slug": "d365-opportunity",
    "labels": {"singular": "Opportunity", "plural": "Opportunities"},
    "description": "Dynamics 365 opportunities",
    "fields": [{"id": "amount", "labels": {"singular": "Amount", "plural": "Amounts"}, "type": "number", "scale": 0}],
    "relationships": [{"id": "primary-contact", "labels": {"singular": "Contact", "plural": "Contacts"},
                       "description": "", "namespace": "contacts", "hasMany": False}],
}


async def test_schema_and_records(client: ActiveCampaignClient) -> None:
    schema = await client.create_schema(SCHEMA)
    sid = str(schema["id"])
    assert [s["slug"] for s in await client.list_schemas()] == ["d365-opportunity"]
    assert (await client.get_schema(sid))["slug"] == "d365-opportunity"
    updated = await client.update_schema(sid, {"fields": [
        {"id": "stage", "labels": {"singular": "Stage", "plural": "Stages"}, "type": "text"}]})
    assert {f["id"] for f in updated["fields"]} >= {"amount", "stage"}

    c1 = await client.create_contact({"email": "buyer@example.com"})
    c2 = await client.create_contact({"email": "other@example.com"})
    first = await client.upsert_record(sid, {"externalId": "opp-1", "fields": [{"id": "amount", "value": 100}],
                                             "relationships": {"primary-contact": [int(c1["id"])]}})
    again = await client.upsert_record(sid, {"externalId": "opp-1", "fields": [{"id": "amount", "value": 250}],
                                             "relationships": {"primary-contact": [int(c1["id"])]}})
    assert again["id"] == first["id"]  # keyed by externalId: an update, not a second record
    await client.upsert_record(sid, {"externalId": "opp-2", "fields": [{"id": "amount", "value": 7}],
                                     "relationships": {"primary-contact": [int(c2["id"])]}})
    mine = [r async for r in client.iter_records(sid, contact_id=str(c1["id"]))]
    assert [r["externalId"] for r in mine] == ["opp-1"]
    assert (await client.get_record(sid, first["id"]))["fields"] == [{"id": "amount", "value": 250}]
    assert len([r async for r in client.iter_records(sid)]) == 2

    await client.delete_record(sid, first["id"])
    with pytest.raises(NotFoundError):
        await client.get_record(sid, first["id"])
    await client.delete_record_by_external_id(sid, "opp-2")
    assert [r async for r in client.iter_records(sid)] == []


async def test_records_page(client: ActiveCampaignClient) -> None:
    sid = str((await client.create_schema(SCHEMA))["id"])
    for n in range(120):
        await client.upsert_record(sid, {"externalId": f"opp-{n}", "fields": [{"id": "amount", "value": n}]})
    ext = [r["externalId"] async for r in client.iter_records(sid)]
    assert sorted(ext) == sorted(f"opp-{n}" for n in range(120))


@pytest.mark.parametrize("status", [403, 404, 402])
async def test_plan_without_custom_objects(client: ActiveCampaignClient, ac_state: Any, status: int) -> None:
    ac_state.switches["plan_limit_status"] = status
    ac_state.set_plan("professional")
    with pytest.raises(PlanLimitError):
        await client.list_schemas()
    with pytest.raises(PlanLimitError):
        await client.create_schema(SCHEMA)
    # contacts still work: the limit is about the feature, not the key
    assert await client.find_contact_by_email("nobody@example.com") is None
