"""The send loop both clients use: one logical request, as many attempts as it takes.

Per attempt, in this order: a slot of the in-flight bound (taken before the budgets, so a call
that waited for a slot cannot send on a grant that has aged), one grant of every budget the call
spends, the policy's per-attempt headers, the guard's permission, then the call is counted and
sent; the guard is asked once more, with no I/O, as the headers and the body are written. Between
attempts the loop waits through the guard (so a pass's lease outlives a Retry-After) and, when the
service throttled, pauses every holder of the budgets first.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
from collections.abc import Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from typing import Any

import httpx

from sync_core.clock import Clock
from sync_core.http._backoff import Backoff
from sync_core.http._policy import Accept, CallPolicy, Fail, Retry
from sync_core.http._redaction import install_redaction
from sync_core.http._retry_after import parse_retry_after
from sync_core.model.budget import RequestBudget
from sync_core.model.calls import CallCounter
from sync_core.model.errors import RetriableError
from sync_core.model.guard import CallGuard

CONNECT_TIMEOUT = 5.0
"""Seconds to wait for a TCP (and TLS) connection; reads keep the client's longer timeout."""

MAX_CONNECT_ATTEMPTS = 3
"""Attempts of one call that may fail before reaching the host: a host that does not answer at all
fails the call after these, whatever the retry limit (429 and 503 still follow it)."""

_UNREACHED = (httpx.ConnectError, httpx.ConnectTimeout)


def request_path(request: httpx.Request) -> str:
    """The path as sent (percent-encoded) without its query: all a log line or an error may show."""
    return request.url.raw_path.split(b"?", 1)[0].decode("ascii")


@dataclass(frozen=True, slots=True)
class _Content:
    """What one call sends, rebuilt into a fresh request for every attempt."""

    headers: Mapping[str, str] = field(default_factory=dict)
    params: Any = None
    json: Any = None
    data: Any = None
    content: bytes | None = None


@dataclass(slots=True)
class _Tries:
    attempt: int = 0
    unreached: int = 0


class Pipeline:
    """An httpx client and the loop every call goes through. Close it with :meth:`aclose`.

    ``budget`` is the account's budget: spent by every call that names no budgets of its own and
    paused whenever the service throttles. ``in_flight``, shared by a connection's calls, bounds
    how many are on the wire at once (``None``: no bound).
    """

    def __init__(self, *, logger: logging.Logger, clock: Clock, backoff: Backoff, max_retries: int,
                 timeout: float, max_retry_wait: float = math.inf, budget: RequestBudget | None = None,
                 guard: CallGuard | None = None, in_flight: asyncio.Semaphore | None = None,
                 transport: httpx.AsyncBaseTransport | None = None, base_url: str = "",
                 headers: Mapping[str, str] | None = None, connect_timeout: float = CONNECT_TIMEOUT,
                 max_connect_attempts: int = MAX_CONNECT_ATTEMPTS) -> None:
        install_redaction()
        self.http = httpx.AsyncClient(
            base_url=base_url, headers=dict(headers or {}), transport=transport, follow_redirects=False,
            timeout=httpx.Timeout(timeout, connect=min(connect_timeout, timeout)))
        self.calls = CallCounter()
        self.clock = clock
        self._log = logger
        self._backoff = backoff
        self._max_retries = max(0, max_retries)
        self._max_retry_wait = max_retry_wait
        self._max_unreached = max(1, max_connect_attempts)
        self._budget = budget
        self._guard = guard
        self._in_flight = in_flight

    async def aclose(self) -> None:
        await self.http.aclose()

    async def send(self, method: str, url: str, *, kind: str, policy: CallPolicy,
                   budgets: Sequence[RequestBudget] | None = None, headers: Mapping[str, str] | None = None,
                   params: Any = None, json: Any = None, data: Any = None, content: bytes | None = None
                   ) -> httpx.Response:
        """Send one logical request; the accepted response, or the policy's error.

        ``budgets``: what each attempt spends (default: the account's budget). ``kind`` names the
        call in :attr:`calls`, which counts every attempt.
        """
        spend = list(budgets) if budgets is not None else [b for b in (self._budget,) if b is not None]
        body = _Content(headers or {}, params, json, data, content)
        tries = _Tries()
        while True:
            request, answer = await self._attempt(method, url, kind, policy, spend, body)
            if isinstance(answer, httpx.TransportError):
                wait = self._transport_wait(answer, request, policy, tries)
            else:
                verdict = policy.judge(answer)
                if isinstance(verdict, Accept):
                    return answer
                if isinstance(verdict, Fail):
                    raise verdict.error
                wait = self._retry_wait(verdict, answer, tries)
                await self._hold_off(verdict, spend, wait)
            await self._wait(wait)
            tries.attempt += 1

    def _slot(self) -> AbstractAsyncContextManager[Any]:
        return self._in_flight if self._in_flight is not None else contextlib.nullcontext()

    async def _attempt(self, method: str, url: str, kind: str, policy: CallPolicy, spend: list[RequestBudget],
                       body: _Content) -> tuple[httpx.Request, httpx.Response | httpx.TransportError]:
        async with self._slot():
            for budget in spend:
                await budget.acquire()
            headers = {**body.headers, **(await policy.headers())}
            request = self.http.build_request(method, url, headers=headers, params=body.params, json=body.json,
                                              data=body.data, content=body.content,
                                              extensions=self._wire_check())
            if self._guard is not None:  # last, so a pass frozen after the check has the least left to send
                await self._guard.before_call()
            self.calls.add(kind)
            try:
                response = await self.http.send(request)
            except httpx.TransportError as exc:
                self._log.warning("%s %s failed: %s", method, request_path(request), type(exc).__name__)
                return request, exc
            finally:
                policy.after_attempt()
        self._log.debug("%s %s -> %d", method, request_path(request), response.status_code)
        return request, response

    def _wire_check(self) -> dict[str, Any] | None:
        """httpcore's trace hook, asking the guard again as the headers and as the body go out.

        Refused there, the request never reaches the host (or reaches it without its body, which a
        server discards). Transports without httpcore (tests' ASGI apps) never call it.
        """
        guard = self._guard
        if guard is None:
            return None

        async def trace(event: str, info: dict[str, Any]) -> None:
            if event.endswith((".send_request_headers.started", ".send_request_body.started")):
                guard.on_the_wire()

        return {"trace": trace}

    def _transport_wait(self, error: httpx.TransportError, request: httpx.Request, policy: CallPolicy,
                        tries: _Tries) -> float:
        """The backoff before the next attempt; raises when the call ends here."""
        if isinstance(error, _UNREACHED):
            tries.unreached += 1
        if (tries.attempt >= self._max_retries or tries.unreached >= self._max_unreached
                or not policy.may_resend(error)):
            raise policy.transport_error(error, request) from error
        return self._backoff.delay(tries.attempt)

    def _retry_wait(self, verdict: Retry, response: httpx.Response, tries: _Tries) -> float:
        """Retry-After, the fixed wait or backoff; raises the verdict's error when retries run out."""
        wait = verdict.wait
        if wait is None:
            asked = parse_retry_after(response.headers.get("Retry-After"), self.clock.now())
            wait = asked if asked is not None else self._backoff.delay(tries.attempt)
        too_long = verdict.wait is None and wait > self._max_retry_wait
        if tries.attempt >= self._max_retries or too_long:
            error = verdict.error
            if verdict.report_wait and isinstance(error, RetriableError):
                error.retry_after = wait
            raise error
        self._log.info("%s %s -> %d; retrying in %.1fs (attempt %d)", response.request.method,
                       request_path(response.request), response.status_code, wait, tries.attempt + 1)
        return wait

    async def _hold_off(self, verdict: Retry, spend: list[RequestBudget], wait: float) -> None:
        """A throttled answer pauses every holder of the account's budget and of the call's budgets."""
        paused: list[RequestBudget] = []
        throttled = [self._budget, *spend] if verdict.throttled else []
        for budget in (*throttled, *verdict.hold):
            if budget is not None and all(budget is not p for p in paused):
                paused.append(budget)
                await budget.hold_off(wait)

    async def _wait(self, seconds: float) -> None:
        await (self._guard.wait(seconds) if self._guard is not None else self.clock.sleep(seconds))
