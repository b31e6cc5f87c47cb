"""CRUD, conditional writes, lookups, paging and counting against the Dataverse sandbox."""

from __future__ import annotations

import unicodedata
import uuid
from typing import Any

import pytest

from sync_core.dynamics import (
    AuthenticationError,
    ConflictError,
    DataverseClient,
    NotFoundError,
    alternate_key,
    format_literal,
    quote_string,
)
from sync_core.model import errors as model
from tests.clients_dynamics.conftest import ClientFactory


def _fold(text: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c)).casefold()


async def test_create_get_update_delete_with_lookup_bind(client: DataverseClient) -> None:
    account_id = await client.create("accounts", {"name": "Contoso"})
    assert isinstance(account_id, str)
    contact = await client.create("contacts", {"lastname": "O'Brien", "firstname": "Ann",
                                               "parentcustomerid_account@odata.bind": f"/accounts({account_id})"},
                                  return_representation=True)
    assert isinstance(contact, dict)
    contact_id = contact["contactid"]
    got = await client.get("contacts", contact_id, select=["lastname", "_parentcustomerid_value"])
    assert got is not None
    assert got["lastname"] == "O'Brien" and got["_parentcustomerid_value"] == account_id

    await client.update("contacts", contact_id, {"jobtitle": "CTO", "parentcustomerid_account@odata.bind": None})
    got = await client.get("contacts", contact_id, select=["jobtitle", "_parentcustomerid_value"])
    assert got is not None and got["jobtitle"] == "CTO" and got["_parentcustomerid_value"] is None

    await client.delete("contacts", contact_id)
    assert await client.get("contacts", contact_id) is None
    await client.delete("contacts", contact_id)  # idempotent
    assert client.calls.snapshot()["create"] == 2


@pytest.mark.parametrize("code", ["0x80060882", ""])
async def test_if_match_semantics(client: DataverseClient, dv: Any, code: str) -> None:
    dv.set_switches({"concurrency_code": code})
    missing = str(uuid.uuid4())
    with pytest.raises(NotFoundError) as info:
        await client.update("contacts", missing, {"lastname": "x"})  # If-Match: * by default
    assert isinstance(info.value, model.SkippableError) and info.value.status == 404
    assert missing not in dv.rows["contact"]  # no accidental create

    contact_id = await client.create("contacts", {"lastname": "Etag"})
    assert isinstance(contact_id, str)
    before = await client.get("contacts", contact_id, select=["lastname"])
    assert before is not None
    stale = before["@odata.etag"]
    await client.update("contacts", contact_id, {"lastname": "Changed"}, if_match=stale)
    with pytest.raises(ConflictError) as conflict:
        await client.update("contacts", contact_id, {"lastname": "Again"}, if_match=stale)
    assert conflict.value.status == 412 and conflict.value.dataverse_code == code
    with pytest.raises(ConflictError):
        await client.delete("contacts", contact_id, if_match=stale)
    after = await client.get("contacts", contact_id, select=["lastname"])
    assert after is not None and after["lastname"] == "Changed"


async def test_upsert_creates_updates_and_honours_prevent_flags(client: DataverseClient, dv: Any) -> None:
    new_id = str(uuid.uuid4())
    await client.upsert("contacts", new_id, {"lastname": "Upserted"})
    assert dv.rows["contact"][new_id]["lastname"] == "Upserted"
    await client.upsert("contacts", new_id, {"lastname": "Updated"}, prevent_create=True)
    assert dv.rows["contact"][new_id]["lastname"] == "Updated"
    with pytest.raises(ConflictError):
        await client.upsert("contacts", new_id, {"lastname": "Nope"}, prevent_update=True)
    with pytest.raises(NotFoundError):
        await client.upsert("contacts", str(uuid.uuid4()), {"lastname": "Nope"}, prevent_create=True)
    assert client.calls.snapshot()["upsert"] == 4


async def test_paged_query_follows_next_links(make_client: ClientFactory, dv: Any) -> None:
    dv.seed(contacts=57, seed=3)
    client = make_client(page_size=10)
    pages = [p async for p in client.query("contacts", select=["contactid", "lastname"], orderby="lastname asc")]
    assert len(pages) == 6
    assert all(p.next_link for p in pages[:-1]) and pages[-1].next_link is None
    ids = [r["contactid"] for p in pages for r in p.records]
    assert len(ids) == len(set(ids)) == len(dv.rows["contact"])
    # Dataverse collates case- and accent-insensitively (Özdemir sorts with the O's)
    names = [_fold(r["lastname"]) for p in pages for r in p.records]
    assert names == sorted(names)
    assert client.calls.snapshot() == {"query": 6}

    # a saved nextLink resumes in another client instance
    other = make_client(page_size=10)
    rest = [p async for p in other.query("contacts", resume_link=pages[3].next_link)]
    assert [r["contactid"] for p in rest for r in p.records] == ids[40:]


@pytest.mark.parametrize("top_reading", ["ignore_top", "top_wins"])
async def test_filter_with_literals_top_and_count(client: DataverseClient, dv: Any, top_reading: str) -> None:
    dv.set_switches({"top_with_maxpagesize": top_reading})
    account = await client.create("accounts", {"name": "Fabrikam"})
    for i in range(7):
        await client.create("contacts", {"lastname": f"Filter{i}", "firstname": "Q" if i % 2 else "R",
                                         "parentcustomerid_account@odata.bind": f"/accounts({account})"})
    flt = f"firstname eq {quote_string('Q')} and _parentcustomerid_value eq {format_literal(uuid.UUID(str(account)))}"
    rows = await client.query_all("contacts", select=["lastname"], filter=flt)
    assert sorted(r["lastname"] for r in rows) == ["Filter1", "Filter3", "Filter5"]
    top = await client.query_all("contacts", select=["lastname"], filter=flt, top=2)
    assert len(top) == 2
    counted = await client.count("contacts", filter=flt)
    assert (counted.count, counted.limit_exceeded) == (3, False)


async def test_count_is_capped_at_5000(client: DataverseClient, dv: Any) -> None:
    dv.seed(contacts=5200, seed=5)
    result = await client.count("contacts")
    assert result.count == 5000 and result.limit_exceeded
    assert client.calls.snapshot() == {"count": 1}


async def test_alternate_key_addressing(client: DataverseClient) -> None:
    key = alternate_key(emailaddress1="nobody@example.com")
    assert key == "emailaddress1='nobody@example.com'"
    # contacts have no alternate key on emailaddress1 by default (reference §4.2): the service refuses
    with pytest.raises(model.SyncError):
        await client.upsert("contacts", key, {"lastname": "K"})


@pytest.mark.parametrize("body", ["empty", "error"])
async def test_bad_token_is_an_authentication_error(make_client: ClientFactory, dv: Any, body: str) -> None:
    dv.set_switches({"auth_401_body": body})
    client = make_client(token="not-the-token")
    with pytest.raises(AuthenticationError) as info:
        await client.who_am_i()
    assert isinstance(info.value, model.FatalError) and info.value.status == 401
    assert client.calls.total == 1  # not retried
