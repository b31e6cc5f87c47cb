"""What every API group builds on: the configuration and the one way to send (``sync_core.http``)."""

from __future__ import annotations

import asyncio
import json as jsonlib
import logging
from collections.abc import Sequence
from typing import Any

import httpx

from sync_core.activecampaign._errors import PlanLimitRule, TransientError, default_plan_limit_rule
from sync_core.activecampaign._policy import AcCallPolicy
from sync_core.clock import SYSTEM_CLOCK, Clock
from sync_core.http import Backoff, Pipeline
from sync_core.model.budget import RequestBudget, SlidingWindowBudget
from sync_core.model.guard import CallGuard

logger = logging.getLogger("sync_core.activecampaign")

Params = dict[str, Any] | list[tuple[str, Any]]


def api_base_url(api_url: str) -> str:
    """``https://acct.api-us1.com`` (as the Developer tab gives it) → ``.../api/3/``."""
    base = api_url.strip().rstrip("/")
    if base.endswith("/api/3"):
        base = base[: -len("/api/3")]
    return base + "/api/3/"


class ClientBase:
    """Holds the pipeline and sends every request through :meth:`_send`."""

    def __init__(self, api_url: str, api_key: str, *, budget: RequestBudget | None = None,
                 import_budget: RequestBudget | None = None, single_import_budget: RequestBudget | None = None,
                 clock: Clock | None = None, transport: httpx.AsyncBaseTransport | None = None,
                 timeout: float = 30.0, max_retries: int = 8, bulk_import_spends_request_budget: bool = True,
                 failure_reason_index_base: int | None = None, plan_limit_rule: PlanLimitRule | None = None,
                 backoff_base: float = 0.5, backoff_cap: float = 30.0, max_retry_wait: float = 300.0,
                 guard: CallGuard | None = None, in_flight: asyncio.Semaphore | None = None) -> None:
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
        self._tag_ids: dict[str, str] = {}
        self.api_url = api_url.strip().rstrip("/")
        self._pipeline = Pipeline(
            logger=logger, clock=self.clock, budget=self.budget, guard=guard, in_flight=in_flight,
            backoff=Backoff(base=backoff_base, cap=backoff_cap), max_retries=max_retries,
            max_retry_wait=max_retry_wait, timeout=timeout, transport=transport, base_url=api_base_url(api_url),
            headers={"Api-Token": api_key, "Accept": "application/json"})
        self.calls = self._pipeline.calls
        """Every attempt, by kind."""

    async def aclose(self) -> None:
        await self._pipeline.aclose()

    async def __aenter__(self) -> ClientBase:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    # -- sending ---------------------------------------------------------------------------

    async def _send(self, method: str, path: str, *, kind: str, params: Params | None = None,
                    json: Any = None, budgets: Sequence[RequestBudget] | None = None,
                    url: str | None = None, window_budget: RequestBudget | None = None,
                    form: dict[str, str] | None = None) -> httpx.Response:
        """Send one logical request; the 2xx response, or the mapped error (see ``_policy``).

        ``path`` is relative to ``/api/3/`` unless ``url`` (absolute, for v1) is given; every
        attempt spends ``budgets`` (default: the account's). With ``window_budget`` (bulk import),
        a 400 "Rate limit exceeded" pauses that budget for one window and tries again. Query
        strings and the key never reach a log line or an error message.
        """
        policy = AcCallPolicy(self.plan_limit_rule, window=window_budget)
        return await self._pipeline.send(method, url or path, kind=kind, policy=policy, budgets=budgets,
                                         params=params, json=json, data=form)

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
