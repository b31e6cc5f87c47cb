"""The request budget an API account grants, shared by every caller of that account.

ActiveCampaign allows 5 requests per second per account, shared by every integration of the
account (DESIGN.md §3). The clients receive a :class:`RequestBudget` and call ``acquire``
before each request; the store provides an implementation several processes share, and
:class:`SlidingWindowBudget` is the in-process one.
"""

from __future__ import annotations

from collections import deque
from typing import Protocol, runtime_checkable

from sync_core.clock import Clock


@runtime_checkable
class RequestBudget(Protocol):
    """At most ``limit`` requests in any window of ``window`` seconds, for all its holders."""

    limit: int
    window: float

    async def acquire(self) -> None:
        """Wait until one more request may be sent, and count it as sent."""
        ...

    async def hold_off(self, seconds: float) -> None:
        """The server asked us to pause (429 + Retry-After): no holder sends for ``seconds``."""
        ...


class SlidingWindowBudget:
    """In-process sliding-window budget: never more than ``limit`` grants in ``window`` seconds.

    Grants are serialised inside one event loop (no await between the check and the grant),
    so any number of coroutines may share one instance.
    """

    def __init__(self, limit: int, window: float, *, clock: Clock) -> None:
        if limit < 1 or window <= 0:
            raise ValueError("a budget needs limit >= 1 and window > 0")
        self.limit = limit
        self.window = window
        self._clock = clock
        self._grants: deque[float] = deque()
        self._paused_until = 0.0

    def next_free(self) -> float:
        """The earliest time (clock seconds) a request could be granted."""
        now = self._clock.time()
        while self._grants and self._grants[0] <= now - self.window:
            self._grants.popleft()
        t = max(now, self._paused_until)
        if len(self._grants) >= self.limit:
            t = max(t, self._grants[-self.limit] + self.window)
        return t

    async def acquire(self) -> None:
        while True:
            t = self.next_free()
            now = self._clock.time()
            if t <= now:
                self._grants.append(now)
                return
            await self._clock.sleep(t - now)

    async def hold_off(self, seconds: float) -> None:
        self._paused_until = max(self._paused_until, self._clock.time() + max(0.0, seconds))
