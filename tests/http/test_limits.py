"""Bounds of the send loop: calls in flight, connect timeout, and a host that never answers."""

from __future__ import annotations

import asyncio
import logging
import socket
import time
from collections.abc import Iterator

import httpx
import pytest

from sync_core.activecampaign import TransientError as AcTransientError
from sync_core.activecampaign import default_plan_limit_rule
from sync_core.activecampaign._policy import AcCallPolicy
from sync_core.clock import FakeClock
from sync_core.dynamics import TransientError as DvTransientError
from sync_core.http import CONNECT_TIMEOUT, MAX_CONNECT_ATTEMPTS, Backoff, Pipeline
from sync_core.model.budget import SlidingWindowBudget
from sync_core.model.codes import ErrorCode, Service
from tests.http.conftest import Answer, RecordingGuard, ScriptedApp, ac_client, dv_client, identity, make_client


@pytest.mark.parametrize("bound", [None, 1, 2])
async def test_in_flight_bound_is_shared_by_both_clients_of_a_connection(clock: FakeClock, bound: int | None) -> None:
    app = ScriptedApp(clock, hold=20)
    in_flight = asyncio.Semaphore(bound) if bound is not None else None
    ac = ac_client(app, clock, in_flight=in_flight, budget=SlidingWindowBudget(100, 1.0, clock=clock))
    dv = dv_client(app, clock, in_flight=in_flight)
    async with ac, dv:
        await asyncio.gather(*(identity(c) for c in (ac, dv, ac, dv, ac, dv)))
    assert len(app.seen) == 6
    assert app.peak == (bound if bound is not None else 6)  # unbounded by default, as before


async def test_connect_timeout_is_five_seconds_and_reads_keep_the_client_timeout(clock: FakeClock) -> None:
    transport = httpx.AsyncHTTPTransport()
    async with ac_client(None, clock, transport=transport) as ac, dv_client(None, clock, transport=transport) as dv, \
            dv_client(None, clock, transport=transport, timeout=2.0) as quick:
        assert CONNECT_TIMEOUT == 5.0
        assert ac._pipeline.http.timeout == httpx.Timeout(30.0, connect=5.0)
        assert dv._pipeline.http.timeout == httpx.Timeout(60.0, connect=5.0)
        assert quick._pipeline.http.timeout == httpx.Timeout(2.0)  # the connect timeout never exceeds the rest


@pytest.fixture
def refused_url() -> Iterator[str]:
    """A loopback port that is bound but not listening: every connect is refused."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        yield f"http://127.0.0.1:{s.getsockname()[1]}"


@pytest.fixture
def silent_url() -> Iterator[str]:
    """A loopback port whose accept queue is full: a connect is never answered (it times out)."""
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(0)
        port = server.getsockname()[1]
        fillers = []
        for _ in range(3):
            c = socket.socket()
            c.setblocking(False)
            c.connect_ex(("127.0.0.1", port))
            fillers.append(c)
        time.sleep(0.05)
        try:
            yield f"http://127.0.0.1:{port}"
        finally:
            for c in fillers:
                c.close()


@pytest.mark.parametrize("service", ["ac", "dv"])
async def test_an_unreachable_host_fails_after_three_connect_attempts(clock: FakeClock, refused_url: str,
                                                                      service: str) -> None:
    guard = RecordingGuard(clock)
    client = make_client(service, None, clock, url=refused_url, transport=httpx.AsyncHTTPTransport(),
                         guard=guard, max_retries=8)
    async with client:
        with pytest.raises((AcTransientError, DvTransientError)) as info:
            await identity(client)
        assert client.calls.total == MAX_CONNECT_ATTEMPTS == 3
    assert info.value.error_code is ErrorCode.UNAVAILABLE
    assert info.value.service is (Service.ACTIVECAMPAIGN if service == "ac" else Service.DYNAMICS)
    assert isinstance(info.value.__cause__, httpx.ConnectError)
    assert [e for e, _ in guard.events] == ["before_call", "wait", "before_call", "wait", "before_call"]
    assert clock.slept == pytest.approx(sum(guard.waits))  # backoff on the fake clock, through the guard


async def test_a_create_that_never_left_is_resent_within_the_same_limit(clock: FakeClock, refused_url: str) -> None:
    async with dv_client(None, clock, url=refused_url, transport=httpx.AsyncHTTPTransport()) as dv:
        with pytest.raises(DvTransientError):
            await dv.create("contacts", {"lastname": "x"})
        assert dv.calls.snapshot() == {"create": 3}


async def test_a_host_that_does_not_answer_times_out_each_connect(clock: FakeClock, silent_url: str) -> None:
    pipeline = Pipeline(logger=logging.getLogger("tests.http"), clock=clock, backoff=Backoff(base=0.5, cap=30.0),
                        max_retries=8, timeout=30.0, connect_timeout=0.2, base_url=silent_url)
    started = time.monotonic()
    async with pipeline.http:
        with pytest.raises(AcTransientError) as info:
            await pipeline.send("GET", "users/me", kind="users.me", policy=AcCallPolicy(default_plan_limit_rule))
    elapsed = time.monotonic() - started
    assert isinstance(info.value.__cause__, httpx.ConnectTimeout)
    assert pipeline.calls.total == 3
    assert 0.5 <= elapsed < 3.0  # three connect timeouts of 0.2 s, no real backoff sleep
    assert clock.slept == 0.5 + 1.0


@pytest.mark.parametrize("service", ["ac", "dv"])
async def test_throttling_still_follows_the_retry_limit_not_the_connect_limit(clock: FakeClock, service: str) -> None:
    app = ScriptedApp(clock, script=[Answer(429, {"Retry-After": "1"}) for _ in range(5)])
    async with make_client(service, app, clock, max_retries=8) as client:
        await identity(client)
        assert client.calls.total == 6
