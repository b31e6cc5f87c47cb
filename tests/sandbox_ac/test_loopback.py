"""The same app under uvicorn on loopback, and the control surface over HTTP."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator

import httpx
import pytest
import uvicorn

from sandbox.activecampaign import create_app
from sandbox.clock import SandboxClock

from .conftest import START, TOKEN


@pytest.fixture(scope="module")
def server_url() -> Iterator[str]:
    app = create_app(api_token=TOKEN, seed_contacts=5)
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline:
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


def test_real_routes_and_control_over_loopback(server_url: str) -> None:
    with httpx.Client(base_url=server_url, headers={"Api-Token": TOKEN}, timeout=5) as c:
        assert c.post("/_sandbox/reset", json={"seed_contacts": 5}).json()["counts"]["contacts"] == 5
        r = c.get("/api/3/contacts", params={"limit": 2, "orders[id]": "ASC"})
        assert r.status_code == 200 and r.json()["meta"]["total"] == "5"
        assert c.get("/api/3/contacts", headers={"Api-Token": "bad"}).status_code == 403

        clock = c.post("/_sandbox/clock", json={"set": START, "freeze": True}).json()
        assert clock == {"time": START, "frozen": True, "controllable": True}
        batch = c.post("/api/3/import/bulk_import", json={"contacts": [{"email": "l1@example.com"},
                                                                        {"email": "l2@example.com"}]}).json()
        assert c.get("/api/3/import/info", params={"batchId": batch["batchId"]}).json()["status"] == "outstanding"
        assert c.post("/_sandbox/clock", json={"advance": 5}).json()["time"] == START + 5
        assert c.get("/api/3/import/info", params={"batchId": batch["batchId"]}).json()["status"] == "completed"

        assert c.post("/_sandbox/plan", json={"plan": "starter"}).json() == {"plan": "starter"}
        assert c.get("/api/3/accounts").status_code == 403
        assert c.post("/_sandbox/plan", json={"plan": "gold"}).status_code == 400
        c.post("/_sandbox/plan", json={"plan": "enterprise"})

        for _ in range(5):
            c.get("/api/3/users/me")
        limited = c.get("/api/3/users/me")
        assert limited.status_code == 429 and limited.headers["Retry-After"] == "1"
        c.post("/_sandbox/clock", json={"advance": 1})

        state = c.get("/_sandbox/state").json()
        assert state["counts"]["contacts"] == 7 and state["plan"] == "enterprise"
        log = c.get("/_sandbox/requests").json()["requests"]
        assert all("?" not in x["path"] for x in log) and log[-1]["status"] == 429


def test_dropped_connection_over_loopback(server_url: str) -> None:
    with httpx.Client(base_url=server_url, headers={"Api-Token": TOKEN}, timeout=5) as c:
        c.post("/_sandbox/clock", json={"advance": 2})
        assert c.post("/_sandbox/faults", json={"drop_next": 1}).status_code == 200
        with pytest.raises(httpx.TransportError):
            c.get("/api/3/users/me")
        assert c.get("/api/3/users/me").status_code == 200
        assert c.post("/_sandbox/faults", json={"clear": True}).json()["drop_next"] == 0


async def test_clock_control_refuses_an_injected_clock() -> None:
    class Fixed:
        def time(self) -> float:
            return START

    app = create_app(clock=Fixed())
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://s") as client:
        assert (await client.post("/_sandbox/clock", json={"advance": 1})).status_code == 409
        body = (await client.get("/_sandbox/clock")).json()
    assert body == {"time": START, "frozen": False, "controllable": False}


async def test_seed_is_deterministic() -> None:
    async def snapshot(seed: int) -> list[tuple[str, str]]:
        app = create_app(clock=SandboxClock(frozen_at=START), seed=seed, seed_contacts=12)
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://s",
                                     headers={"Api-Token": "sandbox-ac-key"}) as client:
            r = await client.get("/api/3/contacts", params={"orders[id]": "ASC", "limit": 100})
        return [(c["email"], c["udate"]) for c in r.json()["contacts"]]

    assert await snapshot(3) == await snapshot(3)
    assert await snapshot(3) != await snapshot(4)


def test_live_check_runs_against_the_sandbox(server_url: str, monkeypatch: pytest.MonkeyPatch,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    """live_check.py is never run in CI against AC; this keeps it working and shows it reads the defaults."""
    from sandbox.activecampaign import live_check

    with httpx.Client(base_url=server_url) as c:
        c.post("/_sandbox/reset", json={"seed_contacts": 3})
        c.post("/_sandbox/clock", json={"freeze": True})
        c.post("/_sandbox/clock", json={"advance": 2})
    monkeypatch.setenv("AC_LIVE_URL", server_url)
    monkeypatch.setenv("AC_LIVE_KEY", TOKEN)
    assert live_check.main(["--sandbox"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert TOKEN not in json.dumps(out)
    assert not [k for k in out if k.startswith("error:")], out
    assert out["rate_limit_status"]["statuses"] == [200] * 5 + [429] * 5
    assert out["auth_failure_body"]["status"] == 403
    assert out["sync_update_status"] == {"status": 201}
    assert out["dropdown_value_format"]["stored"] == ["A"]
    assert out["failure_row_base"]["body"]["failureReasons"][0]["contact"] == 1
    assert out["bulk_import_spends_rps"]["status_right_after_5_requests"] == 429
    assert out["import_info"]["first"]["status"] == "outstanding" and out["import_info"]["final"]["status"] == \
        "completed"
    assert out["updated_after_tz_and_granularity"]["found"] == {
        "offset_exact": True, "naive_account_wall_time": True, "date_only": True, "later_same_day": False}
    assert out["custom_object_update_status"] == {"create": 201, "update": 201}
    reports = out["v1_campaign_reports"]["shapes"]
    assert set(reports) == {"open", "link", "bounce", "unsubscription"}
    assert all(r["result_code"] in (0, 1) for r in reports.values()), reports
    noop = out["account_udate_on_noop"]
    assert noop["before"] == noop["after"]
    link = out["account_udate_on_contact_link"]
    assert link["before"] == link["after"]
    assert out["undocumented_list_filters"]["campaigns_with_status_0"] == out["undocumented_list_filters"][
        "campaigns_total"]
    assert out["automation_reentry"]["first"] == 201 and out["automation_reentry"]["second"][0] == 403
    assert out["contacts_list_include"] == {"status": 200, "top_level_keys": ["contacts", "meta", "scoreValues"]}
    with httpx.Client(base_url=server_url) as c:  # everything the probe created was deleted again
        state = c.get("/_sandbox/state").json()["counts"]
    assert (state["contacts"], state["customObjectSchemas"], state["accounts"], state["tags"], state["fields"]) == (
        3, 0, 0, 4, 4)


def test_webhooks_are_delivered_over_real_http(server_url: str) -> None:
    from urllib.parse import parse_qsl

    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import Response
    from starlette.routing import Route

    received: list[dict[str, str]] = []

    async def hook(request: Request) -> Response:
        received.append(dict(parse_qsl((await request.body()).decode(), keep_blank_values=True)))
        return Response(status_code=200 if len(received) == 1 else 410)

    receiver = uvicorn.Server(uvicorn.Config(Starlette(routes=[Route("/hook", hook, methods=["POST"])]),
                                             host="127.0.0.1", port=0, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=receiver.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not receiver.started and time.monotonic() < deadline:
        time.sleep(0.01)
    port = receiver.servers[0].sockets[0].getsockname()[1]
    try:
        with httpx.Client(base_url=server_url, headers={"Api-Token": TOKEN}, timeout=10) as c:
            c.post("/_sandbox/reset", json={"seed_contacts": 2})
            c.post("/_sandbox/clock", json={"advance": 2})
            r = c.post("/api/3/webhooks", json={"webhook": {"name": "loop", "url": f"http://127.0.0.1:{port}/hook",
                                                            "events": ["subscribe"], "sources": ["api"]}})
            assert r.status_code == 201, r.text
            lst = c.post("/api/3/lists", json={"list": {"name": "Loop", "stringid": "loop", "sender_url": "",
                                                        "sender_reminder": ""}}).json()["list"]["id"]
            for cid in ("1", "2"):
                r = c.post("/api/3/contactLists", json={"contactList": {"list": lst, "contact": cid, "status": 1}})
                assert r.status_code in (200, 201), r.text
            r = c.post("/_sandbox/automations/1/webhook", json={"contact": 1, "url": f"http://127.0.0.1:{port}/hook"})
            until = time.monotonic() + 10  # real HTTP posts finish after the answers: wait for the third
            while len(deliveries := c.get("/_sandbox/webhooks/deliveries").json()["deliveries"]) < 3 \
                    and time.monotonic() < until:
                time.sleep(0.01)
        # Over loopback the events are posted after each answer, concurrently with the next request: compare sorted.
        assert sorted((d["event"], d["status"] or 0) for d in deliveries) == [
            ("automation", 410), ("subscribe", 200), ("subscribe", 410)]
        assert sorted(f["type"] for f in received) == ["automation", "subscribe", "subscribe"]
        assert received[0]["contact[id]"] == "1" and any(f.get("seriesid") == "1" for f in received)
    finally:
        receiver.should_exit = True
        thread.join(timeout=10)
