"""Change tracking against the Dataverse sandbox: paged baseline, resume, deltas, deletes, expiry."""

from __future__ import annotations

from typing import Any

import pytest

from sync_core.dynamics import ChangePage, ChangeTrackingDisabledError, DataverseClient, DeltaLinkExpiredError
from sync_core.model import errors as model
from tests.clients_dynamics.conftest import ClientFactory

SELECT = ["contactid", "lastname", "emailaddress1"]


async def _drain(client: DataverseClient, **kw: Any) -> list[ChangePage]:
    return [p async for p in client.read_changes("contacts", select=SELECT, **kw)]


@pytest.mark.parametrize("switches", [
    {},
    {"ct_page_order": "version", "ct_token_from": "last_page", "skiptoken_format": "opaque"},
])
async def test_baseline_resumed_in_new_client_then_delta_with_deletes(make_client: ClientFactory, dv: Any,
                                                                      switches: dict[str, Any]) -> None:
    dv.set_switches(switches)
    dv.seed(contacts=45, seed=7)
    first = make_client()
    # read two pages, "crash", keep only the saved nextLink
    saved: str | None = None
    seen: list[str] = []
    async for page in first.read_changes("contacts", select=SELECT, page_size=10):
        assert page.delta_link is None and page.next_link
        seen += [r["contactid"] for r in page.records]
        saved = page.next_link
        if len(seen) == 20:
            break
    assert saved is not None

    second = make_client()
    rest = await _drain(second, resume_link=saved, page_size=10)
    assert all(p.next_link for p in rest[:-1]) and rest[-1].next_link is None
    assert all(p.delta_link is None for p in rest[:-1]) and rest[-1].delta_link
    seen += [r["contactid"] for p in rest for r in p.records]
    assert len(seen) == len(set(seen)) == len(dv.rows["contact"]) == 45
    assert set(rest[-1].records[0]) >= {"contactid", "lastname"}
    delta = rest[-1].delta_link
    assert delta is not None

    # changes after the baseline: one update, one create, one delete, one created-then-deleted
    updated, deleted = seen[3], seen[4]
    await second.update("contacts", updated, {"lastname": "Renamed"})
    await second.update("contacts", updated, {"lastname": "Renamed twice"})
    created = await second.create("contacts", {"lastname": "Newcomer"})
    await second.delete("contacts", deleted)
    ephemeral = await second.create("contacts", {"lastname": "Ephemeral"})
    await second.delete("contacts", str(ephemeral))

    third = make_client()
    changes = await _drain(third, resume_link=delta)
    records = {r["contactid"]: r for p in changes for r in p.records}
    deleted_ids = {d for p in changes for d in p.deleted_ids}
    assert set(records) == {updated, created}
    assert records[updated]["lastname"] == "Renamed twice"  # once, with current values
    assert deleted in deleted_ids and ephemeral in deleted_ids
    assert changes[-1].delta_link and changes[-1].delta_link != delta
    assert third.calls.snapshot() == {"changes": len(changes)}

    # nothing changed since: an empty delta with a fresh link
    quiet = await _drain(third, resume_link=changes[-1].delta_link)
    assert [r for p in quiet for r in p.records] == [] and quiet[-1].delta_link


@pytest.mark.parametrize("status", [400, 410, 500])
async def test_expired_delta_link_raises(client: DataverseClient, dv: Any, status: int) -> None:
    dv.set_switches({"ct_expired_status": status})
    dv.seed(contacts=5, seed=1)
    pages = await _drain(client)
    delta = pages[-1].delta_link
    assert delta
    dv.expire_change_tokens("contact")
    with pytest.raises(DeltaLinkExpiredError) as info:
        await _drain(client, resume_link=delta)
    assert isinstance(info.value, model.RetriableError)
    assert client.calls.snapshot()["changes"] == len(pages) + 1  # not retried


@pytest.mark.parametrize("reading", ["ignore", "error"])
async def test_table_without_change_tracking(client: DataverseClient, dv: Any, reading: str) -> None:
    dv.set_switches({"ct_disabled": reading})
    dv.set_change_tracking("account", False)
    with pytest.raises(ChangeTrackingDisabledError) as info:
        async for _ in client.read_changes("accounts", select=["name"]):
            pass
    assert isinstance(info.value, model.ConfigurationError)
