"""Per-request server time: the execution-time limit's cost, and (when on) the response latency.

``Costs`` is the sandbox's own model (Dataverse documents no per-operation cost): a base drawn per request
(default 50–150 ms, with 5 % of requests in a 150–600 ms tail), plus each write (create/update/delete, also
inside ``$batch``), each ``$batch`` operation's overhead and each row a read returns. The same number is
charged to the execution-time limit (limits.py) and, with ``mode`` ``simulated`` or ``real``, waited before
the response goes out:

- ``simulated``: the wait happens on the injected clock, which must have ``advance(seconds)``
  (``SandboxClock``, the product's ``FakeClock``): a waiting request gives every other task a chance to
  run, then the request with the earliest wake-up moves the clock to it. Concurrent requests overlap
  (three 100 ms calls in flight take 100 ms of simulated time, not 300), nothing really sleeps, and a bench
  at realistic latency stays as fast as without it. Over loopback the product's clock must follow the
  sandbox's (responses then carry ``x-sandbox-time``, the sandbox clock after the wait).
- ``real``: ``Dataverse.sleep`` (``asyncio.sleep`` unless a test replaced it).
- ``header``: nothing waits here; the response carries ``x-sandbox-latency`` (seconds: the server time,
  plus a gateway timeout's wait) for a caller that owns simulated time in another process to wait on its
  own clock, ordered with every other wait (the bench: ``bench/simclock.py``). The sandbox's clock stays
  where the caller set it, so the rate and execution-time windows count each request at its arrival; the
  concurrency limit sees only the requests being served, not those "on the wire" (the product keeps few in
  flight to Dataverse).

Where the numbers come from: register entry "Latency" in ASSUMPTIONS.md (an assumption, not a measurement).
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass, field
from typing import Any

from .errors import DataverseError

IDLE_YIELDS = 20  # event-loop turns a simulated wait grants other tasks before moving the clock
MODES = ("off", "simulated", "real", "header")


@dataclass
class Costs:
    base_ms: tuple[float, float] = (50.0, 150.0)
    tail_ms: tuple[float, float] = (150.0, 600.0)
    tail_share: float = 0.05
    write_ms: float = 10.0
    op_ms: float = 2.0
    row_ms: float = 0.02
    # per-route base ranges replacing base_ms, keyed like the counters: "GET contacts", "POST $batch", "GET WhoAmI"
    routes: dict[str, tuple[float, float]] = field(default_factory=dict)


@dataclass
class Meter:
    """What one HTTP request did (a $batch counts all of its operations)."""

    writes: int = 0
    ops: int = 0
    rows: int = 0


@dataclass
class Latency:
    seed: int = 1
    mode: str = "off"
    costs: Costs = field(default_factory=Costs)
    samples: dict[str, list[float]] = field(default_factory=dict)  # route -> server ms (mode on)
    _deadlines: list[float] = field(default_factory=list)
    _rng: random.Random = field(default_factory=random.Random)

    def __post_init__(self) -> None:
        self._rng = random.Random(f"latency-{self.seed}")

    def configure(self, body: dict[str, Any]) -> dict[str, Any]:
        """Control surface: ``{"mode": "simulated", "costs": {"base_ms": [50, 150], ...}, "reset": true}``."""
        mode = body.get("mode", self.mode)
        if mode not in MODES:
            raise DataverseError(400, "sandbox", f"'mode' must be one of {list(MODES)}")
        costs = asdict(self.costs)
        for key, value in dict(body.get("costs") or {}).items():
            if key not in costs:
                raise DataverseError(400, "sandbox", f"unknown cost {key!r}; known: {sorted(costs)}")
            if key == "routes":
                costs[key] = {str(route): tuple(float(v) for v in pair) for route, pair in dict(value).items()}
            else:
                costs[key] = tuple(float(v) for v in value) if isinstance(costs[key], tuple) else float(value)
        ranges = [costs["base_ms"], costs["tail_ms"], *costs["routes"].values()]
        if any(len(r) != 2 or r[0] > r[1] for r in ranges):
            raise DataverseError(400, "sandbox", "'base_ms', 'tail_ms' and each route are [low, high], low <= high")
        if not 0.0 <= costs["tail_share"] <= 1.0:
            raise DataverseError(400, "sandbox", "'tail_share' is a fraction between 0 and 1")
        self.mode, self.costs = mode, Costs(**costs)
        if body.get("reset"):
            self.samples.clear()
        return self.report()

    def server_ms(self, meter: Meter, route: str = "") -> float:
        c = self.costs
        low, high = c.tail_ms if self._rng.random() < c.tail_share else c.routes.get(route, c.base_ms)
        base = low + (high - low) * self._rng.random()
        return base + meter.writes * c.write_ms + meter.ops * c.op_ms + meter.rows * c.row_ms

    def record(self, route: str, ms: float) -> None:
        if self.mode != "off":
            self.samples.setdefault(route, []).append(ms)

    def report(self) -> dict[str, Any]:
        routes = {}
        for route, values in sorted(self.samples.items()):
            ordered = sorted(values)
            routes[route] = {
                "count": len(ordered),
                "p50_ms": round(ordered[len(ordered) // 2], 3),
                "p99_ms": round(ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))], 3),
                "total_s": round(sum(ordered) / 1000, 3),
            }
        return {"mode": self.mode, "costs": asdict(self.costs), "routes": routes}

    async def wait(self, seconds: float, clock: Any, real_sleep: Callable[[float], Awaitable[None]]) -> None:
        if self.mode == "real" or (self.mode == "simulated" and not hasattr(clock, "advance")):
            await real_sleep(seconds)
        elif self.mode == "simulated":
            await self._virtual(seconds, clock)

    async def wait_gateway(self, seconds: float, clock: Any, real_sleep: Callable[[float], Awaitable[None]]) -> None:
        """A gateway timeout's wait: on the injected clock whenever it can be moved, whatever the mode."""
        if hasattr(clock, "advance"):
            await self._virtual(seconds, clock)
        else:
            await real_sleep(seconds)

    async def _virtual(self, seconds: float, clock: Any) -> None:
        deadline = clock.time() + seconds
        self._deadlines.append(deadline)
        try:
            while clock.time() < deadline:
                for _ in range(IDLE_YIELDS):  # let the caller's other tasks send their requests first
                    await asyncio.sleep(0)
                now = clock.time()
                if now < deadline and deadline <= min(self._deadlines):
                    clock.advance(deadline - now)
        finally:
            self._deadlines.remove(deadline)
