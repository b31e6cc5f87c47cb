"""import/bulk_import and import/info: validation, per-minute limits, asynchronous completion, later failures."""

from __future__ import annotations

from typing import Any

import httpx

from sandbox.activecampaign.state import ACState
from sandbox.clock import SandboxClock

from .helpers import new_contact, new_field, new_list

VALIDATION = ("JSON payload did not pass validation. Please fix failure Reasons and retry. The import was not queued "
              "for processing.")


def rows(n: int, prefix: str = "imp") -> list[dict[str, Any]]:
    return [{"email": f"{prefix}{i}@example.com", "first_name": f"F{i}"} for i in range(n)]


async def submit(client: httpx.AsyncClient, contacts: list[dict[str, Any]]) -> httpx.Response:
    return await client.post("/api/3/import/bulk_import", json={"contacts": contacts})


async def test_import_is_queued_then_completes_after_delay(client: httpx.AsyncClient, ac: ACState,
                                                           ac_clock: SandboxClock) -> None:
    field = await new_field(client, "Size")
    lst = await new_list(client, "Imported")
    existing = await new_contact(client, "known@example.com", firstName="Old")
    contacts: list[dict[str, Any]] = [
        {"email": "known@example.com", "first_name": "New", "tags": ["from-import", "second"],
         "fields": [{"id": int(field), "value": "big"}], "subscribe": [{"listid": int(lst)}]},
        {"email": "fresh@example.com", "last_name": "Fresh", "tags": ["from-import"]},
    ]
    r = await submit(client, contacts)
    assert r.status_code == 200
    body = r.json()
    assert (body["Success"], body["queued_contacts"], body["message"]) == (1, 2, "Contact import queued")
    batch = body["batchId"]
    pending = (await client.get("/api/3/import/info", params={"batchId": batch})).json()
    assert pending == {"status": "outstanding", "success": [], "failure": []}
    assert ac.contact_by_email("fresh@example.com") is None
    status = (await client.get("/api/3/import/bulk_import")).json()
    assert status["outstanding"][0]["batches"] == "1" and status["outstanding"][0]["contacts"] == "2"

    ac_clock.advance(5)
    done = (await client.get("/api/3/import/info", params={"batchId": batch})).json()
    fresh = ac.contact_by_email("fresh@example.com")
    assert fresh is not None
    assert done == {"status": "completed", "success": [existing["id"], str(fresh.id)], "failure": []}
    known = (await client.get(f"/api/3/contacts/{existing['id']}")).json()
    assert known["contact"]["firstName"] == "New"
    assert known["contact"]["udate"] > existing["udate"]
    assert [v["value"] for v in known["fieldValues"]] == ["big"]
    assert [(x["list"], x["status"]) for x in known["contactLists"]] == [(lst, "1")]
    tags = {t["tag"]: t["id"] for t in (await client.get("/api/3/tags")).json()["tags"]}
    assert set(tags) == {"from-import", "second"}  # created once, reused for the second row
    tagged = (await client.get("/api/3/contacts", params={"tagid": tags["from-import"]})).json()
    assert tagged["meta"]["total"] == "2"
    assert (await client.get("/api/3/import/bulk_import")).json()["recentlyCompleted"][0]["contacts"] == "2"


async def test_completion_is_seen_by_any_later_request(client: httpx.AsyncClient, ac: ACState,
                                                       ac_clock: SandboxClock) -> None:
    await submit(client, rows(2))
    ac_clock.advance(4.9)
    assert (await client.get("/api/3/contacts", params={"email": "imp0@example.com"})).json()["contacts"] == []
    ac_clock.advance(0.1)
    assert len((await client.get("/api/3/contacts", params={"email": "imp0@example.com"})).json()["contacts"]) == 1


async def test_one_bad_row_rejects_the_whole_call(client: httpx.AsyncClient, ac: ACState) -> None:
    contacts = rows(3)
    contacts[2]["email"] = "not-an-email"
    r = await submit(client, contacts)
    assert r.status_code == 400
    assert r.json() == {"success": 0, "message": VALIDATION,
                        "failureReasons": [{"contact": 2, "failureReason": "Field\u2018 email\u2019 incorrect format"}]}
    assert ac.imports == {}
    r = await submit(client, [{"email": "x@example.com", "fields": [{"id": 999, "value": "v"}]}, *rows(1)])
    assert r.status_code == 400 and r.json()["failureReasons"][0]["contact"] == 0


async def test_more_than_250_contacts_rejected(client: httpx.AsyncClient) -> None:
    assert (await submit(client, rows(250))).status_code == 200
    r = await submit(client, rows(251))
    assert r.status_code == 400 and r.json()["success"] == 0


async def test_multi_contact_calls_over_100_per_minute_get_ac_400(client: httpx.AsyncClient,
                                                                  ac_clock: SandboxClock) -> None:
    for i in range(100):
        assert (await submit(client, rows(2, prefix=f"m{i}-"))).status_code == 200
        ac_clock.advance(0.5)  # 100 calls in 50 s
    r = await submit(client, rows(2, prefix="over"))
    assert r.status_code == 400
    assert r.json() == {"success": 0, "message": "Rate limit exceeded.", "failureReasons": [
        "Up to 100 imports may be requested per minute.Please batch contacts into larger requests, or retry this "
        "request in a minute."]}
    ac_clock.advance(10.0)  # the first call left the sliding minute
    assert (await submit(client, rows(2, prefix="later"))).status_code == 200


async def test_single_contact_calls_limited_to_20_per_minute(client: httpx.AsyncClient,
                                                             ac_clock: SandboxClock) -> None:
    for i in range(20):
        assert (await submit(client, rows(1, prefix=f"s{i}-"))).status_code == 200
    r = await submit(client, rows(1, prefix="over"))
    assert r.status_code == 400 and r.json()["message"] == "Rate limit exceeded."
    assert (await submit(client, rows(2, prefix="multi"))).status_code == 200  # separate budget
    ac_clock.advance(60)
    assert (await submit(client, rows(1, prefix="again"))).status_code == 200


async def test_rows_failing_at_processing_are_listed_under_failure(client: httpx.AsyncClient, ac: ACState,
                                                                   ac_clock: SandboxClock) -> None:
    r = await client.post("/_sandbox/faults", json={"import_fail_pattern": "@bounce."})
    assert r.status_code == 200
    batch = (await submit(client, [{"email": "ok@example.com"}, {"email": "nope@bounce.example"}])).json()["batchId"]
    ac_clock.advance(5)
    info = (await client.get("/api/3/import/info", params={"batchId": batch})).json()
    ok = ac.contact_by_email("ok@example.com")
    assert ok is not None
    assert info == {"status": "completed", "success": [str(ok.id)], "failure": ["nope@bounce.example"]}
    assert ac.contact_by_email("nope@bounce.example") is None


async def test_import_info_errors(client: httpx.AsyncClient) -> None:
    r = await client.get("/api/3/import/info")
    assert r.status_code == 400 and r.json() == {"success": 0, "message": "'batchId' is a required field."}
    assert (await client.get("/api/3/import/info", params={"batchId": "nope"})).status_code == 404


async def test_unsubscribed_contacts_are_not_resubscribed(client: httpx.AsyncClient, ac_clock: SandboxClock) -> None:
    lst = await new_list(client, "L")
    c = await new_contact(client, "unsub@example.com")
    await client.post("/api/3/contactLists", json={"contactList": {"list": lst, "contact": c["id"], "status": 2}})
    await submit(client, [{"email": "unsub@example.com", "subscribe": [{"listid": int(lst)}]}, *rows(1)])
    ac_clock.advance(5)
    lists = (await client.get(f"/api/3/contacts/{c['id']}/contactLists")).json()["contactLists"]
    assert [x["status"] for x in lists] == ["2"]
