"""The one HTTP layer both API clients send through (httpx underneath).

A :class:`Pipeline` owns the httpx client and the send loop: the request budgets, the pass's
guard, the bound on calls in flight, call counting, ``Retry-After`` and capped exponential
backoff, connect timeouts and the connect-attempt limit, and log redaction for httpx/httpcore.
What only one service knows is a :class:`CallPolicy` the client passes with each call, answering
with a verdict: :class:`Accept`, :class:`Fail` or :class:`Retry`.

Imports the model and the clock only, like the clients themselves.
"""

from sync_core.http._backoff import Backoff
from sync_core.http._pipeline import CONNECT_TIMEOUT, MAX_CONNECT_ATTEMPTS, Pipeline, request_path
from sync_core.http._policy import Accept, CallPolicy, Fail, Retry, Verdict
from sync_core.http._redaction import RedactFilter, install_redaction, scrub
from sync_core.http._retry_after import parse_retry_after

__all__ = [
    "CONNECT_TIMEOUT",
    "MAX_CONNECT_ATTEMPTS",
    "Accept",
    "Backoff",
    "CallPolicy",
    "Fail",
    "Pipeline",
    "RedactFilter",
    "Retry",
    "Verdict",
    "install_redaction",
    "parse_retry_after",
    "request_path",
    "scrub",
]
