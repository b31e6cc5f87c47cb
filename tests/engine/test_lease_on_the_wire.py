"""A call that passed the lease check and then waited (for a pooled connection, a busy event loop,
a frozen process) is asked again as its bytes go out: if the lease lapsed meanwhile, it never
reaches the host. Real sockets (httpcore's trace hook is what asks), real Azurite for the lease.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import httpx
import pytest

from sync_core.activecampaign import default_plan_limit_rule
from sync_core.activecampaign._policy import AcCallPolicy
from sync_core.clock import FakeClock
from sync_core.engine.lease_keeper import LeaseKeeper
from sync_core.http import Backoff, Pipeline
from sync_core.store import LeaseLostError, SyncStore


@dataclass
class HeldServer:
    """An HTTP/1.1 server on loopback that holds its first answer until told to let it go."""

    received: list[str] = field(default_factory=list)
    first_in: asyncio.Event = field(default_factory=asyncio.Event)
    let_go: asyncio.Event = field(default_factory=asyncio.Event)

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = await reader.readuntil(b"\r\n\r\n")
        self.received.append(head.split(b"\r\n", 1)[0].decode())
        if len(self.received) == 1:
            self.first_in.set()
            await self.let_go.wait()
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\n"
                     b"Connection: close\r\n\r\n{}")
        await writer.drain()
        writer.close()


@pytest.fixture
async def server() -> AsyncIterator[tuple[HeldServer, str]]:
    held = HeldServer()
    srv = await asyncio.start_server(held.handle, "127.0.0.1", 0)
    port = srv.sockets[0].getsockname()[1]
    async with srv:
        yield held, f"http://127.0.0.1:{port}"
        held.let_go.set()


async def test_a_call_waiting_for_a_connection_while_the_lease_lapses_never_reaches_the_host(
        storage_connection_string: str, table_prefix: str, clock: FakeClock,
        server: tuple[HeldServer, str]) -> None:
    held, url = server
    async with SyncStore.from_connection_string(storage_connection_string, table_prefix=table_prefix,
                                                clock=clock) as store:
        await store.create_tables()
        keeper = LeaseKeeper(store, await store.acquire_lease("c1", "A", ttl=60), clock=clock, ttl=60)
        one_connection = httpx.AsyncHTTPTransport(limits=httpx.Limits(max_connections=1))
        pipeline = Pipeline(logger=logging.getLogger("test"), clock=clock, backoff=Backoff(base=0.1, cap=1.0),
                            max_retries=0, timeout=30, guard=keeper, transport=one_connection, base_url=url)
        policy = AcCallPolicy(default_plan_limit_rule)
        try:
            first = asyncio.create_task(pipeline.send("POST", "/first", kind="w", policy=policy, json={}))
            await held.first_in.wait()  # the pool's only connection is busy now
            second = asyncio.create_task(pipeline.send("POST", "/second", kind="w", policy=policy, json={}))
            for _ in range(50):  # let it pass the check and queue for the connection
                await asyncio.sleep(0)
            assert keeper.renewals == 0 and not second.done()
            clock.advance(55)  # the stall: 5 s of the lease left when the connection frees
            held.let_go.set()
            assert (await first).status_code == 200
            with pytest.raises(LeaseLostError, match="before the call went out"):
                await second
        finally:
            await pipeline.aclose()
    assert held.received == ["POST /first HTTP/1.1"]
    assert keeper.lost


async def test_calls_in_flight_together_renew_the_lease_once(
        storage_connection_string: str, table_prefix: str, clock: FakeClock) -> None:
    """Four calls that start together when the lease is due for renewal renew it once: a second renewal on the
    etag the first replaced would read as a take-over and stop the pass."""
    async with SyncStore.from_connection_string(storage_connection_string, table_prefix=table_prefix,
                                                clock=clock) as store:
        await store.create_tables()
        keeper = LeaseKeeper(store, await store.acquire_lease("c1", "A", ttl=60), clock=clock, ttl=60)
        clock.advance(20)  # 40 s left: below the renewal threshold (45 s), above the call threshold
        await asyncio.gather(*(keeper.before_call() for _ in range(4)))
        assert keeper.renewals == 1 and not keeper.lost
        assert keeper.remaining() == pytest.approx(60)
