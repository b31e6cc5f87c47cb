"""What ActiveCampaign's answers mean for the send loop (``sync_core.http``).

Retried: 429 and 503 ("slow down": Retry-After, every holder of the account's budget pauses),
other 5xx, and every transport failure. Bulk import's 400 "Rate limit exceeded" means its
per-minute window is spent: that budget pauses for one window. Everything else is final and
mapped by ``_errors.error_for_status``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

import httpx

from sync_core.activecampaign._errors import (
    PlanLimitRule,
    RateLimitedError,
    TransientError,
    body_text,
    error_for_status,
    parse_error_body,
)
from sync_core.http import Accept, Fail, Retry, Verdict, request_path
from sync_core.model.budget import RequestBudget

THROTTLE_STATUSES = frozenset({429, 503})
"""Statuses that mean "slow down": honour Retry-After and pause every sharer of the budget."""

_RATE_LIMIT_TEXT = re.compile(r"rate limit|imports may be requested per minute", re.IGNORECASE)


def _says_rate_limited(response: httpx.Response) -> bool:
    return bool(_RATE_LIMIT_TEXT.search(body_text(parse_error_body(response.text))))


class AcCallPolicy:
    """One AC call: ``window`` is the per-minute budget of a bulk import (its 400 means "wait")."""

    def __init__(self, plan_rule: PlanLimitRule, *, window: RequestBudget | None = None) -> None:
        self._plan_rule = plan_rule
        self._window = window

    async def headers(self) -> Mapping[str, str]:
        return {}  # the key is a header of the client

    def after_attempt(self) -> None:
        return None

    def may_resend(self, error: httpx.TransportError) -> bool:
        return True

    def transport_error(self, error: httpx.TransportError, request: httpx.Request) -> Exception:
        return TransientError(f"ActiveCampaign {request.method} {request_path(request)} failed: "
                              f"{type(error).__name__}")

    def judge(self, response: httpx.Response) -> Verdict:
        status = response.status_code
        if status < 300:
            return Accept()
        method, path = response.request.method, request_path(response.request)
        if status in THROTTLE_STATUSES or status >= 500:
            return Retry(error=self._error(response), throttled=status in THROTTLE_STATUSES)
        if self._window is not None and status == 400 and _says_rate_limited(response):
            limited = RateLimitedError(f"ActiveCampaign {method} {path} is rate limited ({status})", status=status,
                                       details=parse_error_body(response.text).raw)
            return Retry(error=limited, wait=float(self._window.window), hold=(self._window,))
        return Fail(self._error(response))

    def _error(self, response: httpx.Response) -> Exception:
        request = response.request
        return error_for_status(response.status_code, request.method, request_path(request),
                                parse_error_body(response.text), self._plan_rule)
