"""Logging without secrets: method, path and status only.

httpx logs every request at INFO with its full URL, query string included, and AC list
queries carry emails (``?email=``) and the v1 call carries the recipient. The filter below is
installed on the ``httpx`` logger once, and strips query strings from what it logs; this
client's own logger never formats a URL with its query in the first place.
"""

from __future__ import annotations

import logging
import re

import httpx

logger = logging.getLogger("sync_core.activecampaign")

_QUERY = re.compile(r"\?[^\s\"']*")


def _strip(value: object) -> object:
    if isinstance(value, httpx.URL):
        return str(value.copy_with(query=None, fragment=None))
    if isinstance(value, str) and "?" in value:
        return _QUERY.sub("", value)
    return value


class QueryStringRedactor(logging.Filter):
    """Removes query strings from a record's message arguments (and its message)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(_strip(a) for a in record.args)
        elif isinstance(record.args, dict):
            record.args = {k: _strip(v) for k, v in record.args.items()}
        if isinstance(record.msg, str) and "?" in record.msg:
            record.msg = _QUERY.sub("", record.msg)
        return True


_installed = False


def install_redaction() -> None:
    """Put the redactor on the third-party loggers that print URLs (idempotent)."""
    global _installed
    if _installed:
        return
    redactor = QueryStringRedactor()
    for name in ("httpx", "httpcore"):
        logging.getLogger(name).addFilter(redactor)
    _installed = True
