"""What a service decides about one call, and the verdicts it hands back to the send loop.

The loop (``_pipeline``) owns everything both services share: budgets, the guard, counting,
the in-flight bound, Retry-After, backoff and the connect limit. A client plugs in one small
:class:`CallPolicy` per call for what only it knows: which answers are worth another attempt,
which transport failures may be resent, per-attempt headers and the errors it raises.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

import httpx

from sync_core.model.budget import RequestBudget


@dataclass(frozen=True, slots=True)
class Accept:
    """The answer is the call's result (2xx, or a status the caller handles itself)."""


@dataclass(frozen=True, slots=True)
class Fail:
    """The answer is final: raise ``error``."""

    error: Exception


@dataclass(frozen=True, slots=True, kw_only=True)
class Retry:
    """Worth another attempt; ``error`` is raised once the client's retries run out.

    - ``throttled``: the service asked everyone to slow down (429, AC's 503): every holder of the
      account's budget and of the call's budgets pauses for the wait.
    - ``wait``: a fixed wait (AC's per-minute import window) instead of Retry-After or backoff;
      the client's ``max_retry_wait`` does not apply to it.
    - ``hold``: budgets to pause for the wait besides those of ``throttled``.
    - ``report_wait``: the error raised on giving up carries the next wait as ``retry_after``.
    """

    error: Exception
    throttled: bool = False
    wait: float | None = None
    hold: Sequence[RequestBudget] = ()
    report_wait: bool = True


Verdict = Accept | Fail | Retry


class CallPolicy(Protocol):
    """One service's decisions about one call."""

    async def headers(self) -> Mapping[str, str]:
        """Headers for this attempt (e.g. a fresh bearer token); asked before every attempt."""
        ...

    def after_attempt(self) -> None:
        """Runs after every attempt, answered or not (e.g. forget affinity cookies)."""
        ...

    def may_resend(self, error: httpx.TransportError) -> bool:
        """Whether a request that failed in transport may be sent again (never a create that may have arrived)."""
        ...

    def transport_error(self, error: httpx.TransportError, request: httpx.Request) -> Exception:
        """The error to raise when a transport failure ends the call."""
        ...

    def judge(self, response: httpx.Response) -> Verdict:
        """What an answer means."""
        ...
