"""Accounts, account-contact associations and account custom fields against the sandbox."""

from __future__ import annotations

from typing import Any

import pytest

from sync_core.activecampaign import ActiveCampaignClient, DuplicateError, NotFoundError, ValidationError


async def test_account_crud_and_find_by_name(client: ActiveCampaignClient) -> None:
    acme = await client.create_account({"name": "Acme Ltd", "accountUrl": "https://acme.example"})
    await client.create_account({"name": "Acme Ltd Holdings"})
    aid = str(acme["id"])
    with pytest.raises(DuplicateError):
        await client.create_account({"name": "Acme Ltd"})
    found = await client.find_account_by_name("acme ltd")
    assert found is not None and str(found["id"]) == aid  # exact match, not the "contains" neighbour
    assert await client.find_account_by_name("Acme") is None
    assert {a["name"] async for a in client.iter_accounts(search="acme")} == {"Acme Ltd", "Acme Ltd Holdings"}
    assert (await client.update_account(aid, {"accountUrl": "https://acme.test"}))["accountUrl"] == "https://acme.test"
    assert (await client.get_account(aid))["name"] == "Acme Ltd"
    await client.delete_account(aid)
    with pytest.raises(NotFoundError):
        await client.get_account(aid)


async def test_accounts_page(client: ActiveCampaignClient) -> None:
    for n in range(205):
        await client.create_account({"name": f"Company {n:03d}"})
    before = client.calls.snapshot().get("accounts.list", 0)
    names = [a["name"] async for a in client.iter_accounts()]
    assert len(names) == 205 == len(set(names))
    assert client.calls.snapshot()["accounts.list"] - before == 3


async def test_account_contacts(client: ActiveCampaignClient) -> None:
    account = await client.create_account({"name": "Globex"})
    other = await client.create_account({"name": "Initech"})
    contact = await client.create_contact({"email": "hank@globex.example"})
    aid, cid = str(account["id"]), str(contact["id"])
    link = await client.create_account_contact(aid, cid, job_title="Director")
    assert link["jobTitle"] == "Director"
    with pytest.raises(ValidationError):  # a contact belongs to one account only
        await client.create_account_contact(str(other["id"]), cid)
    assert [str(x["id"]) async for x in client.iter_account_contacts(contact_id=cid)] == [str(link["id"])]
    assert [str(x["contact"]) async for x in client.iter_account_contacts(account_id=aid)] == [cid]
    assert (await client.update_account_contact(str(link["id"]), job_title="CEO"))["jobTitle"] == "CEO"
    await client.delete_account_contact(str(link["id"]))
    assert [x async for x in client.iter_account_contacts(account_id=aid)] == []


async def test_account_custom_field_values(client: ActiveCampaignClient, ac_state: Any) -> None:
    size = await client.create_account_custom_field("Size", "text")
    revenue = await client.create_account_custom_field("Revenue", "currency")
    metas = {m["fieldLabel"]: str(m["id"]) for m in await client.list_account_custom_fields()}
    assert metas == {"Size": str(size["id"]), "Revenue": str(revenue["id"])}
    account = await client.create_account({"name": "Umbrella"})
    aid = str(account["id"])
    await client.set_account_field_values(aid, {metas["Size"]: "500-1000"})
    await client.set_account_field_values(aid, {metas["Size"]: "1000+", metas["Revenue"]: 10050},
                                          currencies={metas["Revenue"]: "USD"})
    values = {str(v["customFieldId"]): v for v in await client.list_account_field_values(aid)}
    assert values[metas["Size"]]["fieldValue"] == "1000+"
    assert str(values[metas["Revenue"]]["fieldValue"]) == "10050"
    calls = client.calls.snapshot()
    assert calls["accountFieldData.bulkCreate"] == 2 and calls["accountFieldData.bulkUpdate"] == 1
