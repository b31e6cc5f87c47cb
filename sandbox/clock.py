"""The sandboxes' own clock (DESIGN.md §7): they share no code with sync_core.

A sandbox reads the time through any object with ``time() -> float``. In-process tests pass
the product's fake clock so both sides agree; over loopback the control prefix
(``/_sandbox/clock``) sets and advances a :class:`SandboxClock`.
"""

from __future__ import annotations

import time
from typing import Protocol


class TimeSource(Protocol):
    def time(self) -> float: ...


class SandboxClock:
    """Real time plus an offset that the control routes can move forward, or a frozen time."""

    def __init__(self, *, frozen_at: float | None = None) -> None:
        self._offset = 0.0
        self._frozen = frozen_at

    def time(self) -> float:
        if self._frozen is not None:
            return self._frozen
        return time.time() + self._offset

    def advance(self, seconds: float) -> None:
        if seconds < 0:
            raise ValueError("the clock does not go back")
        if self._frozen is not None:
            self._frozen += seconds
        else:
            self._offset += seconds

    def freeze(self, at: float | None = None) -> None:
        self._frozen = self.time() if at is None else at

    def unfreeze(self) -> None:
        if self._frozen is not None:
            self._offset = self._frozen - time.time()
            self._frozen = None
