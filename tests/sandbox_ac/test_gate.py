"""Auth, the 5 req/s limit, faults, the request log and unknown routes."""

from __future__ import annotations

import httpx
import pytest
from starlette.applications import Starlette

from sandbox.activecampaign import create_app
from sandbox.activecampaign.state import ACState
from sandbox.clock import SandboxClock

from .conftest import START, TOKEN

AUTH_BODY = {"message": "The request could not be authenticated or the authenticated user is not authorized to "
             "access the requested resource."}


def limited_client(clock: SandboxClock) -> tuple[Starlette, httpx.AsyncClient]:
    app = create_app(clock=clock, api_token=TOKEN, enforce_rate_limit=True)
    client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="https://s.api-us1.com",
                               headers={"Api-Token": TOKEN})
    return app, client


@pytest.mark.parametrize("headers", [{}, {"Api-Token": "wrong"}, {"api-token": ""}])
async def test_missing_or_wrong_token_is_403_with_ac_body(ac_app: Starlette, headers: dict[str, str]) -> None:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=ac_app), base_url="https://s") as c:
        for path in ("/api/3/users/me", "/api/3/contacts", "/api/3/nope"):
            r = await c.get(path, headers=headers)
            assert r.status_code == 403
            assert r.json() == AUTH_BODY


async def test_token_in_query_string_is_not_accepted_on_v3(ac_app: Starlette) -> None:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=ac_app), base_url="https://s") as c:
        r = await c.get("/api/3/users/me", params={"api_key": TOKEN})
    assert r.status_code == 403


async def test_users_me(client: httpx.AsyncClient) -> None:
    r = await client.get("/api/3/users/me")
    assert r.status_code == 200
    assert set(r.json()["user"]) >= {"username", "firstName", "lastName", "email", "id"}


async def test_burst_of_20_in_one_second_gets_429_with_retry_after(ac_clock: SandboxClock) -> None:
    _app, client = limited_client(ac_clock)
    async with client:
        statuses = []
        for _ in range(20):
            r = await client.get("/api/3/users/me")
            statuses.append(r.status_code)
            if r.status_code == 429:
                assert int(r.headers["Retry-After"]) >= 1
                assert r.headers["RateLimit-Limit"] == "5"
        assert statuses == [200] * 5 + [429] * 15
        ac_clock.advance(1.0)
        assert (await client.get("/api/3/users/me")).status_code == 200


async def test_window_is_sliding_not_fixed(ac_clock: SandboxClock) -> None:
    _app, client = limited_client(ac_clock)
    async with client:
        ac_clock.advance(0.6)  # 5 requests at t=0.6
        for _ in range(5):
            assert (await client.get("/api/3/users/me")).status_code == 200
        ac_clock.advance(0.5)  # t=1.1: a fixed 1-second bucket would have reset here
        r = await client.get("/api/3/users/me")
        assert r.status_code == 429
        assert r.headers["Retry-After"] == "1"
        ac_clock.advance(0.5)  # t=1.6: the first five have left the window
        assert (await client.get("/api/3/users/me")).status_code == 200


async def test_refused_requests_do_not_use_budget_and_control_routes_are_free(ac_clock: SandboxClock) -> None:
    _app, client = limited_client(ac_clock)
    async with client:
        for _ in range(5):
            await client.get("/api/3/users/me")
        for _ in range(10):
            assert (await client.get("/_sandbox/state")).status_code == 200
            assert (await client.get("/api/3/users/me")).status_code == 429
        ac_clock.advance(1.0)
        assert [(await client.get("/api/3/users/me")).status_code for _ in range(6)] == [200] * 5 + [429]


async def test_v1_spends_the_same_budget(ac_clock: SandboxClock) -> None:
    _app, client = limited_client(ac_clock)
    async with client:
        for _ in range(5):
            await client.get("/admin/api.php", params={"api_action": "campaign_send", "api_output": "json"})
        assert (await client.get("/api/3/users/me")).status_code == 429


async def test_force_429_fault(client: httpx.AsyncClient, ac: ACState) -> None:
    ac.inject_fault(force_429=2)
    answers = [await client.get("/api/3/users/me") for _ in range(3)]
    assert [r.status_code for r in answers] == [429, 429, 200]
    assert answers[0].json() == {"message": "Too Many Requests"}
    assert answers[0].headers["Retry-After"] == "1" and answers[0].headers["RateLimit-Remaining"] == "0"


async def test_force_429_fault_follows_the_rate_limit_status_switch(client: httpx.AsyncClient, ac: ACState) -> None:
    # The forced answer is the limiter's answer, so with the 503 reading it is a 503 (register #21).
    ac.switches["rate_limit_status"] = 503
    ac.inject_fault(force_429=1)
    forced = await client.get("/api/3/users/me")
    assert (forced.status_code, forced.json()) == (503, {"message": "Service Unavailable"})
    assert forced.headers["Retry-After"] == "1" and forced.headers["RateLimit-Limit"] == "5"
    assert (await client.get("/api/3/users/me")).status_code == 200


async def test_error_rate_fault_is_deterministic(client: httpx.AsyncClient, ac: ACState) -> None:
    ac.inject_fault(error_rate=1.0, error_status=503)
    assert (await client.get("/api/3/users/me")).status_code == 503
    ac.inject_fault(error_rate=0.5)
    statuses = [(await client.get("/api/3/users/me")).status_code for _ in range(40)]
    assert 5 < statuses.count(503) < 35 and statuses.count(200) == 40 - statuses.count(503)


async def test_drop_fault_raises_transport_error_in_process(client: httpx.AsyncClient, ac: ACState) -> None:
    r = await client.post("/_sandbox/faults", json={"drop_next": 1})
    assert r.json()["drop_next"] == 1
    with pytest.raises(httpx.RemoteProtocolError):
        await client.get("/api/3/contacts")
    assert (await client.get("/api/3/contacts")).status_code == 200
    assert ac.count_requests(route="/api/3/contacts", status=-1) == 1


async def test_request_log_has_routes_without_query_strings(client: httpx.AsyncClient, ac: ACState) -> None:
    await client.get("/api/3/contacts", params={"email": "secret@example.com"})
    await client.get("/api/3/contacts/99")
    log = (await client.get("/_sandbox/requests")).json()["requests"]
    assert [(x["method"], x["path"], x["route"], x["status"]) for x in log] == [
        ("GET", "/api/3/contacts", "/api/3/contacts", 200),
        ("GET", "/api/3/contacts/99", "/api/3/contacts/{id}", 404),
    ]
    assert "secret" not in str(log)
    assert ac.count_requests(route="/api/3/contacts/{id}") == 1
    assert ac.count_requests(method="GET") == 2


async def test_nothing_else_answers(client: httpx.AsyncClient) -> None:
    for path in ("/", "/api/2/contacts", "/api/3/unknownThing", "/admin/other.php"):
        r = await client.get(path)
        assert r.status_code == 404, path
    r = await client.patch("/api/3/contacts")
    assert r.status_code == 405


def test_default_clock_is_a_sandbox_clock() -> None:
    app = create_app()
    assert isinstance(app.state.ac.clock, SandboxClock)
    assert app.state.ac.now() > START - 10 * 365 * 86400


async def test_plan_limit_404_reads_like_an_absent_route(client: httpx.AsyncClient, ac: ACState) -> None:
    # Register #11, 404 reading: the feature's routes look absent, so the body is the unknown-route body.
    ac.switches["plan_limit_status"] = 404
    ac.set_plan("lite")
    gated = await client.get("/api/3/accounts")
    unknown = await client.get("/api/3/noSuchResource")
    assert (gated.status_code, gated.json()) == (unknown.status_code, unknown.json()) == (404, {"message": "Not Found"})
