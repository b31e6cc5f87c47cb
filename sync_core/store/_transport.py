"""The HTTP transport of the Table Storage clients: keep-alive shorter than the server's.

aiohttp keeps an idle connection for 15 s; Azurite (Node's HTTP server) closes it after 5 s, and a
request sent on a connection the server has just closed fails with "connection reset by peer".
Under load every pooled connection can be such a one, so the SDK's three connect retries all
fail (seen in `save_cursor` with three Azurites on two cores). Closing idle connections first
costs at most a new handshake.
"""

from __future__ import annotations

from collections import Counter
from typing import Any
from urllib.parse import unquote, urlsplit

import aiohttp
from azure.core.pipeline.transport import AioHttpTransport

KEEPALIVE_SECONDS = 4.0
"""Below Node's default ``keepAliveTimeout`` of 5 s (Azure Storage keeps connections longer)."""


class ShortKeepAliveTransport(AioHttpTransport):
    async def open(self) -> None:
        session: aiohttp.ClientSession | None = getattr(self, "session", None)  # untyped in azure-core
        if session is None and self._session_owner:
            self.session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(keepalive_timeout=KEEPALIVE_SECONDS),
                cookie_jar=aiohttp.DummyCookieJar(), auto_decompress=False, trust_env=True)
        await super().open()

    calls: Counter[str]
    """Requests sent, by ``<table> <kind>`` (``get``, ``query``, ``batch``, or the method): what the
    store costs in Table Storage round trips (tests and benchmarks)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.calls = Counter()

    async def send(self, request: Any, **kwargs: Any) -> Any:
        self.calls[call_kind(request.method, request.url)] += 1
        return await super().send(request, **kwargs)


def call_kind(method: str, url: str) -> str:
    """``links get`` for a point read, ``links query`` for a filter, ``$batch`` for a transaction."""
    path = urlsplit(url).path.rsplit("/", 1)[-1]
    if path == "$batch":
        return "batch"
    table, _, args = path.partition("(")
    kind = method.lower()
    if method == "GET":
        kind = "get" if "RowKey=" in unquote(args) else "query"
    return f"{table} {kind}"
