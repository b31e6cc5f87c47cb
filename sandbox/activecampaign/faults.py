"""Fault injection for the real routes (never for ``/_sandbox``).

- ``error_rate`` (0..1) with ``error_status``: that share of requests answers the status instead of running
  (drawn from the sandbox's seeded RNG, so runs repeat).
- ``latency``: seconds of real ``asyncio.sleep`` before answering (over loopback only; keep 0 in-process tests).
- ``force_429``: the next N requests get the rate limiter's answer (counted down per request): 429, or the
  ``rate_limit_status`` switch's status (503), with ``Retry-After: 1`` and the ``RateLimit-*`` headers.
- ``drop_next``: the next N requests are *dropped*: the app starts a response announcing a body, then raises
  ``httpx.RemoteProtocolError`` without sending it. Under uvicorn the server then closes the connection
  mid-response, so the client sees an incomplete message; in-process through ``httpx.ASGITransport`` the
  same ``httpx.RemoteProtocolError`` (a ``httpx.TransportError``) reaches the caller.
- ``import_fail_pattern``: bulk-import rows whose email contains this text fail at processing time and are
  listed under ``failure`` by ``import/info``.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any


@dataclass
class Faults:
    error_rate: float = 0.0
    error_status: int = 500
    latency: float = 0.0
    force_429: int = 0
    drop_next: int = 0
    import_fail_pattern: str | None = None

    def update(self, values: dict[str, Any]) -> None:
        known = {f.name: f for f in fields(self)}
        for key in values:
            if key not in known:
                raise KeyError(f"unknown fault {key!r}")
        for key, value in values.items():
            if key == "import_fail_pattern":
                if value is not None and not isinstance(value, str):
                    raise ValueError("import_fail_pattern must be a string or null")
            elif key in ("force_429", "drop_next", "error_status"):
                if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                    raise ValueError(f"{key} must be a non-negative integer")
            elif not isinstance(value, int | float) or isinstance(value, bool) or value < 0:
                raise ValueError(f"{key} must be a non-negative number")
            if key == "error_rate" and value > 1:
                raise ValueError("error_rate must be between 0 and 1")
            if key == "error_status" and not 400 <= value <= 599:
                raise ValueError("error_status must be a 4xx/5xx status")
            setattr(self, key, value)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)
