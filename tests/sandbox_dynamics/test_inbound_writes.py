"""Inbound writes: conditional PATCH, $batch with per-operation results, MaxLength, read-only columns, binds,
deactivation, and service protection for big batches.

Sources: perform-conditional-operations-using-web-api.md (If-Match, 412), use-upsert-insert-update-record.md,
execute-batch-operations-using-web-api.md (continue-on-error, the MaxLength example), entity-attribute-metadata.md
("the value is ignored"), update-delete-entities-using-web-api.md (statecode with statuscode),
data-service-error-codes.md (0x80060882, 0x80048408, 0x80090800), api-limits.md (429, Retry-After, codes).
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Sequence
from typing import Any

import httpx

from sandbox.clock import SandboxClock
from sandbox.dynamics import Dataverse

from .conftest import API

MISSING = "11111111-2222-4333-8444-555555555555"


def part(method: str, url: str, body: Any = None, headers: dict[str, str] | None = None) -> str:
    lines = ["Content-Type: application/http", "Content-Transfer-Encoding: binary", "", f"{method} {API}{url} HTTP/1.1"]
    lines += [f"{k}: {v}" for k, v in (headers or {}).items()]
    if body is not None:
        lines += ["Content-Type: application/json; type=entry", "", json.dumps(body)]
    else:
        lines += [""]
    return "\r\n".join(lines)


async def send_batch(
    client: httpx.AsyncClient, parts: Sequence[str | list[str]], continue_on_error: bool = True
) -> httpx.Response:
    chunks = []
    for i, p in enumerate(parts):
        if isinstance(p, list):
            inner = "".join(f"--cs{i}\r\n{x}\r\n" for x in p) + f"--cs{i}--"
            chunks.append(f"--b\r\nContent-Type: multipart/mixed; boundary=cs{i}\r\n\r\n{inner}\r\n")
        else:
            chunks.append(f"--b\r\n{p}\r\n")
    headers = {"Content-Type": "multipart/mixed; boundary=b"}
    if continue_on_error:
        headers["Prefer"] = "odata.continue-on-error"
    return await client.post(API + "$batch", content=("".join(chunks) + "--b--\r\n").encode(), headers=headers)


def statuses(r: httpx.Response) -> list[int]:
    return [int(s) for s in re.findall(r"^HTTP/1\.1 (\d{3})", r.text, flags=re.M)]


def errors(r: httpx.Response) -> list[dict[str, Any]]:
    return [json.loads(m)["error"] for m in re.findall(r'^(\{"error".*\})\s*$', r.text, flags=re.M)]


def contact_ids(dv: Dataverse, n: int) -> list[str]:
    return dv.sorted_ids("contact")[:n]


async def test_conditional_patch(client: httpx.AsyncClient, dv: Dataverse) -> None:
    cid = contact_ids(dv, 1)[0]
    etag = dv.etag(dv.rows["contact"][cid])
    assert (
        await client.patch(API + f"contacts({cid})", json={"jobtitle": "A"}, headers={"If-Match": etag})
    ).status_code == 204
    r = await client.patch(API + f"contacts({cid})", json={"jobtitle": "B"}, headers={"If-Match": etag})
    assert r.status_code == 412 and r.json()["error"]["code"] == "0x80060882"
    assert (
        r.json()["error"]["message"]
        == "The version of the existing record doesn't match the RowVersion property provided."
    )
    assert dv.rows["contact"][cid]["jobtitle"] == "A"
    current = dv.etag(dv.rows["contact"][cid])
    await client.delete(API + f"contacts({cid})")
    r = await client.patch(API + f"contacts({cid})", json={"jobtitle": "C"}, headers={"If-Match": current})
    assert r.status_code == 404 and r.json()["error"]["code"] == "0x80040217"
    assert dv.get("contact", cid) is None  # not an upsert
    assert (await client.patch(API + f"contacts({cid})", json={"lastname": "Back"})).status_code == 204
    assert dv.get("contact", cid) is not None  # without If-Match a PATCH is an upsert


async def test_batch_of_patches_reports_each_operation(client: httpx.AsyncClient, dv: Dataverse) -> None:
    a, b, c, d, e = contact_ids(dv, 5)
    stale = dv.etag(dv.rows["contact"][b])
    await client.patch(API + f"contacts({b})", json={"jobtitle": "moved on"})
    await client.delete(API + f"contacts({c})")
    ops = [
        part("PATCH", f"contacts({a})", {"jobtitle": "ok 1"}, {"If-Match": dv.etag(dv.rows["contact"][a])}),
        part("PATCH", f"contacts({b})", {"jobtitle": "stale"}, {"If-Match": stale}),
        part("PATCH", f"contacts({c})", {"jobtitle": "gone"}, {"If-Match": "*"}),
        part("PATCH", f"contacts({d})", {"lastname": "x" * 51}, {"If-Match": "*"}),
        part("PATCH", f"contacts({e})", {"jobtitle": "ok 5"}, {"If-Match": "*"}),
    ]
    r = await send_batch(client, ops)
    assert r.status_code == 200 and statuses(r) == [204, 412, 404, 400, 204]
    assert r.headers["Preference-Applied"] == "odata.continue-on-error"
    codes = [err["code"] for err in errors(r)]
    assert codes == ["0x80060882", "0x80040217", "0x80044331"]
    assert errors(r)[2]["message"] == (
        "A validation error occurred.  The length of the 'lastname' attribute of the 'contact' entity exceeded the "
        "maximum allowed length of '50'."
    )
    assert dv.rows["contact"][a]["jobtitle"] == "ok 1" and dv.rows["contact"][e]["jobtitle"] == "ok 5"
    assert dv.get("contact", c) is None and dv.rows["contact"][b]["jobtitle"] == "moved on"
    # without continue-on-error the batch stops at the first failure (400) and the rest is not run
    r = await send_batch(
        client, [ops[3], part("PATCH", f"contacts({a})", {"jobtitle": "never"}, {"If-Match": "*"})], False
    )
    assert r.status_code == 400 and statuses(r) == [400]
    assert dv.rows["contact"][a]["jobtitle"] == "ok 1"


async def test_change_set_is_atomic_inside_a_continuing_batch(client: httpx.AsyncClient, dv: Dataverse) -> None:
    a, b, c = contact_ids(dv, 3)
    changeset = [
        part("PATCH", f"contacts({a})", {"jobtitle": "cs"}, {"If-Match": "*"}),
        part("PATCH", f"contacts({MISSING})", {"jobtitle": "cs"}, {"If-Match": "*"}),
    ]
    r = await send_batch(client, [changeset, part("PATCH", f"contacts({c})", {"jobtitle": "after"}, {"If-Match": "*"})])
    assert r.status_code == 200 and statuses(r) == [404, 204]
    assert dv.rows["contact"][a].get("jobtitle") != "cs" and dv.rows["contact"][c]["jobtitle"] == "after"
    del b


async def test_batch_limit_and_location_headers(client: httpx.AsyncClient, dv: Dataverse) -> None:
    ids = contact_ids(dv, 40)
    ops = [part("PATCH", f"contacts({ids[i % 40]})", {"jobtitle": f"n{i}"}, {"If-Match": "*"}) for i in range(1001)]
    r = await send_batch(client, list(ops))
    assert r.status_code == 400 and "1001" in r.json()["error"]["message"]
    r = await send_batch(client, list(ops[:1000]))
    assert r.status_code == 200 and statuses(r) == [204] * 1000
    r = await send_batch(client, [part("POST", "contacts", {"lastname": "New"})])
    assert "Location: https://" in r.text and "OData-EntityId: https://" in r.text


async def test_max_length_counts_utf16_units(client: httpx.AsyncClient, dv: Dataverse) -> None:
    cid = contact_ids(dv, 1)[0]
    assert (await client.patch(API + f"contacts({cid})", json={"lastname": "x" * 50})).status_code == 204
    r = await client.patch(API + f"contacts({cid})", json={"lastname": "x" * 49 + "😀"})  # 49 + 2 UTF-16 units
    assert r.status_code == 400 and r.json()["error"]["code"] == "0x80044331"
    r = await client.post(API + "leads", json={"lastname": "L", "subject": "s" * 301})
    assert r.status_code == 400 and "maximum allowed length of '300'" in r.json()["error"]["message"]


async def test_columns_not_valid_for_update_are_ignored(client: httpx.AsyncClient, dv: Dataverse) -> None:
    cid = contact_ids(dv, 1)[0]
    before = dict(dv.rows["contact"][cid])
    body = {"createdon": "2000-01-01T00:00:00Z", "fullname": "Forged Name", "merged": True, "jobtitle": "Real"}
    assert (await client.patch(API + f"contacts({cid})", json=body)).status_code == 204
    after = dv.rows["contact"][cid]
    assert after["createdon"] == before["createdon"] and after["fullname"] == before["fullname"]
    assert after["merged"] is False and after["jobtitle"] == "Real"


async def test_lookup_binds(client: httpx.AsyncClient, dv: Dataverse) -> None:
    cid = contact_ids(dv, 1)[0]
    account = dv.sorted_ids("account")[0]
    url = API + f"contacts({cid})"
    assert (
        await client.patch(url, json={"parentcustomerid_account@odata.bind": f"/accounts({account})"})
    ).status_code == 204
    assert dv.rows["contact"][cid]["_parentcustomerid_value"] == account
    r = await client.patch(url, json={"parentcustomerid_account@odata.bind": f"/accounts({MISSING})"})
    assert r.status_code == 404 and r.json()["error"] == {
        "code": "0x80040217",
        "message": f"account With Id = {MISSING} Does Not Exist",
    }
    r = await client.patch(url, json={"parentcustomerid_account@odata.bind": "accounts"})
    assert r.status_code == 400 and r.json()["error"]["code"] == "0x80090800"
    assert "Invalid url value 'accounts' for lookup property 'parentcustomerid_account'" in r.json()["error"]["message"]
    team = next(t for t in dv.rows["team"].values() if t["name"] == "Key Accounts")
    assert (await client.patch(url, json={"ownerid@odata.bind": f"/teams({team['teamid']})"})).status_code == 204
    row = dv.rows["contact"][cid]
    assert (
        row["_ownerid_value"] == team["teamid"]
        and row["_ownerid_value@Microsoft.Dynamics.CRM.lookuplogicalname"] == "team"
    )
    r = await client.patch(url, json={"ownerid@odata.bind": f"/systemusers({MISSING})"})
    assert r.status_code == 404 and r.json()["error"]["message"] == f"systemuser With Id = {MISSING} Does Not Exist"


async def test_deactivation_and_state_pairs(client: httpx.AsyncClient, dv: Dataverse) -> None:
    cid = contact_ids(dv, 1)[0]
    account = dv.sorted_ids("account")[0]
    for table, row_id in (("contacts", cid), ("accounts", account)):
        url = API + f"{table}({row_id})"
        assert (await client.patch(url, json={"statecode": 1, "statuscode": 2})).status_code == 204
        r = await client.patch(url, json={"statecode": 0, "statuscode": 2})
        assert r.status_code == 400 and r.json()["error"]["code"] == "0x80048408"
        assert (await client.patch(url, json={"statecode": 0})).status_code == 204  # DefaultStatus 1
        assert (await client.get(url + "?$select=statecode,statuscode")).json()["statuscode"] == 1
        assert (await client.patch(url, json={"statecode": 1})).status_code == 204
        body = (await client.get(url + "?$select=statecode,statuscode")).json()
        assert (body["statecode"], body["statuscode"]) == (1, 2)
        assert (await client.patch(url, json={"statuscode": 1})).status_code == 400  # not a status of Inactive
        assert (await client.patch(url, json={"statecode": 7})).status_code == 400
    r = await client.post(
        API + "contacts",
        json={"lastname": "Born inactive?", "statecode": 1},
        headers={"Prefer": "return=representation"},
    )
    assert r.status_code == 201 and (r.json()["statecode"], r.json()["statuscode"]) == (0, 1)
    lead = dv.sorted_ids("lead")[0]
    r = await client.patch(API + f"leads({lead})", json={"statecode": 2, "statuscode": 3})
    assert r.status_code == 400 and r.json()["error"]["code"] == "0x80048408"
    assert (await client.patch(API + f"leads({lead})", json={"statecode": 2, "statuscode": 6})).status_code == 204


async def test_execution_time_limit(client: httpx.AsyncClient, dv: Dataverse, sandbox_clock: SandboxClock) -> None:
    await client.post("/_sandbox/rate-limit", json={"execution_ms": 1000})
    await client.post(
        "/_sandbox/latency",
        json={"costs": {"base_ms": [100, 100], "tail_share": 0, "write_ms": 0, "op_ms": 0, "row_ms": 0}},
    )
    for _ in range(10):
        r = await client.get(API + "WhoAmI")
        assert r.status_code == 200
    assert r.headers["x-ms-ratelimit-time-remaining-xrm-requests"] == "0"
    r = await client.get(API + "WhoAmI")
    assert r.status_code == 429 and r.json()["error"]["code"] == "0x80072321"
    assert r.json()["error"]["message"].startswith(
        "Combined execution time of incoming requests exceeded limit of 1,000 milliseconds"
    )
    assert int(r.headers["Retry-After"]) == 300
    sandbox_clock.advance(300)
    assert (await client.get(API + "WhoAmI")).status_code == 200
    # a big batch costs its operations: one batch of 1,000 writes at 10 ms each fills 20 minutes faster
    await client.post("/_sandbox/rate-limit", json={"execution_ms": 1_200_000})
    await client.post("/_sandbox/latency", json={"costs": {"write_ms": 1200}})
    ids = contact_ids(dv, 1)
    r = await send_batch(
        client, [part("PATCH", f"contacts({ids[0]})", {"jobtitle": f"j{i}"}, {"If-Match": "*"}) for i in range(1000)]
    )
    assert r.status_code == 200
    r = await client.get(API + "WhoAmI")
    assert r.status_code == 429 and r.json()["error"]["code"] == "0x80072321" and int(r.headers["Retry-After"]) >= 299


async def test_concurrency_limit_with_simulated_latency(
    client: httpx.AsyncClient, dv: Dataverse, sandbox_clock: SandboxClock
) -> None:
    await client.post("/_sandbox/rate-limit", json={"concurrency": 2})
    await client.post(
        "/_sandbox/latency", json={"mode": "simulated", "costs": {"base_ms": [100, 100], "tail_share": 0}}
    )
    start = sandbox_clock.time()
    results = await asyncio.gather(*(client.get(API + "WhoAmI") for _ in range(3)))
    codes = sorted(r.status_code for r in results)
    assert codes == [200, 200, 429]
    refused = next(r for r in results if r.status_code == 429)
    assert refused.json()["error"]["code"] == "0x80072326" and refused.headers["Retry-After"] == "1"
    assert refused.json()["error"]["message"] == "Number of concurrent requests exceeded the limit of 2."
    assert abs(sandbox_clock.time() - start - 0.1) < 1e-6  # the two served calls overlapped in simulated time


async def test_simulated_latency_overlaps_and_reports(client: httpx.AsyncClient, sandbox_clock: SandboxClock) -> None:
    await client.post("/_sandbox/latency", json={"mode": "simulated", "costs": {"base_ms": [80, 80], "tail_share": 0}})
    start = sandbox_clock.time()
    await asyncio.gather(*(client.get(API + "WhoAmI") for _ in range(5)))
    assert abs(sandbox_clock.time() - start - 0.08) < 1e-6
    for _ in range(3):
        r = await client.get(API + "WhoAmI")
    assert (
        abs(sandbox_clock.time() - start - 0.32) < 1e-6
        and abs(float(r.headers["x-sandbox-time"]) - sandbox_clock.time()) < 1e-5
    )
    await client.post("/_sandbox/latency", json={"costs": {"routes": {"GET contacts": [300, 300]}}})
    before = sandbox_clock.time()
    await client.get(API + "contacts?$top=1&$select=lastname")
    assert abs(sandbox_clock.time() - before - 0.30002) < 1e-6  # the route's base plus one row
    report = (await client.get("/_sandbox/latency")).json()
    assert report["routes"]["GET WhoAmI"]["count"] == 8 and report["routes"]["GET WhoAmI"]["p50_ms"] == 80.0
    assert (await client.post("/_sandbox/latency", json={"mode": "fast"})).status_code == 400
    assert (await client.post("/_sandbox/latency", json={"costs": {"base_ms": [9, 1]}})).status_code == 400
    assert (await client.post("/_sandbox/latency", json={"costs": {"nope": 1}})).status_code == 400


async def test_batch_gateway_timeout_fault(
    client: httpx.AsyncClient, dv: Dataverse, sandbox_clock: SandboxClock
) -> None:
    ids = contact_ids(dv, 12)
    await client.post("/_sandbox/faults", json={"batch_timeout_over": 10})
    ops = [part("PATCH", f"contacts({i})", {"jobtitle": "timed"}, {"If-Match": "*"}) for i in ids[:11]]
    start = sandbox_clock.time()
    r = await send_batch(client, ops)
    assert r.status_code == 504 and r.headers["Content-Type"].startswith("text/html")
    assert sandbox_clock.time() - start >= 120 and dv.counters["batch_timeouts"] == 1
    assert not [i for i in ids[:11] if dv.rows["contact"][i].get("jobtitle") == "timed"]
    assert (await send_batch(client, ops[:10])).status_code == 200  # at the limit it goes through
    await client.post("/_sandbox/faults", json={"batch_timeout_applied": 0.5})
    ops = [part("PATCH", f"contacts({i})", {"jobtitle": "half"}, {"If-Match": "*"}) for i in ids]
    assert (await send_batch(client, ops)).status_code == 504
    assert len([i for i in ids if dv.rows["contact"][i].get("jobtitle") == "half"]) == 6  # the server got half way
