"""Contacts, custom fields, tags and lists against the in-process AC sandbox."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from starlette.applications import Starlette

from sync_core.activecampaign import ActiveCampaignClient, DuplicateError, NotFoundError
from sync_core.clock import FakeClock
from tests.clients_ac.conftest import client_for


async def test_connection_check(client: ActiveCampaignClient) -> None:
    me = await client.get_me()
    assert me["id"] and me["username"]
    assert client.calls.snapshot() == {"users.me": 1}


async def test_contact_crud_and_upsert(client: ActiveCampaignClient, ac_state: Any) -> None:
    created = await client.create_contact({"email": "Ada@Example.com", "firstName": "Ada", "lastName": "L"})
    cid = str(created["id"])
    assert (await client.get_contact(cid))["firstName"] == "Ada"
    found = await client.find_contact_by_email("ada@example.com")
    assert found is not None and str(found["id"]) == cid
    assert await client.find_contact_by_email("nobody@example.com") is None

    with pytest.raises(DuplicateError):
        await client.create_contact({"email": "ada@example.com"})

    updated = await client.update_contact(cid, {"lastName": "Lovelace", "email": "ada.l@example.com"})
    assert updated["lastName"] == "Lovelace" and updated["email"] == "ada.l@example.com"

    synced = await client.sync_contact({"email": "ada.l@example.com", "phone": "+441234"})
    assert str(synced["id"]) == cid and synced["phone"] == "+441234"
    fresh = await client.sync_contact({"email": "new.person@example.com", "firstName": "New"})
    assert str(fresh["id"]) != cid

    await client.delete_contact(cid)
    with pytest.raises(NotFoundError):
        await client.get_contact(cid)
    with pytest.raises(NotFoundError):
        await client.delete_contact(cid)
    calls = client.calls.snapshot()
    assert calls["contact.create"] == 2 and calls["contact.sync"] == 2 and calls["contact.delete"] == 2


async def test_paged_read_across_pages(client: ActiveCampaignClient, ac_state: Any, clock: FakeClock) -> None:
    ac_state.reset(seed_contacts=230)
    contacts = [c async for c in client.iter_contacts(page_size=100)]
    ids = [int(c["id"]) for c in contacts]
    assert len(ids) == 230 == len(set(ids)) == len(ac_state.contacts)
    assert ids == sorted(ids)
    assert client.calls.snapshot() == {"contacts.list": 3}
    assert ac_state.count_requests(method="GET", route="/api/3/contacts") == 3


async def test_delta_read_by_updated_after(client: ActiveCampaignClient, ac_state: Any, clock: FakeClock) -> None:
    ac_state.reset(seed_contacts=30)
    clock.advance(3600)
    mark = clock.now()
    clock.advance(60)
    changed = [c async for c in client.iter_contacts(page_size=10)][:3]
    for c in changed:
        await client.update_contact(str(c["id"]), {"firstName": "Changed"})
    since = [c async for c in client.iter_contacts(updated_after=mark - timedelta(seconds=1))]
    assert {str(c["id"]) for c in since} == {str(c["id"]) for c in changed}


async def test_filters_by_tag_list_and_ids(client: ActiveCampaignClient, ac_state: Any) -> None:
    ac_state.reset(seed_contacts=1)  # seeding brings the account's lists
    a = await client.create_contact({"email": "a@example.com"})
    b = await client.create_contact({"email": "b@example.com"})
    tag_id = await client.ensure_tag("D365: Contact")
    assert await client.ensure_tag("d365: contact") == tag_id  # cached, case-insensitive
    ct = await client.add_contact_tag(str(a["id"]), tag_id)
    assert [str(c["id"]) async for c in client.iter_contacts(tag_id=tag_id)] == [str(a["id"])]
    tags = await client.list_contact_tags(str(a["id"]))
    assert [str(t["tag"]) for t in tags] == [tag_id]
    await client.remove_contact_tag(ct)
    assert await client.list_contact_tags(str(a["id"])) == []
    assert any(t["tag"] == "D365: Contact" for t in await client.list_tags(search="D365"))

    lists = await client.list_lists()
    assert lists
    list_id = str(lists[0]["id"])
    await client.set_contact_list_status(str(b["id"]), list_id, 1)
    members = [str(c["id"]) async for c in client.iter_contacts(list_id=list_id)]
    assert str(b["id"]) in members and str(a["id"]) not in members
    await client.set_contact_list_status(str(b["id"]), list_id, 2)
    statuses = {str(x["list"]): str(x["status"]) for x in await client.list_contact_lists(str(b["id"]))}
    assert statuses[list_id] == "2"

    picked = [str(c["id"]) async for c in client.iter_contacts(ids=[str(b["id"])])]
    assert picked == [str(b["id"])]


async def test_ensure_tag_creates_once(client: ActiveCampaignClient, ac_state: Any, ac_app: Starlette,
                                       clock: FakeClock) -> None:
    before = len(ac_state.tags)
    first = await client.ensure_tag("D365: Lead")
    assert len(ac_state.tags) == before + 1
    assert await client.ensure_tag("D365: Lead") == first
    assert client.calls.snapshot().get("tag.create") == 1
    other = client_for(ac_app, clock)  # its own cache: finds the tag instead of creating a second
    assert await other.ensure_tag("d365: LEAD") == first
    assert len(ac_state.tags) == before + 1
    await other.aclose()


async def test_custom_fields_and_values(client: ActiveCampaignClient) -> None:
    field = await client.create_field("Industry", "dropdown", perstag="INDUSTRY", all_lists=False)
    fid = str(field["id"])
    options = await client.create_field_options(fid, ["Retail", "Banking"])
    assert [o["value"] for o in options] == ["Retail", "Banking"]
    assert sorted(o["label"] for o in await client.list_field_options(fid)) == ["Banking", "Retail"]
    assert any(str(f["id"]) == fid for f in await client.list_fields())

    contact = await client.create_contact({"email": "f@example.com",
                                           "fieldValues": [{"field": fid, "value": "Retail"}]})
    values = await client.list_contact_field_values(str(contact["id"]))
    assert [(str(v["field"]), v["value"]) for v in values] == [(fid, "Retail")]
