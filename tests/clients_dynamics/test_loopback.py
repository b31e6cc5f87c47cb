"""The client over a real socket: the sandbox served by uvicorn on a free loopback port."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
import uvicorn

from sandbox.dynamics import create_app
from sync_core.clock import FakeClock
from sync_core.dynamics import BatchOperation, DataverseClient, StaticTokenCredential
from tests.clients_dynamics.conftest import TOKEN


@pytest.fixture
def served() -> Iterator[tuple[str, Any]]:
    app = create_app(seed_contacts=25)
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", access_log=False,
                                           lifespan="off"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            server.should_exit = True
            pytest.fail("the sandbox did not start on loopback")
        time.sleep(0.02)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}", app.state.dataverse
    finally:
        server.should_exit = True
        thread.join(timeout=10)


async def test_over_loopback(served: tuple[str, Any], caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    for name in ("httpx", "httpcore", "sync_core.dynamics"):
        caplog.set_level(logging.DEBUG, logger=name)
    url, dv = served
    dv.set_faults({"force_429": 1, "retry_after": 1})
    async with DataverseClient(url, StaticTokenCredential(TOKEN), clock=FakeClock(), page_size=10,
                               timeout=10) as client:
        me = await client.who_am_i()
        assert me.user_id
        pages = [p async for p in client.read_changes("contacts", select=["contactid", "lastname"])]
        assert len(pages) >= 3 and pages[-1].delta_link
        assert sum(len(p.records) for p in pages) == len(dv.rows["contact"])
        new_id = await client.create("contacts", {"lastname": "Über Loopback"})
        results = await client.execute_batch([
            BatchOperation("PATCH", f"contacts({new_id})", {"jobtitle": "Socket"}, headers={"If-Match": "*"}),
            BatchOperation("POST", "accounts", {"name": "Loopback Ltd"}),
        ])
        assert [r.status for r in results] == [204, 204]
        delta = [p async for p in client.read_changes("contacts", select=["contactid", "lastname"],
                                                      resume_link=pages[-1].delta_link)]
        assert [r["lastname"] for p in delta for r in p.records] == ["Über Loopback"]
    assert dv.counters["throttled"] == 1
    assert client.calls.total == 1 + len(pages) + 1 + 1 + len(delta) + 1  # + the one 429 retry

    # real sockets bring httpcore's DEBUG trace; neither it nor httpx may show a token or a query
    names = {r.name for r in caplog.records}
    assert {"httpx", "sync_core.dynamics"} <= names and any(n.startswith("httpcore") for n in names)
    text = "\n".join(r.getMessage() for r in caplog.records)
    for forbidden in (TOKEN, "Bearer ", "$select", "skiptoken", "deltatoken", "?"):
        assert forbidden not in text, forbidden
