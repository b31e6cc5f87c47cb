"""One injectable clock for everything that waits or timestamps.

Product code never calls ``time.time()``, ``datetime.now()`` or ``asyncio.sleep()`` for
waiting directly: it receives a :class:`Clock`, so tests of backoff, ``Retry-After`` and
per-minute windows advance a :class:`FakeClock` instead of sleeping.
"""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime
from typing import Protocol, runtime_checkable


@runtime_checkable
class Clock(Protocol):
    """Wall time, monotonic time and waiting."""

    def time(self) -> float:
        """Seconds since the Unix epoch."""
        ...

    def now(self) -> datetime:
        """The current time as an aware UTC datetime."""
        ...

    def monotonic(self) -> float:
        """Seconds on a clock that never goes back (for deadlines and rate windows)."""
        ...

    async def sleep(self, seconds: float) -> None:
        """Wait ``seconds`` (at least yields to the event loop)."""
        ...


class SystemClock:
    """The real clock."""

    def time(self) -> float:
        return time.time()

    def now(self) -> datetime:
        return datetime.now(UTC)

    def monotonic(self) -> float:
        return time.monotonic()

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(max(0.0, seconds))


class FakeClock:
    """A clock that only moves when told to, or when someone sleeps on it.

    ``sleep`` advances the time by the amount asked and yields once to the event loop, so
    code that waits out a ``Retry-After: 30`` finishes at once while the arithmetic still
    sees 30 seconds pass. The same instance can be handed to the sandboxes (they read
    ``time()``), so both sides of an in-process test agree on the time.
    """

    def __init__(self, start: datetime | float | None = None) -> None:
        if start is None:
            start = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
        self._t = start.timestamp() if isinstance(start, datetime) else float(start)
        self.slept: float = 0.0

    def time(self) -> float:
        return self._t

    def now(self) -> datetime:
        return datetime.fromtimestamp(self._t, UTC)

    def monotonic(self) -> float:
        return self._t

    def advance(self, seconds: float) -> None:
        if seconds < 0:
            raise ValueError("a clock does not go back")
        self._t += seconds

    def set(self, when: datetime | float) -> None:
        t = when.timestamp() if isinstance(when, datetime) else float(when)
        if t < self._t:
            raise ValueError("a clock does not go back")
        self._t = t

    async def sleep(self, seconds: float) -> None:
        if seconds > 0:
            self._t += seconds
            self.slept += seconds
        await asyncio.sleep(0)


SYSTEM_CLOCK: Clock = SystemClock()
