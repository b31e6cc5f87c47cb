"""The client over a real socket: the AC sandbox under uvicorn in a thread on a free loopback port."""

from __future__ import annotations

import logging
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
import uvicorn

from sandbox.activecampaign import create_app
from sync_core.activecampaign import ActiveCampaignClient, AuthenticationError
from tests.clients_ac.conftest import SANDBOX_KEY
from tests.clients_ac.test_sandbox_logging import assert_clean


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def served() -> Iterator[tuple[str, Any]]:
    app = create_app(api_token=SANDBOX_KEY, seed=3)
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning",
                                           access_log=False, lifespan="off"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the sandbox did not start")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}", app.state.ac
    finally:
        server.should_exit = True
        thread.join(timeout=10)


async def test_over_loopback(served: tuple[str, Any], caplog: pytest.LogCaptureFixture) -> None:
    url, state = served
    caplog.set_level(logging.DEBUG)
    async with ActiveCampaignClient(url, SANDBOX_KEY, timeout=5.0, backoff_base=0.05) as ac:
        assert (await ac.get_me())["id"]
        created = await ac.create_contact({"email": "socket.person@example.com", "firstName": "Sock"})
        found = await ac.find_contact_by_email("socket.person@example.com")
        assert found is not None and found["id"] == created["id"]
        state.inject_fault(drop_next=1)  # the server closes the connection mid-response
        assert (await ac.get_contact(str(created["id"])))["firstName"] == "Sock"
        result = await ac.bulk_import([{"email": "lb1@example.com"}, {"email": "lb2@example.com"}])
        assert result.batch_id
        assert ac.calls.snapshot()["contact.get"] == 2
    async with ActiveCampaignClient(url, "wrong-loopback-key") as bad:
        with pytest.raises(AuthenticationError):
            await bad.get_me()
    assert state.count_requests(status=-1) == 1
    assert_clean(caplog.records, SANDBOX_KEY, "wrong-loopback-key", "socket.person")
