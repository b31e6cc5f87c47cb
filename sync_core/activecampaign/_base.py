"""The request engine every API group builds on: budget, retries, error mapping, counting, logs."""

from __future__ import annotations

import json as jsonlib
import re
from collections.abc import Sequence
from typing import Any

import httpx

from sync_core.activecampaign._errors import (
    ActiveCampaignError,
    PlanLimitRule,
    RateLimitedError,
    TransientError,
    body_text,
    default_plan_limit_rule,
    error_for_status,
    parse_error_body,
)
from sync_core.activecampaign._logging import install_redaction, logger
from sync_core.activecampaign._retry import RETRY_STATUSES, backoff, parse_retry_after
from sync_core.clock import SYSTEM_CLOCK, Clock
from sync_core.model.budget import RequestBudget, SlidingWindowBudget
from sync_core.model.calls import CallCounter
from sync_core.model.guard import CallGuard

_RATE_LIMIT_TEXT = re.compile(r"rate limit|imports may be requested per minute", re.IGNORECASE)

Params = dict[str, Any] | list[tuple[str, Any]]


def api_base_url(api_url: str) -> str:
    """``https://acct.api-us1.com`` (as the Developer tab gives it) → ``.../api/3/``."""
    base = api_url.strip().rstrip("/")
    if base.endswith("/api/3"):
        base = base[: -len("/api/3")]
    return base + "/api/3/"


def _says_rate_limited(response: httpx.Response) -> bool:
    return bool(_RATE_LIMIT_TEXT.search(body_text(parse_error_body(response.text))))


class ClientBase:
    """Holds the HTTP client and sends every request through :meth:`_send`."""

    def __init__(self, api_url: str, api_key: str, *, budget: RequestBudget | None = None,
                 import_budget: RequestBudget | None = None, single_import_budget: RequestBudget | None = None,
                 clock: Clock | None = None, transport: httpx.AsyncBaseTransport | None = None,
                 timeout: float = 30.0, max_retries: int = 8, bulk_import_spends_request_budget: bool = True,
                 failure_reason_index_base: int | None = None, plan_limit_rule: PlanLimitRule | None = None,
                 backoff_base: float = 0.5, backoff_cap: float = 30.0, max_retry_wait: float = 300.0,
                 guard: CallGuard | None = None) -> None:
        if not api_url or not api_key:
            raise ValueError("an ActiveCampaign client needs the API URL and the API key")
        self.clock: Clock = clock or SYSTEM_CLOCK
        self.budget: RequestBudget = budget or SlidingWindowBudget(5, 1.0, clock=self.clock)
        self.import_budget: RequestBudget = import_budget or SlidingWindowBudget(100, 60.0, clock=self.clock)
        self.single_import_budget: RequestBudget = (single_import_budget
                                                    or SlidingWindowBudget(20, 60.0, clock=self.clock))
        self.bulk_import_spends_request_budget = bulk_import_spends_request_budget
        self.failure_reason_index_base = failure_reason_index_base
        self.plan_limit_rule: PlanLimitRule = plan_limit_rule or default_plan_limit_rule
        self.max_retries = max_retries
        self.backoff_base = backoff_base
        self.backoff_cap = backoff_cap
        self.max_retry_wait = max_retry_wait
        self.calls = CallCounter()
        self.guard = guard
        """Asked before every attempt (a pass's lease): see ``sync_core.model.guard``."""
        self._tag_ids: dict[str, str] = {}
        self.api_url = api_url.strip().rstrip("/")
        install_redaction()
        self._http = httpx.AsyncClient(
            base_url=api_base_url(api_url),
            headers={"Api-Token": api_key, "Accept": "application/json"},
            timeout=timeout,
            transport=transport,
            follow_redirects=False,
        )

    async def aclose(self) -> None:
        await self._http.aclose()

    async def __aenter__(self) -> ClientBase:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    # -- sending ---------------------------------------------------------------------------

    async def _send(self, method: str, path: str, *, kind: str, params: Params | None = None,
                    json: Any = None, budgets: Sequence[RequestBudget] | None = None,
                    url: str | None = None, window_budget: RequestBudget | None = None,
                    form: dict[str, str] | None = None) -> httpx.Response:
        """Send one logical request, retrying 429/503 (Retry-After), 5xx and network errors.

        Returns the 2xx response; raises the mapped error otherwise. ``path`` is relative to
        ``/api/3/`` unless ``url`` (absolute, for v1) is given. Query strings and the key never
        reach a log line or an error message. With ``window_budget`` (bulk import), a 400 whose body
        says "Rate limit exceeded" means that budget's window is spent: pause it for one window
        and try again.
        """
        spend = list(budgets) if budgets is not None else [self.budget]
        target = url or path
        shown = httpx.URL(url).path if url else "/api/3/" + path.lstrip("/")
        attempt = 0
        while True:
            for b in spend:
                await b.acquire()
            if self.guard is not None:
                await self.guard.before_call()
            self.calls.add(kind)
            try:
                response = await self._http.request(method, target, params=params, json=json, data=form)
            except httpx.TransportError as exc:
                reason = type(exc).__name__
                logger.warning("%s %s failed: %s (attempt %d)", method, shown, reason, attempt + 1)
                if attempt >= self.max_retries:
                    raise TransientError(f"ActiveCampaign {method} {shown} failed: {reason}") from None
                await self._wait(backoff(attempt, base=self.backoff_base, cap=self.backoff_cap))
                attempt += 1
                continue
            status = response.status_code
            logger.debug("%s %s -> %d", method, shown, status)
            if status < 300:
                return response
            if status in RETRY_STATUSES or status >= 500:
                retry_after = parse_retry_after(response.headers.get("Retry-After"), self.clock.now())
                wait = retry_after if retry_after is not None else backoff(
                    attempt, base=self.backoff_base, cap=self.backoff_cap)
                logger.info("%s %s -> %d; retrying in %.1fs (attempt %d)", method, shown, status, wait,
                            attempt + 1)
                if attempt >= self.max_retries or wait > self.max_retry_wait:
                    err = error_for_status(status, method, shown, parse_error_body(response.text),
                                           self.plan_limit_rule)
                    if isinstance(err, (RateLimitedError, TransientError)):
                        err.retry_after = wait
                    raise err
                if status in RETRY_STATUSES:
                    # Every holder of the account's budget pauses, not only this caller.
                    await self.budget.hold_off(wait)
                    for b in spend:
                        if b is not self.budget:
                            await b.hold_off(wait)
                await self._wait(wait)
                attempt += 1
                continue
            if window_budget is not None and status == 400 and _says_rate_limited(response):
                wait = float(window_budget.window)
                if attempt >= self.max_retries:
                    raise RateLimitedError(
                        f"ActiveCampaign {method} {shown} is rate limited ({status})", status=status,
                        retry_after=wait, details=parse_error_body(response.text).raw)
                logger.info("%s %s -> %d (rate limit exceeded); retrying in %.1fs", method, shown, status, wait)
                await window_budget.hold_off(wait)
                await self._wait(wait)
                attempt += 1
                continue
            raise self._error(method, shown, response)

    async def _wait(self, seconds: float) -> None:
        await (self.guard.wait(seconds) if self.guard is not None else self.clock.sleep(seconds))

    def _error(self, method: str, shown: str, response: httpx.Response) -> ActiveCampaignError:
        return error_for_status(response.status_code, method, shown, parse_error_body(response.text),
                                self.plan_limit_rule)

    @staticmethod
    def _json(response: httpx.Response) -> dict[str, Any]:
        """A 2xx body as a dict (empty body → {}); a non-JSON 2xx is a transient server fault."""
        text = response.text
        if not text.strip():
            return {}
        try:
            data = jsonlib.loads(text)
        except ValueError:
            raise TransientError(
                f"ActiveCampaign {response.request.method} {response.request.url.path} answered "
                f"{response.status_code} with a body that is not JSON", status=response.status_code) from None
        if isinstance(data, dict):
            return data
        return {"_": data}

    async def _get(self, path: str, *, kind: str, params: Params | None = None) -> dict[str, Any]:
        return self._json(await self._send("GET", path, kind=kind, params=params))

    async def _post(self, path: str, body: Any, *, kind: str) -> dict[str, Any]:
        return self._json(await self._send("POST", path, kind=kind, json=body))

    async def _put(self, path: str, body: Any, *, kind: str) -> dict[str, Any]:
        return self._json(await self._send("PUT", path, kind=kind, json=body))

    async def _delete(self, path: str, *, kind: str) -> None:
        await self._send("DELETE", path, kind=kind)
