"""Simulated time shared by the sync process and the sandboxes in another process.

The sandboxes' clock is frozen (``POST /_sandbox/clock {"freeze": true}``) and moves only when
the one process that holds a :class:`SimClock` waits: ``sleep(s)`` sets the sandboxes' clock to
the wake-up time over loopback first, then moves its own. So both sides read the same time at
every request; time passes only while the product waits for a rate limit, a ``Retry-After``
or the worker's re-queue delay, and processing (CPU, Azurite, loopback) costs no simulated
time. Wall and CPU time are measured separately.

A sleep wakes at ``time-at-call + s``: two coroutines sleeping at once do not add up, the later
wake-up wins (an asyncio program sleeping on a real clock behaves the same). The sales-latency bench has its
own clock (``bench/sales_latency.py``, ``EventClock``: in-process sandboxes, wake-ups in time order, time frozen
while a seller's action works); its docstring says why the two are not one.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import httpx


class SimClock:
    """Implements ``sync_core.clock.Clock``; the only mover of the sandboxes' clock while alive."""

    def __init__(self, control_base: str, start: float) -> None:
        self._url = control_base.rstrip("/") + "/_sandbox/clock"
        self._t = start
        self._lock = asyncio.Lock()
        self._http = httpx.AsyncClient(timeout=30)
        self.slept = 0.0

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
        if seconds > 0:
            target = self._t + seconds
            async with self._lock:
                if target > self._t:
                    # The sandboxes move first: the product never sees a time they have not reached.
                    await self._set(target)
                    self.slept += target - self._t
                    self._t = target
        await asyncio.sleep(0)

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
        await self._http.aclose()
