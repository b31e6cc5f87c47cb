"""$batch (dynamics-webapi.md §4.3): multipart/mixed, change sets, Content-ID, continue-on-error."""

from __future__ import annotations

import json
import re
from typing import Any

import httpx

from sandbox.dynamics import Dataverse

from .conftest import API

BASE = "https://org.example.crm.dynamics.com/api/data/v9.2/"


def _request(method: str, url: str, body: Any = None, content_id: int | None = None) -> str:
    lines = ["Content-Type: application/http", "Content-Transfer-Encoding: binary"]
    if content_id is not None:
        lines.append(f"Content-ID: {content_id}")
    lines += ["", f"{method} {url} HTTP/1.1"]
    if body is not None:
        lines += ["Content-Type: application/json; type=entry", "", json.dumps(body)]
    else:
        lines += [""]
    return "\r\n".join(lines)


def build(parts: list[str | list[str]]) -> tuple[str, str]:
    out = []
    for i, part in enumerate(parts):
        if isinstance(part, list):
            cs = f"changeset_{i}"
            inner = "".join(f"--{cs}\r\n{p}\r\n" for p in part) + f"--{cs}--"
            out.append(f"--batch_x\r\nContent-Type: multipart/mixed; boundary={cs}\r\n\r\n{inner}\r\n")
        else:
            out.append(f"--batch_x\r\n{part}\r\n")
    return "".join(out) + "--batch_x--\r\n", 'multipart/mixed; boundary="batch_x"'


def statuses(response: httpx.Response) -> list[int]:
    return [int(s) for s in re.findall(r"^HTTP/1\.1 (\d{3})", response.text, flags=re.M)]


async def post_batch(
    client: httpx.AsyncClient, parts: list[str | list[str]], prefer: str | None = None
) -> httpx.Response:
    body, ctype = build(parts)
    headers = {"Content-Type": ctype}
    if prefer:
        headers["Prefer"] = prefer
    return await client.post(API + "$batch", content=body.encode(), headers=headers)


async def test_batch_runs_requests_in_order(client: httpx.AsyncClient, dv: Dataverse) -> None:
    before = len(dv.rows["contact"])
    r = await post_batch(
        client,
        [
            _request("POST", BASE + "contacts", {"lastname": "B1"}),
            _request("POST", "/api/data/v9.2/contacts", {"lastname": "B2"}),
            _request("GET", "contacts?$select=lastname&$filter=lastname eq 'B2'"),
        ],
    )
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("multipart/mixed; boundary=batchresponse_")
    assert statuses(r) == [204, 204, 200]
    assert len(dv.rows["contact"]) == before + 2
    assert '"lastname": "B2"' in r.text


async def test_changeset_is_atomic(client: httpx.AsyncClient, dv: Dataverse) -> None:
    before = len(dv.rows["contact"])
    r = await post_batch(
        client,
        [
            [
                _request("POST", "contacts", {"lastname": "C1"}, 1),
                _request("POST", "contacts", {"lastname": "x" * 60}, 2),  # too long → fails
            ]
        ],
    )
    assert r.status_code == 400
    assert statuses(r) == [400]  # one error answers the whole change set
    assert "0x80044331" in r.text and "REQ_ID:" in r.text
    assert len(dv.rows["contact"]) == before  # C1 rolled back


async def test_content_id_references(client: httpx.AsyncClient, dv: Dataverse) -> None:
    r = await post_batch(
        client,
        [
            [
                _request("POST", "accounts", {"name": "Ref Co"}, 1),
                _request("POST", "contacts", {"lastname": "Ref", "parentcustomerid_account@odata.bind": "$1"}, 2),
                _request("PATCH", "$1", {"telephone1": "123"}, 3),
            ]
        ],
    )
    assert r.status_code == 200, r.text
    assert statuses(r) == [204, 204, 204]
    assert "Content-ID: 1" in r.text and "changesetresponse_" in r.text
    account = next(a for a in dv.rows["account"].values() if a["name"] == "Ref Co")
    contact = next(c for c in dv.rows["contact"].values() if c["lastname"] == "Ref")
    assert contact["_parentcustomerid_value"] == account["accountid"] and account["telephone1"] == "123"


async def test_undeclared_content_id_is_400(client: httpx.AsyncClient) -> None:
    r = await post_batch(client, [[_request("PATCH", "$9", {"telephone1": "1"}, 1)]])
    assert r.status_code == 400 and statuses(r) == [400]


async def test_get_not_allowed_in_changeset(client: httpx.AsyncClient) -> None:
    r = await post_batch(client, [[_request("GET", "contacts?$top=1")]])
    assert statuses(r) == [400]


async def test_stop_at_first_error_without_continue_on_error(client: httpx.AsyncClient, dv: Dataverse) -> None:
    parts: list[str | list[str]] = [
        _request("POST", "contacts", {"lastname": "S1"}),
        _request("POST", "contacts", {"nosuch": 1}),
        _request("POST", "contacts", {"lastname": "S3"}),
    ]
    r = await post_batch(client, parts)
    assert r.status_code == 400 and statuses(r) == [204, 400]
    assert not any(c["lastname"] == "S3" for c in dv.rows["contact"].values())
    r = await post_batch(client, parts, prefer="odata.continue-on-error")
    assert r.status_code == 200 and statuses(r) == [204, 400, 204]
    assert r.headers["Preference-Applied"] == "odata.continue-on-error"


async def test_more_than_1000_operations_refused(client: httpx.AsyncClient, dv: Dataverse) -> None:
    before = len(dv.rows["contact"])
    r = await post_batch(client, [_request("POST", "contacts", {"lastname": "n"}) for _ in range(1001)])
    assert r.status_code == 400 and len(dv.rows["contact"]) == before
    r = await post_batch(client, [_request("POST", "contacts", {"lastname": "n"}) for _ in range(1000)])
    assert r.status_code == 200 and len(dv.rows["contact"]) == before + 1000


async def test_nested_batch_refused(client: httpx.AsyncClient) -> None:
    r = await post_batch(client, [_request("POST", "$batch", {})])
    assert statuses(r) == [400]


async def test_batch_counts_as_one_request_for_rate_limit(client: httpx.AsyncClient, dv: Dataverse) -> None:
    await client.post("/_sandbox/rate-limit", json={"limit": 2, "window": 300})
    r = await post_batch(client, [_request("POST", "contacts", {"lastname": "r"}) for _ in range(5)])
    assert r.status_code == 200
    assert (await client.get(API + "WhoAmI")).status_code == 200
    assert (await client.get(API + "WhoAmI")).status_code == 429
