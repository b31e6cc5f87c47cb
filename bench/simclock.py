"""Simulated time shared by the sync process and the sandboxes in another process.

The sandboxes' clock is frozen (``POST /_sandbox/clock {"freeze": true}``) and moves only when
the one process that holds a :class:`SimClock` waits. Time is a discrete-event simulation: every
``sleep`` registers its wake-up time, and the clock moves to the earliest one only when the process
has nothing else to do — no task ready to run and no I/O outstanding (the API calls through
:class:`LatencyTransport` and the store's Table Storage requests, counted by :meth:`SimClock.io`).
It then sets the sandboxes' clock to that time over loopback, then its own, and wakes every sleeper
due by then. So both sides read the same time at every request, waits wake in time order (two
calls in flight overlap: the shorter answers first), and processing (CPU, Azurite, loopback)
costs no simulated time. Wall and CPU time are measured separately.

Latency: with the sandboxes answering ``x-sandbox-latency`` (``python -m sandbox --latency
realistic`` or ``POST /_sandbox/latency`` with ``answer``/``mode`` ``header``), a call through
:class:`LatencyTransport` that was sent at simulated time ``t`` is handed to the product at
``t + latency``: the sandbox counted it in its rate windows at ``t`` (its arrival), the product sees
the answer that much later, and meanwhile the product's other calls go out.

The sales-latency bench has its own clock (``bench/sales_latency.py``, ``EventClock``: in-process
sandboxes, time frozen while a seller's action works); its docstring says why the two are not one.
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import itertools
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import httpx

LATENCY_HEADER = "x-sandbox-latency"
QUIET_TURNS = 3
"""Event-loop turns with nothing ready before the clock may move."""


class SimClock:
    """Implements ``sync_core.clock.Clock``; the only mover of the sandboxes' clock while alive."""

    def __init__(self, control_base: str, start: float) -> None:
        self._url = control_base.rstrip("/") + "/_sandbox/clock"
        self._t = start
        self._http = httpx.AsyncClient(timeout=30)
        self._heap: list[tuple[float, int, asyncio.Future[None]]] = []
        self._seq = itertools.count()
        self._mover: asyncio.Task[None] | None = None
        self._io = 0
        self._io_done: asyncio.Event | None = None
        self.slept = 0.0
        self.moves = 0

    @classmethod
    async def attach(cls, control_base: str) -> SimClock:
        """Freeze the sandboxes' clock (if not yet) and start from its time."""
        async with httpx.AsyncClient(timeout=30) as http:
            r = await http.post(control_base.rstrip("/") + "/_sandbox/clock", json={"freeze": True})
            r.raise_for_status()
            return cls(control_base, float(r.json()["time"]))

    def time(self) -> float:
        return self._t

    def now(self) -> datetime:
        return datetime.fromtimestamp(self._t, UTC)

    def monotonic(self) -> float:
        return self._t

    async def sleep(self, seconds: float) -> None:
        if seconds <= 0:
            await asyncio.sleep(0)
            return
        await self.sleep_until(self._t + seconds)

    async def sleep_until(self, target: float) -> None:
        if target <= self._t:
            await asyncio.sleep(0)
            return
        fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._heap, (target, next(self._seq), fut))
        if self._mover is None or self._mover.done():
            self._mover = asyncio.create_task(self._move())
        await fut

    @contextlib.contextmanager
    def io(self) -> Iterator[None]:
        """Around a request whose answer costs no simulated time: the clock waits for it."""
        self._io += 1
        try:
            yield
        finally:
            self._io -= 1
            if self._io == 0 and self._io_done is not None:
                self._io_done.set()

    async def _quiet(self) -> None:
        loop = asyncio.get_running_loop()
        turns = 0
        while turns < QUIET_TURNS:
            if self._io:
                self._io_done = self._io_done or asyncio.Event()
                self._io_done.clear()
                await self._io_done.wait()
                turns = 0
                continue
            await asyncio.sleep(0)
            turns = 0 if getattr(loop, "_ready", None) else turns + 1

    async def _move(self) -> None:
        while self._heap:
            await self._quiet()
            while self._heap and self._heap[0][2].done():  # a cancelled sleeper
                heapq.heappop(self._heap)
            if not self._heap:
                return
            target = self._heap[0][0]
            if target > self._t:
                # The sandboxes move first: the product never sees a time they have not reached.
                await self._set(target)
                self.slept += target - self._t
                self._t = target
                self.moves += 1
            while self._heap and self._heap[0][0] <= self._t:
                _, _, fut = heapq.heappop(self._heap)
                if not fut.done():
                    fut.set_result(None)

    async def _set(self, target: float) -> None:
        # "set" is idempotent: a keep-alive connection the server closed meanwhile is simply retried.
        for attempt in range(5):
            try:
                r = await self._http.post(self._url, json={"set": target})
                r.raise_for_status()
                return
            except httpx.TransportError:
                if attempt == 4:
                    raise
                await asyncio.sleep(0.2)

    async def aclose(self) -> None:
        if self._mover is not None and not self._mover.done():
            self._mover.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._mover
        await self._http.aclose()


class LatencyTransport(httpx.AsyncBaseTransport):
    """The product's HTTP transport to a sandbox: the call counts as I/O until its answer has arrived, then
    waits the latency the sandbox announced (``x-sandbox-latency``) from when it was sent, on the clock."""

    def __init__(self, clock: SimClock, inner: httpx.AsyncBaseTransport | None = None) -> None:
        self._clock = clock
        self._inner = inner or httpx.AsyncHTTPTransport()
        self.waited = 0.0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        sent = self._clock.time()
        with self._clock.io():
            response = await self._inner.handle_async_request(request)
            try:
                raw = b"".join([chunk async for chunk in response.aiter_raw()])
            finally:
                await response.aclose()
        latency = float(response.headers.get(LATENCY_HEADER) or 0.0)
        if latency > 0:
            self.waited += latency
            await self._clock.sleep_until(sent + latency)
        return httpx.Response(status_code=response.status_code, headers=response.headers, content=raw,
                              extensions=response.extensions)

    async def aclose(self) -> None:
        """Clients close their transport; this one outlives them (one per sync process): see :meth:`close`."""

    async def close(self) -> None:
        await self._inner.aclose()


def store_io(store: Any, clock: SimClock) -> None:
    """Count the store's Table Storage requests as I/O the clock waits for (bench only)."""
    transport = getattr(store, "_transport", None)
    if transport is None:
        return
    send = transport.send

    async def counted(request: Any, **kwargs: Any) -> Any:
        with clock.io():
            return await send(request, **kwargs)

    transport.send = counted
