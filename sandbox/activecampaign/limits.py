"""Sliding-window request limits measured on the sandbox clock."""

from __future__ import annotations

import math
from collections import deque


class SlidingWindow:
    """At most ``limit`` admitted events inside any window of ``seconds``; refused events do not count."""

    def __init__(self, limit: int, seconds: float) -> None:
        self.limit = limit
        self.seconds = seconds
        self._events: deque[float] = deque()

    def _expire(self, now: float) -> None:
        if self._events and self._events[-1] > now:  # the control surface set the clock back: forget "future"
            self._events = deque(t for t in self._events if t <= now)
        while self._events and self._events[0] <= now - self.seconds:
            self._events.popleft()

    def try_admit(self, now: float) -> bool:
        self._expire(now)
        if len(self._events) >= self.limit:
            return False
        self._events.append(now)
        return True

    def retry_after(self, now: float) -> int:
        """Whole seconds (≥ 1) until the oldest event in the window leaves it."""
        self._expire(now)
        if len(self._events) < self.limit:
            return 1
        return max(1, math.ceil(self._events[0] + self.seconds - now))

    def remaining(self, now: float) -> int:
        self._expire(now)
        return max(0, self.limit - len(self._events))

    def clear(self) -> None:
        self._events.clear()
