"""Per-record AC calls kept in flight together, so a pass fills the 5/s budget whatever the latency.

A loop that awaits one AC call after another spends each call's round trip on its own: at 250 ms a call
it tops out at 4 calls a second, under the budget, before any other cost. :func:`fan_out` starts the
items in their order, up to ``width`` at once (the HTTP layer's bound on calls in flight and the shared
budget still apply to each call), and runs items of one ``key`` one after another (two Dynamics accounts
of one name: the oldest decides). ``stop`` is asked before each item starts, in order, as a serial loop
would (a pass out of time starts nothing more; what started finishes). With ``width`` 1 it is that loop.
The first error an item raises stops the starting, cancels the others and is raised.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Hashable, Sequence
from typing import TypeVar

T = TypeVar("T")

AC_CALLS_IN_FLIGHT = 4
"""Per-record AC calls a pass keeps in flight. Little's law: 5 calls/s x ~0.26 s (the realistic profile's
mean, its tail included) is ~1.3 on average; 4 covers the tail (a call at 1.4 s leaves 3 to keep going)
and stays under the HTTP layer's bound (``clients.IN_FLIGHT_PER_CONNECTION``)."""


async def fan_out(items: Sequence[T], work: Callable[[T], Awaitable[None]], *, width: int = AC_CALLS_IN_FLIGHT,
                  key: Callable[[T], Hashable] | None = None, stop: Callable[[], bool] | None = None) -> None:
    slots = asyncio.Semaphore(max(1, width))
    last: dict[Hashable, asyncio.Task[None]] = {}
    tasks: list[asyncio.Task[None]] = []
    failed: list[BaseException] = []

    async def run(item: T, before: asyncio.Task[None] | None) -> None:
        try:
            if before is not None:
                await asyncio.wait([before])
            if not failed:
                await work(item)
        except BaseException as e:
            failed.append(e)
            raise
        finally:
            slots.release()

    try:
        for item in items:
            await slots.acquire()
            if failed or (stop is not None and stop()):
                slots.release()
                break
            k = key(item) if key is not None else None
            task = asyncio.create_task(run(item, last.get(k) if k is not None else None))
            tasks.append(task)
            if k is not None:
                last[k] = task
        await asyncio.gather(*tasks)
    except BaseException:
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        raise
