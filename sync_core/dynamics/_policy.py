"""What Dataverse's answers mean for the send loop (``sync_core.http``); reference §5, §10.

- 429 (service protection): Retry-After, and the budget pauses.
- Gateway 5xx (502/503/504) are retried for every method; a 500 only for idempotent methods, and
  never for the codes that say the same request will fail the same way (duplicate key or record).
- A transport failure is resent for idempotent methods, or when the request never left
  (connect failed, pool timeout): a create is never sent twice by us.
- Every attempt gets a fresh token (the credential caches it) and drops the ARR affinity cookie,
  so requests spread over all web servers.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping

import httpx
from azure.core.credentials_async import AsyncTokenCredential

from sync_core.clock import Clock
from sync_core.dynamics._errors import (
    DUPLICATE_DETECTED,
    DUPLICATE_KEY,
    ChangeTrackingDisabledError,
    DataverseError,
    DeltaLinkExpiredError,
    TransientError,
    error_from_response,
)
from sync_core.http import Accept, Fail, Retry, Verdict, parse_retry_after

IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "PUT", "PATCH", "DELETE", "OPTIONS"})
GATEWAY_STATUSES = frozenset({502, 503, 504})
_DETERMINISTIC_500 = frozenset({DUPLICATE_KEY, DUPLICATE_DETECTED})
_UNSENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)


class DataverseCallPolicy:
    """One Dataverse call. ``allow``: statuses the caller handles itself; ``change_read``: a
    change-tracking read, whose errors can mean an expired link or a table without tracking."""

    def __init__(self, http: httpx.AsyncClient, credential: AsyncTokenCredential, scope: str, *, clock: Clock,
                 method: str, allow: Collection[int] = (), change_read: bool = False) -> None:
        self._http = http
        self._credential = credential
        self._scope = scope
        self._clock = clock
        self._idempotent = method.upper() in IDEMPOTENT_METHODS
        self._allow = allow
        self._change_read = change_read

    async def headers(self) -> Mapping[str, str]:
        token = await self._credential.get_token(self._scope)
        return {"Authorization": f"Bearer {token.token}"}

    def after_attempt(self) -> None:
        self._http.cookies.clear()

    def may_resend(self, error: httpx.TransportError) -> bool:
        return self._idempotent or isinstance(error, _UNSENT)

    def transport_error(self, error: httpx.TransportError, request: httpx.Request) -> Exception:
        return TransientError(f"{type(error).__name__} talking to Dataverse")

    def judge(self, response: httpx.Response) -> Verdict:
        status = response.status_code
        if status == 429:
            asked = parse_retry_after(response.headers.get("Retry-After"), self._clock.now())
            return Retry(error=self._error(response, retry_after=asked), throttled=True, report_wait=False)
        if status >= 400 and status not in self._allow:
            err = self._error(response)
            return Retry(error=err, report_wait=False) if status >= 500 and self._retriable(status, err) else Fail(err)
        return Accept()

    def _retriable(self, status: int, err: DataverseError) -> bool:
        if isinstance(err, DeltaLinkExpiredError | ChangeTrackingDisabledError):
            return False
        return status in GATEWAY_STATUSES or (self._idempotent and err.dataverse_code.lower() not in _DETERMINISTIC_500)

    def _error(self, response: httpx.Response, *, retry_after: float | None = None) -> DataverseError:
        return error_from_response(response, retry_after=retry_after, change_read=self._change_read)
