"""Framework-free request/response objects, so ``$batch`` parts run through the same code path."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from .errors import DataverseError

if TYPE_CHECKING:
    from .caller import Caller


@dataclass
class ApiRequest:
    method: str
    path: str  # after /api/data/v9.2/, undecoded segments already percent-decoded
    query: list[tuple[str, str]]  # decoded pairs, in order
    headers: dict[str, str]  # lower-case names
    body: bytes
    base: str  # "<scheme>://<host>/api/data/v9.2/"
    token: str = ""
    caller: Caller | None = None  # set by the app once per request (None: no access checks, e.g. direct use)

    def param(self, name: str) -> str | None:
        for key, value in self.query:
            if key == name:
                return value
        return None

    def aliases(self) -> dict[str, str]:
        return {k: v for k, v in self.query if k.startswith("@")}

    def json(self) -> Any:
        if not self.body.strip():
            return {}
        try:
            return json.loads(self.body)
        except ValueError as exc:
            raise DataverseError(400, "0x80060888", f"Invalid JSON. {exc}") from exc

    def prefer(self) -> dict[str, str]:
        return parse_prefer(self.headers.get("prefer", ""))


@dataclass
class ApiResponse:
    status: int
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""

    @classmethod
    def json(cls, status: int, payload: Any, headers: dict[str, str] | None = None) -> ApiResponse:
        hdrs = {"Content-Type": "application/json; odata.metadata=minimal", "OData-Version": "4.0"}
        hdrs.update(headers or {})
        return cls(status, hdrs, json.dumps(payload, ensure_ascii=False).encode())

    @classmethod
    def empty(cls, status: int = 204, headers: dict[str, str] | None = None) -> ApiResponse:
        hdrs = {"OData-Version": "4.0"}
        hdrs.update(headers or {})
        return cls(status, hdrs, b"")

    @classmethod
    def error(cls, exc: DataverseError) -> ApiResponse:
        return cls.json(exc.status, exc.body(), exc.headers)


def parse_prefer(header: str) -> dict[str, str]:
    """RFC 7240 preferences; commas inside quoted values do not split."""
    prefs: dict[str, str] = {}
    items: list[str] = []
    current: list[str] = []
    quoted = False
    for ch in header:
        if ch == '"':
            quoted = not quoted
        if ch == "," and not quoted:
            items.append("".join(current))
            current = []
        else:
            current.append(ch)
    items.append("".join(current))
    for item in items:
        item = item.strip()
        if not item:
            continue
        name, _, value = item.partition("=")
        prefs[name.strip().lower()] = value.strip().strip('"')
    return prefs


def encode_query(pairs: list[tuple[str, str]]) -> str:
    """Re-encode query options the way Dataverse writes them into links ($ and , kept readable)."""
    opaque = {"$skiptoken", "$deltatoken"}
    return "&".join(f"{quote(k, safe='$@')}={quote(v, safe='' if k in opaque else '$,()/:@')}" for k, v in pairs)
