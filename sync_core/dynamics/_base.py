"""What every Dataverse API group builds on: the environment's URLs and the one way to send.

Facts the client relies on are in shared/reference/dynamics-webapi.md (section numbers in comments).
Every request goes through the ``sync_core.http`` pipeline with this client's ``_policy``.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator, Sequence
from types import TracebackType
from typing import Any, Self
from urllib.parse import quote

import httpx
from azure.core.credentials_async import AsyncTokenCredential

from sync_core.clock import SYSTEM_CLOCK, Clock
from sync_core.dynamics._errors import PagingLoopError, UnsafeLinkError, ValidationError
from sync_core.dynamics._models import EntityMetadata
from sync_core.dynamics._odata import encode_query, key_segment
from sync_core.dynamics._policy import DataverseCallPolicy
from sync_core.http import Backoff, Pipeline
from sync_core.model.budget import RequestBudget
from sync_core.model.guard import CallGuard

logger = logging.getLogger("sync_core.dynamics")

MAX_PAGE_SIZE = 5000  # §3: default and maximum odata.maxpagesize
BACKOFF_CAP = 60.0
PATH_SAFE = "()'=,@:$!*+-._~"


class DataverseBase:
    """Holds the pipeline and the environment's URLs; sends every request through :meth:`_send`."""

    def __init__(self, environment_url: str, credential: AsyncTokenCredential, *, clock: Clock | None = None,
                 transport: httpx.AsyncBaseTransport | None = None, api_version: str = "v9.2",
                 page_size: int = MAX_PAGE_SIZE, max_retries: int = 8, timeout: float = 60.0,
                 budget: RequestBudget | None = None, guard: CallGuard | None = None,
                 in_flight: asyncio.Semaphore | None = None) -> None:
        env = httpx.URL(environment_url.rstrip("/"))
        if env.scheme not in ("http", "https") or not env.host:
            raise ValueError("environment_url must be an absolute http(s) URL")
        self.environment_url = str(env).rstrip("/")
        self.service_root = f"{self.environment_url}/api/data/{api_version}/"
        self._origin = (env.scheme, env.host, env.port)
        self._scope = f"{self.environment_url}/.default"  # §1.1 confidential-client scope
        self._credential = credential
        self._clock: Clock = clock or SYSTEM_CLOCK
        self._pipeline = Pipeline(logger=logger, clock=self._clock, budget=budget, guard=guard, in_flight=in_flight,
                                  backoff=Backoff(base=1.0, cap=BACKOFF_CAP, jitter=True), max_retries=max_retries,
                                  timeout=timeout, transport=transport)
        self.page_size = max(1, min(page_size, MAX_PAGE_SIZE))
        self.calls = self._pipeline.calls
        """Every attempt, by kind."""
        self._metadata: dict[str, EntityMetadata] = {}
        self._metadata_locks: dict[str, asyncio.Lock] = {}

    # ------------------------------------------------------------------ lifecycle

    async def aclose(self) -> None:
        """Closes the HTTP pool; the credential belongs to the caller."""
        await self._pipeline.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                        tb: TracebackType | None) -> None:
        await self.aclose()

    # ------------------------------------------------------------------ URLs

    def url(self, path: str, options: Sequence[tuple[str, str]] = ()) -> str:
        """Absolute URL for a path relative to the service root, with encoded query options."""
        query = encode_query(list(options))
        return self.service_root + path.lstrip("/") + (f"?{query}" if query else "")

    def record_path(self, entity_set: str, record_id: str) -> str:
        return f"{entity_set}({quote(key_segment(record_id), safe=PATH_SAFE)})"

    def _check_link(self, link: str) -> str:
        """A saved link is followed verbatim, but only inside this environment (it gets our token)."""
        url = httpx.URL(link)
        if not url.is_absolute_url:
            return self.service_root + link.lstrip("/")
        if (url.scheme, url.host, url.port) != self._origin:
            raise UnsafeLinkError("a paging/delta link points outside the Dataverse environment")
        return link

    # ------------------------------------------------------------------ transport

    async def _send(self, method: str, url: str, *, kind: str, headers: dict[str, str] | None = None,
                    content: bytes | None = None, allow: Sequence[int] = (), change_read: bool = False
                    ) -> httpx.Response:
        """One logical request through the pipeline; what is retried is in ``_policy``.

        Statuses in ``allow`` come back as responses; every other failure raises the typed error.
        """
        hdrs = {"Accept": "application/json", "OData-MaxVersion": "4.0", "OData-Version": "4.0"}
        if content is not None:
            hdrs["Content-Type"] = "application/json"
        hdrs.update(headers or {})
        policy = DataverseCallPolicy(self._pipeline.http, self._credential, self._scope, clock=self._clock,
                                     method=method, allow=allow, change_read=change_read)
        return await self._pipeline.send(method.upper(), url, kind=kind, policy=policy, headers=hdrs, content=content)

    async def _get_json(self, url: str, *, kind: str, prefer: str | None = None, allow: Sequence[int] = (),
                        change_read: bool = False) -> tuple[httpx.Response, Any]:
        headers = {"If-None-Match": "null"}  # §1.3: no cached expanded collections
        if prefer:
            headers["Prefer"] = prefer
        response = await self._send("GET", url, kind=kind, headers=headers, allow=allow, change_read=change_read)
        if response.status_code >= 400 or not response.content:
            return response, None
        return response, response.json()

    async def _pages(self, first_url: str, *, kind: str, prefer: str | None,
                     change_read: bool = False) -> AsyncIterator[tuple[httpx.Response, dict[str, Any]]]:
        """Follows ``@odata.nextLink`` verbatim with the same Prefer on every page (§3)."""
        url: str | None = first_url
        seen: set[str] = set()
        while url is not None:
            seen.add(url)
            response, body = await self._get_json(url, kind=kind, prefer=prefer, change_read=change_read)
            if not isinstance(body, dict):
                raise ValidationError("the service answered a collection read without a JSON object",
                                      status=response.status_code)
            nxt = body.get("@odata.nextLink")
            if nxt is not None:
                nxt = self._check_link(str(nxt))
                if nxt in seen:
                    raise PagingLoopError("the service repeated an @odata.nextLink", status=response.status_code)
            yield response, body
            url = nxt

    async def _collect(self, url: str, *, kind: str) -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = []
        async for _, body in self._pages(url, kind=kind, prefer=f"odata.maxpagesize={self.page_size}"):
            rows.extend(body.get("value") or [])
        return rows


    @staticmethod
    def _json(body: dict[str, Any]) -> bytes:
        return json.dumps(body, ensure_ascii=False).encode("utf-8")
