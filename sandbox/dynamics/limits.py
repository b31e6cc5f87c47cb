"""Service protection (api-limits.md, 01/31/2023): request count, combined execution time, concurrency.

"Two of the service protection API limits are evaluated within a 5 minute (300 second) sliding window"
per user: 6,000 requests and 20 minutes (1,200,000 ms) of combined execution time; "exceeding the number of
concurrent requests [52] will immediately return an error". Web API: 429 with ``Retry-After`` in seconds and
the codes 0x80072322 / 0x80072321 / 0x80072326 with the documented messages. "You can expect to exceed the
number of requests and execution time limits for a 5 minute period before the service protection API
limits will take effect": the request that crosses a limit is served, the next ones are refused.

Execution time is simulated: each request costs the server time ``latency.Costs`` gives it (a base plus
per write and per row; a ``$batch`` sums its operations). The debugging headers
``x-ms-ratelimit-burst-remaining-xrm-requests`` / ``x-ms-ratelimit-time-remaining-xrm-requests`` are sent when
the matching limit is on (their format is not documented: an integer count and milliseconds).
"""

from __future__ import annotations

import math
from collections import Counter, deque
from dataclasses import dataclass, field

from .errors import DataverseError

EXECUTION_TIME = "0x80072321"
CONCURRENCY = "0x80072326"
DEFAULT_EXECUTION_MS = 1_200_000.0
DEFAULT_CONCURRENCY = 52


@dataclass
class ServiceLimits:
    execution_ms: float | None = None  # combined execution time per window (None: off)
    concurrency: int | None = None  # concurrent requests per user (None: off)
    window: float = 300.0
    executed: dict[str, deque[tuple[float, float]]] = field(default_factory=dict)  # token -> (time, ms)
    in_flight: Counter[str] = field(default_factory=Counter)

    def reset(self) -> None:
        self.executed.clear()
        self.in_flight.clear()

    def _log(self, token: str, now: float) -> deque[tuple[float, float]]:
        log = self.executed.setdefault(token, deque())
        while log and log[0][0] <= now - self.window:
            log.popleft()
        return log

    def used_ms(self, token: str, now: float) -> float:
        return sum(ms for _, ms in self._log(token, now))

    def check_execution(self, token: str, now: float) -> None:
        """429 0x80072321 while the window's combined execution time is at or over the limit."""
        if self.execution_ms is None:
            return
        log = self._log(token, now)
        total = sum(ms for _, ms in log)
        if total < self.execution_ms:
            return
        retry = self.window
        for at, ms in log:  # the window drops below the limit once enough of the oldest entries expire
            total -= ms
            if total < self.execution_ms:
                retry = at + self.window - now
                break
        limit = f"{self.execution_ms:,.0f}"
        raise DataverseError(
            429,
            EXECUTION_TIME,
            f"Combined execution time of incoming requests exceeded limit of {limit} milliseconds over time window "
            f"of {self.window:.0f} seconds. Decrease number of concurrent requests or reduce the duration of requests "
            "and try again later.",
            {"Retry-After": str(max(1, math.ceil(retry)))},
        )

    def charge(self, token: str, now: float, ms: float) -> None:
        if self.execution_ms is not None:
            self._log(token, now).append((now, ms))

    def enter(self, token: str) -> None:
        """Count a request in flight; 429 0x80072326 at once above the concurrency limit."""
        if self.concurrency is not None and self.in_flight[token] >= self.concurrency:
            raise DataverseError(
                429,
                CONCURRENCY,
                f"Number of concurrent requests exceeded the limit of {self.concurrency}.",
                {"Retry-After": "1"},
            )
        self.in_flight[token] += 1

    def leave(self, token: str) -> None:
        self.in_flight[token] -= 1
        if self.in_flight[token] <= 0:
            del self.in_flight[token]

    def headers(self, token: str, now: float) -> dict[str, str]:
        if self.execution_ms is None:
            return {}
        remaining = max(0.0, self.execution_ms - self.used_ms(token, now))
        return {"x-ms-ratelimit-time-remaining-xrm-requests": f"{remaining:.0f}"}
