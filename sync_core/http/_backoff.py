"""Capped exponential backoff, with optional jitter."""

from __future__ import annotations

import random
from dataclasses import dataclass


@dataclass(frozen=True, kw_only=True)
class Backoff:
    """Wait before retry number ``attempt`` (0-based): ``base·2^attempt``, at most ``cap``.

    With ``jitter`` the wait is scaled by a random factor in [0.5, 1), so callers that failed
    together do not come back together.
    """

    base: float
    cap: float
    jitter: bool = False

    def delay(self, attempt: int) -> float:
        wait = float(min(self.cap, self.base * 2 ** min(max(attempt, 0), 30)))
        return wait * (0.5 + random.random() / 2) if self.jitter else wait
