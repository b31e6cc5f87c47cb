"""``$batch`` wire format: multipart/mixed requests out, multipart/mixed responses in.

Reference §4.3: each part is ``application/http`` with ``Content-Transfer-Encoding: binary``;
a change set is a nested ``multipart/mixed`` and is atomic; ``Content-ID`` lets later parts use
``$n``; responses come back in order. A failed change set answers with one error response.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sync_core.dynamics._models import BatchOperation

CRLF = "\r\n"
MAX_BATCH_OPERATIONS = 1000

_BOUNDARY = re.compile(r'boundary="?([^";]+)"?', re.IGNORECASE)
_ENTITY_ID = re.compile(r"\(([^()]*)\)\s*$")


@dataclass
class ResponsePart:
    status: int
    headers: dict[str, str]
    body: bytes
    content_id: str | None = None
    changeset: int | None = None
    """Index of the change set the part answered, ``None`` for a top-level part."""
    extra: dict[str, Any] = field(default_factory=dict)


def operation_url(op: BatchOperation, service_root: str) -> str:
    url = op.url
    if url.startswith(("$", "http://", "https://")):
        return url
    return service_root + url.lstrip("/")


def _part_request(op: BatchOperation, service_root: str) -> str:
    lines = [
        "Content-Type: application/http",
        "Content-Transfer-Encoding: binary",
    ]
    if op.content_id is not None:
        lines.append(f"Content-ID: {op.content_id}")
    lines.append("")
    lines.append(f"{op.method.upper()} {operation_url(op, service_root)} HTTP/1.1")
    headers = {"Accept": "application/json"}
    if op.body is not None:
        headers["Content-Type"] = "application/json; type=entry"
    headers.update(op.headers or {})
    lines.extend(f"{k}: {v}" for k, v in headers.items())
    lines.append("")
    lines.append(json.dumps(op.body, ensure_ascii=False) if op.body is not None else "")
    return CRLF.join(lines)


def build_batch(operations: Sequence[BatchOperation], service_root: str, *, atomic: bool) -> tuple[str, bytes]:
    """``(content_type, body)`` for one ``$batch`` request (≤ 1,000 operations)."""
    if len(operations) > MAX_BATCH_OPERATIONS:
        raise ValueError(f"a $batch holds at most {MAX_BATCH_OPERATIONS} operations")
    batch = f"batch_{uuid.uuid4()}"
    out: list[str] = []
    if atomic:
        if any(op.method.upper() == "GET" for op in operations):
            raise ValueError("GET is not allowed inside a change set")
        changeset = f"changeset_{uuid.uuid4()}"
        inner = [f"--{changeset}{CRLF}{_part_request(op, service_root)}" for op in operations]
        out.append(
            f"--{batch}{CRLF}Content-Type: multipart/mixed; boundary={changeset}{CRLF}{CRLF}"
            + CRLF.join(inner) + f"{CRLF}--{changeset}--"
        )
    else:
        out.extend(f"--{batch}{CRLF}{_part_request(op, service_root)}" for op in operations)
    body = CRLF.join(out) + f"{CRLF}--{batch}--{CRLF}"
    return f"multipart/mixed; boundary={batch}", body.encode("utf-8")


def boundary_of(content_type: str) -> str | None:
    m = _BOUNDARY.search(content_type or "")
    return m.group(1).strip() if m else None


def _split_head(block: bytes) -> tuple[list[str], bytes]:
    """Header lines and the rest, split at the first blank line (CRLF or bare LF)."""
    found = [(i, n) for i, n in ((block.find(b"\r\n\r\n"), 4), (block.find(b"\n\n"), 2)) if i != -1]
    if not found:
        return [ln.rstrip("\r") for ln in block.decode("utf-8", "replace").split("\n")], b""
    i, n = min(found)
    head = block[:i].decode("utf-8", "replace")
    return [ln.rstrip("\r") for ln in head.split("\n")], block[i + n:]


def _headers(lines: list[str]) -> dict[str, str]:
    out: dict[str, str] = {}
    for ln in lines:
        if ":" in ln:
            k, v = ln.split(":", 1)
            out[k.strip()] = v.strip()
    return out


def header(headers: dict[str, str], name: str) -> str | None:
    low = name.lower()
    for k, v in headers.items():
        if k.lower() == low:
            return v
    return None


def _split_multipart(data: bytes, boundary: str) -> list[bytes]:
    delim = b"--" + boundary.encode("ascii")
    pieces = data.split(delim)
    parts: list[bytes] = []
    for piece in pieces[1:]:
        if piece.startswith(b"--"):
            break
        # drop the line break that ends the delimiter line and the one before the next delimiter
        if piece.startswith(b"\r\n"):
            piece = piece[2:]
        elif piece.startswith(b"\n"):
            piece = piece[1:]
        if piece.endswith(b"\r\n"):
            piece = piece[:-2]
        elif piece.endswith(b"\n"):
            piece = piece[:-1]
        parts.append(piece)
    return parts


def parse_batch_response(content_type: str, data: bytes) -> list[ResponsePart]:
    """Every response in order; parts inside a change set carry its index in ``changeset``."""
    boundary = boundary_of(content_type)
    if not boundary:
        raise ValueError("the $batch response is not multipart")
    out: list[ResponsePart] = []
    changesets = 0
    for part in _split_multipart(data, boundary):
        head_lines, rest = _split_head(part)
        head = _headers(head_lines)
        ctype = header(head, "Content-Type") or ""
        if ctype.lower().startswith("multipart/mixed"):
            inner_boundary = boundary_of(ctype)
            if not inner_boundary:
                raise ValueError("a change-set response without a boundary")
            for inner in _split_multipart(rest, inner_boundary):
                ih_lines, irest = _split_head(inner)
                out.append(_http_response(irest, header(_headers(ih_lines), "Content-ID"), changesets))
            changesets += 1
        else:
            out.append(_http_response(rest, header(head, "Content-ID"), None))
    return out


def _http_response(message: bytes, content_id: str | None, changeset: int | None) -> ResponsePart:
    lines, body = _split_head(message)
    if not lines or not lines[0].startswith("HTTP/"):
        raise ValueError("a $batch part without an HTTP status line")
    status = int(lines[0].split()[1])
    headers = _headers(lines[1:])
    return ResponsePart(status=status, headers=headers, body=body.strip(), content_id=content_id,
                        changeset=changeset)


def part_json(part: ResponsePart) -> dict[str, Any] | None:
    if not part.body:
        return None
    try:
        value = json.loads(part.body.decode("utf-8"))
    except ValueError:
        return None
    return value if isinstance(value, dict) else {"value": value}


def entity_id_from_header(value: str | None) -> str | None:
    """The key in ``OData-EntityId: <root>/contacts(<guid>)``."""
    if not value:
        return None
    m = _ENTITY_ID.search(value)
    return m.group(1) if m else None
