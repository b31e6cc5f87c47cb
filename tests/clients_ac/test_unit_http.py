"""Retry, parsing and paging logic against hand-written httpx responses (httpx.MockTransport).

These pin the client's reading of the documented shapes; the sandbox tests cover the API end to end.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import timedelta
from email.utils import format_datetime
from typing import Any

import httpx
import pytest

from sync_core.activecampaign import (
    ActiveCampaignClient,
    AuthenticationError,
    BulkImportRejected,
    CampaignSendError,
    DuplicateError,
    NotFoundError,
    PaginationLoopError,
    PaymentRequiredError,
    PermissionDeniedError,
    PlanLimitError,
    RateLimitedError,
    TransientError,
    ValidationError,
)
from sync_core.activecampaign._base import api_base_url
from sync_core.clock import FakeClock

KEY = "k-0123456789abcdef-secret"
Handler = Callable[[httpx.Request], httpx.Response]


def make(clock: FakeClock, handler: Handler, **kw: Any) -> ActiveCampaignClient:
    return ActiveCampaignClient("https://acct.api-us1.com", KEY, clock=clock,
                                transport=httpx.MockTransport(handler), **kw)


def j(status: int, body: Any, headers: dict[str, str] | None = None) -> httpx.Response:
    return httpx.Response(status, content=json.dumps(body).encode(), headers={
        "content-type": "application/json", **(headers or {})})


def test_api_base_url() -> None:
    assert api_base_url("https://a.api-us1.com") == "https://a.api-us1.com/api/3/"
    assert api_base_url("https://a.api-us1.com/") == "https://a.api-us1.com/api/3/"
    assert api_base_url("https://a.api-us1.com/api/3") == "https://a.api-us1.com/api/3/"


async def test_key_in_header_never_in_url(clock: FakeClock) -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return j(200, {"user": {"id": "1", "username": "admin"}})

    async with make(clock, handler) as ac:
        me = await ac.get_me()
    assert me["id"] == "1"
    assert seen[0].headers["Api-Token"] == KEY
    assert KEY not in str(seen[0].url)
    assert str(seen[0].url) == "https://acct.api-us1.com/api/3/users/me"
    assert ac.calls.snapshot() == {"users.me": 1}


@pytest.mark.parametrize("retry_after", ["30", "http-date"])
async def test_429_waits_retry_after_and_holds_budget(clock: FakeClock, retry_after: str) -> None:
    statuses = [429, 429, 200]

    def handler(request: httpx.Request) -> httpx.Response:
        status = statuses.pop(0)
        if status == 429:
            value = retry_after if retry_after != "http-date" else format_datetime(
                clock.now() + timedelta(seconds=30), usegmt=True)
            return j(429, {"message": "Too Many Requests"}, {"Retry-After": value})
        return j(200, {"user": {"id": "1"}})

    ac = make(clock, handler)
    t0 = clock.time()
    await ac.get_me()
    assert clock.time() - t0 == pytest.approx(60, abs=1)
    assert ac.calls.total == 3


async def test_503_without_retry_after_backs_off_then_rate_limited(clock: FakeClock) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(503, text="Service Unavailable")

    ac = make(clock, handler, max_retries=3, backoff_base=1.0, backoff_cap=4.0)
    with pytest.raises(RateLimitedError) as info:
        await ac.get_me()
    assert ac.calls.total == 4
    assert clock.slept == pytest.approx(1 + 2 + 4)
    assert info.value.retry_after == 4.0


async def test_5xx_and_connection_errors_retry_then_transient(clock: FakeClock) -> None:
    count = 0

    def handler(request: httpx.Request) -> httpx.Response:
        nonlocal count
        count += 1
        if count == 1:
            raise httpx.ConnectError("refused", request=request)
        if count == 2:
            return httpx.Response(502, text="bad gateway")
        return j(200, {"contact": {"id": "5"}})

    ac = make(clock, handler)
    assert (await ac.get_contact("5"))["id"] == "5"
    assert count == 3

    def down(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("slow", request=request)

    ac2 = make(clock, down, max_retries=2)
    with pytest.raises(TransientError):
        await ac2.get_contact("5")
    assert ac2.calls.total == 3


async def test_huge_retry_after_is_not_slept(clock: FakeClock) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return j(429, {}, {"Retry-After": "3600"})

    ac = make(clock, handler)
    with pytest.raises(RateLimitedError) as info:
        await ac.get_me()
    assert info.value.retry_after == 3600
    assert clock.slept == 0


@pytest.mark.parametrize(("status", "body", "path", "expected"), [
    (422, {"errors": [{"title": "Email address already exists in the system", "detail": "", "code": "duplicate",
                       "source": {"pointer": "/data/attributes/email"}}]}, "contacts", DuplicateError),
    (422, {"errors": [{"title": "The account name was not provided.", "code": "field_missing",
                       "source": {"pointer": "/data/attributes/name"}}]}, "accounts", ValidationError),
    (422, {"errors": "Bulk operation failed. Request must contain an array of fieldOption objects."},
     "fieldOption/bulk", ValidationError),
    (400, {"errors": ["Field name is required"]}, "campaign", ValidationError),
    (422, {"errors": [{"title": "Invalid value", "detail": "Schema slug must be unique",
                       "source": {"type": "pointer", "value": "/data/attributes/schema/slug"}}]},
     "customObjects/schemas", DuplicateError),
    (404, {"message": "No Result found for Subscriber with id 1"}, "contacts/1", NotFoundError),
    (404, {"errors": [{"status": 404, "title": "Not Found", "detail": "Contact not found"}]}, "contactTags",
     NotFoundError),
    (403, {"message": "No Result found for FieldValue with id 9"}, "fieldValues/9", NotFoundError),
    (403, {"errors": [{"status": 403, "title": "Forbidden", "detail": "You do not have permission to view lists."}]},
     "lists", PermissionDeniedError),
    (403, {"message": "Forbidden"}, "contacts", AuthenticationError),
    (403, "", "contacts", AuthenticationError),
    (403, {"message": "Could not create SubscriberSeries"}, "contactAutomations", ValidationError),
    (403, {"message": "No Result found for User"}, "users/me", AuthenticationError),
    (402, {"message": "Payment required"}, "contacts", PaymentRequiredError),
    (403, {"message": "Custom objects are not available on your plan. Please upgrade to Enterprise."},
     "customObjects/schemas", PlanLimitError),
])
async def test_error_shapes(clock: FakeClock, status: int, body: Any, path: str, expected: type[Exception]) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if body == "":
            return httpx.Response(status)
        # AC sometimes serves JSON error bodies as text/plain
        return httpx.Response(status, text=json.dumps(body), headers={"content-type": "text/plain"})

    ac = make(clock, handler)
    with pytest.raises(expected) as info:
        await ac._get(path, kind="t")
    assert type(info.value) is expected
    assert KEY not in str(info.value)


async def test_validation_error_carries_errors(clock: FakeClock) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return j(422, {"errors": [{"title": "Email address already exists in the system", "code": "duplicate",
                                   "source": {"pointer": "/data/attributes/email"}}]})

    ac = make(clock, handler)
    with pytest.raises(DuplicateError) as info:
        await ac.create_contact({"email": "a@example.com"})
    assert info.value.codes == ["duplicate"]
    assert info.value.errors[0]["pointer"] == "/data/attributes/email"
    assert "a@example.com" not in str(info.value)


async def test_plan_limit_rule_is_configurable(clock: FakeClock) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return j(404, {"message": "Not Found"})

    ac = make(clock, handler, plan_limit_rule=lambda status, path, body: path.startswith("/api/3/customObjects"))
    with pytest.raises(PlanLimitError):
        await ac.list_schemas()
    with pytest.raises(NotFoundError):
        await ac.get_contact("1")


async def test_offset_paging_total_as_string(clock: FakeClock) -> None:
    tags = [{"id": str(i), "tag": f"t{i}"} for i in range(1, 251)]
    offsets: list[int] = []

    def handler(request: httpx.Request) -> httpx.Response:
        q = request.url.params
        off, lim = int(q["offset"]), int(q["limit"])
        offsets.append(off)
        return j(200, {"tags": tags[off:off + lim], "meta": {"total": str(len(tags))}})

    ac = make(clock, handler)
    got = await ac.list_tags()
    assert [t["id"] for t in got] == [t["id"] for t in tags]
    assert offsets == [0, 100, 200]


async def test_offset_paging_refuses_a_repeated_page(clock: FakeClock) -> None:
    def handler(request: httpx.Request) -> httpx.Response:  # ignores offset
        return j(200, {"lists": [{"id": str(i)} for i in range(100)], "meta": {"total": "1000"}})

    ac = make(clock, handler)
    with pytest.raises(PaginationLoopError):
        await ac.list_lists()
    assert ac.calls.total == 2


async def test_id_greater_paging_and_loop_guard(clock: FakeClock) -> None:
    contacts = [{"id": str(i), "email": f"c{i}@example.com"} for i in range(1, 206)]
    queries: list[dict[str, str]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        q = dict(request.url.params)
        queries.append(q)
        floor = int(q.get("id_greater", 0))
        page = [c for c in contacts if int(c["id"]) > floor][: int(q["limit"])]
        return j(200, {"contacts": page, "meta": {"total": str(len(contacts))}})

    ac = make(clock, handler)
    got = [c async for c in ac.iter_contacts(page_size=100)]
    assert len(got) == 205
    assert [q.get("id_greater") for q in queries] == [None, "100", "200"]
    assert all(q["orders[id]"] == "ASC" for q in queries)

    def stuck(request: httpx.Request) -> httpx.Response:  # ignores id_greater
        return j(200, {"contacts": contacts[:100], "meta": {"total": "205"}})

    ac2 = make(clock, stuck)
    with pytest.raises(PaginationLoopError):
        _ = [c async for c in ac2.iter_contacts()]


async def test_bulk_import_rate_limit_400_waits_a_minute(clock: FakeClock) -> None:
    answers = [
        j(400, {"success": 0, "message": "Rate limit exceeded.", "failureReasons": [
            "Up to 100 imports may be requested per minute.Please batch contacts into larger requests, "
            "or retry this request in a minute."]}),
        j(200, {"success": 1, "queued_contacts": 2, "batchId": "b-1", "message": "Contact import queued"}),
    ]
    bodies: list[Any] = []

    def handler(request: httpx.Request) -> httpx.Response:
        bodies.append(json.loads(request.content))
        return answers.pop(0)

    ac = make(clock, handler)
    t0 = clock.time()
    result = await ac.bulk_import([{"email": "a@example.com"}, {"email": "b@example.com"}])
    assert result.batch_id == "b-1" and result.queued_contacts == 2
    assert clock.time() - t0 >= 60
    assert bodies[0]["contacts"][0]["exclude_automations"] is True
    assert ac.calls.snapshot() == {"bulk_import": 2}


@pytest.mark.parametrize("base", [0, 1])
async def test_bulk_import_rejected_rows_and_resend(clock: FakeClock, base: int) -> None:
    sent: list[list[str]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        rows = json.loads(request.content)["contacts"]
        sent.append([r["email"] for r in rows])
        bad = [i for i, r in enumerate(rows) if "@" not in r["email"]]
        if bad:
            return j(400, {"success": 0, "message": "JSON payload did not pass validation.",
                           "failureReasons": [{"contact": i + base, "failureReason": "Field 'email' incorrect format"}
                                              for i in bad]})
        return j(200, {"success": 1, "queued_contacts": len(rows), "batchId": f"b{len(sent)}"})

    ac = make(clock, handler, failure_reason_index_base=base)
    rows = [{"email": "a@example.com"}, {"email": "broken"}, {"email": "c@example.com"}]
    with pytest.raises(BulkImportRejected) as info:
        await ac.bulk_import(rows)
    assert [(e.index, e.email) for e in info.value.row_errors] == [(1, "broken")]
    outcome = await ac.import_contacts(rows)
    assert [r.row["email"] for r in outcome.rejected] == ["broken"]
    assert "incorrect format" in outcome.rejected[0].reason
    assert outcome.submitted[0][1] == [{"email": "a@example.com"}, {"email": "c@example.com"}]
    assert sent[-1] == ["a@example.com", "c@example.com"]


async def test_bulk_import_limits(clock: FakeClock) -> None:
    ac = make(clock, lambda r: j(200, {}))
    with pytest.raises(ValueError, match="250"):
        await ac.bulk_import([{"email": f"x{i}@example.com"} for i in range(251)])
    assert ac.calls.total == 0


async def test_v1_campaign_send_checks_result_code(clock: FakeClock) -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return j(200, {"result_code": 0, "result_message": "Campaign not found", "result_output": "json"})

    ac = make(clock, handler)
    with pytest.raises(CampaignSendError) as info:
        await ac.send_campaign(email="a@example.com", campaign_id="1", message_id="2")
    assert info.value.result_message == "Campaign not found"
    url = seen[0].url
    assert url.path == "/admin/api.php"
    assert url.params["api_action"] == "campaign_send" and url.params["api_output"] == "json"
    assert "api_key" not in url.params and KEY not in str(url)
    assert seen[0].method == "POST"
    form = dict(httpx.QueryParams(seen[0].content.decode()))
    assert form["api_key"] == KEY and form["campaignid"] == "1" and form["messageid"] == "2"
