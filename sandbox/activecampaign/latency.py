"""Per-route response latency in simulated time: a request answers ``latency`` seconds after it arrived, on the
sandbox's clock, without really sleeping.

Each real request draws its latency from the profile (seeded, so runs repeat): uniform between ``min`` and
``max`` seconds, plus, with probability ``tail_p``, an extra uniform ``0..tail_max`` (the tail). Before the
handler runs, the clock is moved to ``arrival + latency`` unless it is already past it, so calls in flight
together overlap (the later answer wins) instead of adding up. The clock is moved with its ``advance(seconds)``
(``SandboxClock``, the product's ``FakeClock``), else with an async ``sleep(seconds)`` (``bench/simclock.py``).
Over loopback the sandbox moves its own clock: a client that keeps its own copy of simulated time reads it back
(``GET /_sandbox/clock``).

``PROFILES["realistic"]``: AC answers in 150-300 ms, 5 % of calls 0-1.2 s slower; bulk imports 300-600 ms with
the same tail. Set it with ``ac.set_latency("realistic")``, a dict of the same shape
(``{"default": {"min": .15, "max": .3, "tail_p": .05, "tail_max": 1.2}, "routes": {"POST /api/3/import/bulk_import":
{...}}}``, route keys are the method and the route template), or ``POST /_sandbox/latency`` with that body;
``None`` / ``{"profile": "none"}`` turns it off. ``ac.latency_waited`` sums the simulated seconds spent.

Two ways to answer (``answer``, also a key of the POST body): ``clock`` (default) moves the sandbox's clock as
above, which suits a process that shares the clock with its caller; ``header`` leaves the clock alone and
answers at once with ``x-sandbox-latency: <seconds>``, for a caller that owns simulated time in another process
(the bench: ``bench/simclock.py`` waits it on the one clock, ordered with every other wait, so calls in flight
overlap exactly and the sandbox's rate window counts each request at its arrival). Where the numbers come from:
register entry "Latency" in ASSUMPTIONS.md (an assumption, not a measurement).
"""

from __future__ import annotations

import asyncio
import inspect
import random
from dataclasses import asdict, dataclass
from typing import Any

REALISTIC: dict[str, Any] = {
    "default": {"min": 0.15, "max": 0.30, "tail_p": 0.05, "tail_max": 1.2},
    "routes": {"POST /api/3/import/bulk_import": {"min": 0.30, "max": 0.60, "tail_p": 0.05, "tail_max": 1.2}},
}
PROFILES: dict[str, dict[str, Any] | None] = {"realistic": REALISTIC, "none": None}
ANSWERS = ("clock", "header")
LATENCY_HEADER = b"x-sandbox-latency"


@dataclass(frozen=True)
class Spec:
    min: float
    max: float
    tail_p: float = 0.0
    tail_max: float = 0.0

    @classmethod
    def parse(cls, raw: Any, where: str) -> Spec:
        if not isinstance(raw, dict) or set(raw) - {"min", "max", "tail_p", "tail_max"}:
            raise ValueError(f"{where}: an object with min, max, tail_p, tail_max")
        values = {k: raw.get(k, 0.0) for k in ("min", "max", "tail_p", "tail_max")}
        if any(isinstance(v, bool) or not isinstance(v, int | float) or v < 0 for v in values.values()):
            raise ValueError(f"{where}: non-negative numbers")
        spec = cls(**{k: float(v) for k, v in values.items()})
        if spec.max < spec.min or spec.tail_p > 1 or spec.max > 60 or spec.tail_max > 60:
            raise ValueError(f"{where}: min <= max <= 60, tail_p <= 1, tail_max <= 60")
        return spec


class LatencyProfile:
    def __init__(self, raw: dict[str, Any], seed: int) -> None:
        if not isinstance(raw, dict) or set(raw) - {"default", "routes"}:
            raise ValueError("a latency profile is {\"default\": {...}, \"routes\": {\"METHOD /path\": {...}}}")
        self.default = Spec.parse(raw["default"], "default") if raw.get("default") is not None else None
        routes = raw.get("routes")
        routes = {} if routes is None else routes
        if not isinstance(routes, dict):
            raise ValueError("routes: an object")
        self.routes = {str(k): Spec.parse(v, f"routes[{k}]") for k, v in routes.items()}
        self.rng = random.Random(seed ^ 0x1A7E)  # its own stream: ids and batch ids stay as without latency

    def draw(self, method: str, route: str | None) -> float:
        spec = self.routes.get(f"{method} {route}", self.default)
        if spec is None:
            return 0.0
        value = self.rng.uniform(spec.min, spec.max)
        if spec.tail_p and self.rng.random() < spec.tail_p:
            value += self.rng.uniform(0, spec.tail_max)
        return value

    def describe(self) -> dict[str, Any]:
        return {"default": asdict(self.default) if self.default else None,
                "routes": {k: asdict(v) for k, v in self.routes.items()}}


def check_clock(clock: Any) -> None:
    if not callable(getattr(clock, "advance", None)) and not inspect.iscoroutinefunction(getattr(clock, "sleep", None)):
        raise ValueError("simulated latency needs a clock with advance(seconds) or an async sleep(seconds)")


async def wait_until(clock: Any, target: float) -> float:
    """Move ``clock`` to ``target`` unless it is already there; answers the simulated seconds moved."""
    await asyncio.sleep(0)  # first let the other calls in flight arrive
    gap: float = target - clock.time()
    if gap > 0:
        if callable(getattr(clock, "advance", None)):
            clock.advance(gap)
        else:
            await clock.sleep(gap)
    return max(gap, 0.0)
