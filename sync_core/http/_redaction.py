"""Keep query strings and credentials out of the third-party HTTP loggers.

httpx logs every request's full URL at INFO and httpcore traces connections at DEBUG. Query
strings carry customer data (AC's ``?email=``, OData ``$filter`` literals) and AC webhook
secrets; headers carry bearer tokens and AC's ``Api-Token``. One filter on each of those loggers
rewrites a record's message before any handler sees it. (A logger's filters do not run for
records of its child loggers, hence the httpcore children are listed one by one.) The product's
own lines never format a query or a header in the first place: method, path and status only.
"""

from __future__ import annotations

import logging
import re

THIRD_PARTY_LOGGERS = ("httpx", "httpcore", "httpcore.connection", "httpcore.http11", "httpcore.http2",
                       "httpcore.proxy", "httpcore.socks")

# A URL (or absolute path) and everything after its "?" up to the next whitespace: a query is
# percent-encoded, so it holds no spaces, but it may hold quotes (OData string literals).
_URL_QUERY = re.compile(r"((?:https?://|/)[^\s?\"<>]*)\?\S*")
# Any other "?name=..." left (a relative URL in a message argument).
_BARE_QUERY = re.compile(r"\?[^\s\"']*=[^\s\"']*")
_BEARER = re.compile(r"(?i)(bearer\s+)[A-Za-z0-9\-._~+/]+=*")
# "Api-Token: k", "api_key=k", and header pairs as httpcore prints them: ('Api-Token', 'k'), (b'Api-Token', b'k').
_API_TOKEN = re.compile(r"(?i)(api[-_]?(?:token|key)[\"']?\s*[:=,]\s*b?[\"']?)[^\s\"',;&)]+")


def scrub(text: str) -> str:
    """``text`` without query strings, bearer tokens or API-token values."""
    text = _BARE_QUERY.sub("", _URL_QUERY.sub(r"\1", text))
    return _API_TOKEN.sub(r"\1<redacted>", _BEARER.sub(r"\1<redacted>", text))


class RedactFilter(logging.Filter):
    """Rewrites a record's rendered message through :func:`scrub` (its arguments go with it)."""

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
    """One :class:`RedactFilter` on each third-party HTTP logger (idempotent)."""
    for name in THIRD_PARTY_LOGGERS:
        lg = logging.getLogger(name)
        if not any(isinstance(f, RedactFilter) for f in lg.filters):
            lg.addFilter(RedactFilter())
