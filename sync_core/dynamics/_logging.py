"""Keep query strings and bearer tokens out of every log line about Dataverse calls.

Our own lines carry method, path and status only. httpx logs each request's full URL (query
string included) at INFO, and a query can carry customer data; a filter on the httpx/httpcore
loggers strips queries and bearer tokens from their records before any handler sees them.
"""

from __future__ import annotations

import logging
import re

logger = logging.getLogger("sync_core.dynamics")

# A URL (or absolute path) and everything after its "?" up to the next whitespace: query strings are
# percent-encoded, so they hold no spaces, but they may hold quotes (OData string literals).
_URL_QUERY = re.compile(r"((?:https?://|/)[^\s?\"<>]*)\?\S*")
_BEARER = re.compile(r"(?i)(bearer\s+)[A-Za-z0-9\-._~+/]+=*")
_THIRD_PARTY = ("httpx", "httpcore", "httpcore.connection", "httpcore.http11", "httpcore.http2",
                "httpcore.proxy", "httpcore.socks")


def scrub(text: str) -> str:
    return _BEARER.sub(r"\1<redacted>", _URL_QUERY.sub(r"\1", text))


class RedactFilter(logging.Filter):
    """Rewrites a record's message without query strings or bearer tokens."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except (TypeError, ValueError):
            return True
        clean = scrub(message)
        if clean != message:
            record.msg = clean
            record.args = None
        return True


def install_redaction() -> None:
    """Idempotent: one :class:`RedactFilter` per third-party HTTP logger."""
    for name in _THIRD_PARTY:
        lg = logging.getLogger(name)
        if not any(isinstance(f, RedactFilter) for f in lg.filters):
            lg.addFilter(RedactFilter())
