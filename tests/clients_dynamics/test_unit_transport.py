"""Client behaviour against hand-written Dataverse responses (httpx.MockTransport, real Responses)."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from sync_core.clock import FakeClock
from sync_core.dynamics import (
    AuthenticationError,
    BatchOperation,
    ChangeTrackingDisabledError,
    ConflictError,
    DataverseClient,
    DeltaLinkExpiredError,
    DuplicateRecordError,
    NotFoundError,
    PagingLoopError,
    PermissionDeniedError,
    RateLimitedError,
    StaticTokenCredential,
    TransientError,
    UnsafeLinkError,
    ValidationError,
)
from sync_core.model import SlidingWindowBudget
from sync_core.model import errors as model

ENV = "https://org.crm.dynamics.com"
ROOT = f"{ENV}/api/data/v9.2/"
Handler = Callable[[httpx.Request], httpx.Response]


def make(handler: Handler, clock: FakeClock, **kw: Any) -> DataverseClient:
    return DataverseClient(ENV, StaticTokenCredential("tok-123"), clock=clock,
                           transport=httpx.MockTransport(handler), **kw)


def err(status: int, code: str = "", message: str = "boom", headers: dict[str, str] | None = None) -> httpx.Response:
    return httpx.Response(status, json={"error": {"code": code, "message": message}}, headers=headers)


async def test_standard_headers_and_token(clock: FakeClock) -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if request.method == "GET":
            return httpx.Response(200, json={"UserId": "u", "BusinessUnitId": "b", "OrganizationId": "o"},
                                  headers={"x-ms-dop-hint": "4"})
        return httpx.Response(204, headers={"OData-EntityId": f"{ROOT}contacts(7E1B2C3D-0000-0000-0000-000000000001)"})

    async with make(handler, clock) as client:
        me = await client.who_am_i()
        new_id = await client.create("contacts", {"lastname": "Ø'Brien"})
    assert (me.user_id, me.business_unit_id, me.organization_id, me.dop_hint) == ("u", "b", "o", 4)
    assert new_id == "7e1b2c3d-0000-0000-0000-000000000001"
    get, post = seen
    for r in seen:
        assert r.headers["Accept"] == "application/json"
        assert r.headers["OData-MaxVersion"] == "4.0" and r.headers["OData-Version"] == "4.0"
        assert r.headers["Authorization"] == "Bearer tok-123"
    assert get.headers["If-None-Match"] == "null"
    assert "If-None-Match" not in post.headers
    assert post.headers["Content-Type"] == "application/json"
    assert json.loads(post.content) == {"lastname": "Ø'Brien"}
    assert client.calls.snapshot() == {"whoami": 1, "create": 1}


async def test_429_waits_retry_after_and_holds_the_budget(clock: FakeClock) -> None:
    answers = [err(429, "0x80072322", "Number of requests exceeded", {"Retry-After": "30"}),
               err(429, "0x80072322", "Number of requests exceeded", {"Retry-After": "45"}),
               httpx.Response(200, json={"value": [{"name": "a"}]})]

    def handler(request: httpx.Request) -> httpx.Response:
        return answers.pop(0)

    budget = SlidingWindowBudget(6000, 300, clock=clock)
    start = clock.time()
    async with make(handler, clock, budget=budget) as client:
        rows = await client.query_all("accounts", select=["name"])
    assert rows == [{"name": "a"}]
    assert clock.time() - start == pytest.approx(75)
    assert client.calls.snapshot() == {"query": 3}


async def test_429_exhausted_raises_rate_limited_with_retry_after(clock: FakeClock) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return err(429, "0x80072326", "Number of concurrent requests exceeded", {"Retry-After": "2"})

    async with make(handler, clock, max_retries=3) as client:
        with pytest.raises(RateLimitedError) as info:
            await client.get("accounts", "00000000-0000-0000-0000-000000000001")
    assert isinstance(info.value, model.RetriableError)
    assert info.value.retry_after == 2 and info.value.dataverse_code == "0x80072326" and info.value.status == 429
    assert client.calls.total == 4


async def test_gateway_errors_and_connect_failures_are_retried_with_backoff(clock: FakeClock) -> None:
    answers: list[Any] = [httpx.ConnectError("refused"), httpx.Response(503, text="<html>busy</html>"),
                          err(502), httpx.Response(200, json={"value": []})]

    def handler(request: httpx.Request) -> httpx.Response:
        a = answers.pop(0)
        if isinstance(a, Exception):
            raise a
        assert isinstance(a, httpx.Response)
        return a

    async with make(handler, clock) as client:
        assert await client.query_all("accounts") == []
    assert client.calls.total == 4
    assert 0 < clock.slept <= 1 + 2 + 4


async def test_post_is_not_resent_after_a_500_or_a_lost_response(clock: FakeClock) -> None:
    calls = 0

    def handler(request: httpx.Request) -> httpx.Response:
        nonlocal calls
        calls += 1
        if calls == 1:
            return err(500, "", "Generic SQL error.")
        raise httpx.ReadError("connection reset")

    async with make(handler, clock) as client:
        with pytest.raises(TransientError):
            await client.create("contacts", {"lastname": "x"})
        with pytest.raises(TransientError):
            await client.create("contacts", {"lastname": "x"})
    assert calls == 2


@pytest.mark.parametrize(
    ("status", "code", "message", "expected"),
    [
        (401, "", "ExpiredAuthTicket", AuthenticationError),
        (403, "0x80040220", "Principal user is missing prvReadContact privilege", PermissionDeniedError),
        (404, "0x80040217", "contact With Id = 1 Does Not Exist", NotFoundError),
        (412, "0x80060882", "The version of the existing record doesn't match", ConflictError),
        (412, "0x80040237", "A record with matching key values already exists.", DuplicateRecordError),
        (500, "0x80040333", "A record was not created or updated because a duplicate ...", DuplicateRecordError),
        (400, "0x80044331", "A validation error occurred.", ValidationError),
    ],
)
async def test_error_bodies_map_to_typed_errors(clock: FakeClock, status: int, code: str, message: str,
                                                expected: type[Exception]) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return err(status, code, message)

    async with make(handler, clock) as client:
        with pytest.raises(expected) as info:
            await client.update("contacts", "00000000-0000-0000-0000-000000000001", {"lastname": "x"})
    assert info.value.message == message  # type: ignore[attr-defined]
    assert info.value.dataverse_code == code  # type: ignore[attr-defined]
    assert client.calls.total == 1
    assert "tok-123" not in str(info.value)


async def test_delete_missing_is_fine_and_get_missing_is_none(clock: FakeClock) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return err(404, "0x80040217", "Does Not Exist")

    async with make(handler, clock) as client:
        await client.delete("contacts", "00000000-0000-0000-0000-000000000001")
        assert await client.get("contacts", "00000000-0000-0000-0000-000000000001") is None


async def test_repeated_next_link_stops_the_read(clock: FakeClock) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"value": [{"n": 1}], "@odata.nextLink": f"{ROOT}accounts?$skiptoken=abc"})

    async with make(handler, clock) as client:
        with pytest.raises(PagingLoopError):
            await client.query_all("accounts")
    assert client.calls.total == 2


async def test_links_outside_the_environment_are_refused(clock: FakeClock) -> None:
    def handler(request: httpx.Request) -> httpx.Response:  # pragma: no cover - must not be called
        raise AssertionError("no request may leave")

    async with make(handler, clock) as client:
        with pytest.raises(UnsafeLinkError):
            async for _ in client.read_changes("accounts", select=["name"],
                                               resume_link="https://evil.example/api/data/v9.2/accounts?$deltatoken=1"):
                pass
    assert client.calls.total == 0


async def test_change_read_headers_pages_deletes_and_delta_link(clock: FakeClock) -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if "skiptoken" not in str(request.url):
            return httpx.Response(200, json={"value": [{"accountid": "a1", "name": "A"}],
                                             "@odata.nextLink": f"{ROOT}accounts?$select=name&$skiptoken=p2"})
        return httpx.Response(200, json={
            "value": [{"@odata.context": f"{ROOT}$metadata#accounts/$deletedEntity", "id": "a2", "reason": "deleted"}],
            "@odata.deltaLink": f"{ROOT}accounts?$select=name&$deltatoken=919042%2108"})

    async with make(handler, clock, page_size=1) as client:
        pages = [p async for p in client.read_changes("accounts", select=["accountid", "name"])]
    assert [p.records for p in pages] == [[{"accountid": "a1", "name": "A"}], []]
    assert pages[1].deleted_ids == ["a2"]
    assert pages[0].next_link and pages[0].delta_link is None
    assert pages[1].delta_link == f"{ROOT}accounts?$select=name&$deltatoken=919042%2108"
    assert seen[0].url.params["$select"] == "accountid,name"
    for r in seen:
        assert r.headers["Prefer"] == "odata.track-changes,odata.maxpagesize=1"
    assert str(seen[1].url) == f"{ROOT}accounts?$select=name&$skiptoken=p2"


async def test_expired_delta_token_and_untracked_table(clock: FakeClock) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if "deltatoken" in str(request.url):
            return err(400, "0x80044352", "Version stamp associated with the client has expired. "
                                          "Please perform a full sync.")
        return httpx.Response(200, json={"value": [{"name": "x"}]})

    async with make(handler, clock) as client:
        with pytest.raises(DeltaLinkExpiredError):
            async for _ in client.read_changes("accounts", select=["name"],
                                               resume_link=f"{ROOT}accounts?$select=name&$deltatoken=1"):
                pass
        with pytest.raises(ChangeTrackingDisabledError) as info:
            async for _ in client.read_changes("accounts", select=["name"]):
                pass
    assert isinstance(info.value, model.ConfigurationError)


BATCH_RESPONSE = (
    "--batchresponse_1\r\n"
    "Content-Type: application/http\r\n"
    "Content-Transfer-Encoding: binary\r\n\r\n"
    "HTTP/1.1 204 No Content\r\n"
    "OData-Version: 4.0\r\n"
    f"OData-EntityId: {ROOT}contacts(11111111-1111-1111-1111-111111111111)\r\n\r\n\r\n"
    "--batchresponse_1\r\n"
    "Content-Type: application/http\r\n"
    "Content-Transfer-Encoding: binary\r\n\r\n"
    "HTTP/1.1 400 Bad Request\r\n"
    "REQ_ID: 5ecd1cb3-1730-4ffc-909c-d44c22270026\r\n"
    "Content-Type: application/json; odata.metadata=minimal\r\n"
    "OData-Version: 4.0\r\n\r\n"
    '{"error":{"code":"0x80044331","message":"A validation error occurred."}}\r\n'
    "--batchresponse_1\r\n"
    "Content-Type: multipart/mixed; boundary=changesetresponse_2\r\n\r\n"
    "--changesetresponse_2\r\n"
    "Content-Type: application/http\r\n"
    "Content-Transfer-Encoding: binary\r\n"
    "Content-ID: 1\r\n\r\n"
    "HTTP/1.1 200 OK\r\n"
    "Content-Type: application/json; odata.metadata=minimal\r\n\r\n"
    '{"contactid":"22222222-2222-2222-2222-222222222222"}\r\n'
    "--changesetresponse_2--\r\n"
    "--batchresponse_1--\r\n"
)


async def test_batch_request_shape_and_response_parsing(clock: FakeClock) -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, content=BATCH_RESPONSE.encode(),
                              headers={"Content-Type": "multipart/mixed; boundary=batchresponse_1"})

    ops = [BatchOperation("POST", "contacts", {"lastname": "a"}),
           BatchOperation("PATCH", "contacts(22222222-2222-2222-2222-222222222222)", {"lastname": "b" * 300}),
           BatchOperation("GET", "contacts?$select=lastname")]
    async with make(handler, clock) as client:
        results = await client.execute_batch(ops)
    assert [r.status for r in results] == [204, 400, 200]
    assert results[0].entity_id == "11111111-1111-1111-1111-111111111111" and results[0].ok
    assert isinstance(results[1].error, ValidationError) and results[1].error.dataverse_code == "0x80044331"
    assert results[2].body == {"contactid": "22222222-2222-2222-2222-222222222222"}
    (req,) = seen
    assert str(req.url) == f"{ROOT}$batch"
    assert req.headers["Prefer"] == "odata.continue-on-error"
    assert req.headers["Content-Type"].startswith("multipart/mixed; boundary=batch_")
    text = req.content.decode()
    assert f"POST {ROOT}contacts HTTP/1.1\r\n" in text
    assert "Content-Type: application/json; type=entry" in text
    assert text.count("Content-Transfer-Encoding: binary") == 3
    assert text.rstrip().endswith("--")
    assert client.calls.snapshot() == {"$batch": 1}


async def test_batch_stopped_at_first_error_marks_the_rest_not_executed(clock: FakeClock) -> None:
    stopped = BATCH_RESPONSE.split("--batchresponse_1\r\nContent-Type: multipart/mixed")[0] + "--batchresponse_1--\r\n"
    calls = 0

    def handler(request: httpx.Request) -> httpx.Response:
        nonlocal calls
        calls += 1
        return httpx.Response(400, content=stopped.encode(),
                              headers={"Content-Type": "multipart/mixed; boundary=batchresponse_1"})

    ops = [BatchOperation("POST", "contacts", {"lastname": str(i)}) for i in range(1003)]
    async with make(handler, clock) as client:
        results = await client.execute_batch(ops, continue_on_error=False)
    assert calls == 1  # the second chunk is never sent
    assert [r.status for r in results[:3]] == [204, 400, 424]
    assert len(results) == 1003 and all(r.status == 424 for r in results[2:])


async def test_untracked_table_is_refused_before_any_page_is_used(clock: FakeClock) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"value": [{"name": "x"}], "@odata.nextLink": f"{ROOT}accounts?$skiptoken=2"},
                              headers={"Preference-Applied": "odata.maxpagesize=5000"})

    async with make(handler, clock) as client:
        used = []
        with pytest.raises(ChangeTrackingDisabledError):
            async for page in client.read_changes("accounts", select=["name"]):
                used.append(page)
    assert used == [] and client.calls.total == 1


async def test_retry_after_as_http_date(clock: FakeClock) -> None:
    from email.utils import format_datetime

    when = format_datetime(datetime.fromtimestamp(clock.time() + 90, UTC), usegmt=True)
    answers = [err(429, headers={"Retry-After": when}), httpx.Response(200, json={"value": []})]

    def handler(request: httpx.Request) -> httpx.Response:
        return answers.pop(0)

    start = clock.time()
    async with make(handler, clock) as client:
        await client.query_all("accounts")
    assert clock.time() - start == pytest.approx(90)
