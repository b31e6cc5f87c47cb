"""``POST $batch`` (dynamics-webapi.md §4.3): multipart/mixed, change sets, Content-ID references.

At most 1,000 operations; no nested batches; no GET inside a change set; a change set is atomic
(rolled back on its first failure and answered by that one error). Without
``Prefer: odata.continue-on-error`` the batch stops at the first failure and answers 400 with the
responses so far; with it every operation runs and the batch answers 200.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from http import HTTPStatus
from urllib.parse import parse_qsl, unquote, urlsplit

from . import caller
from .dataverse import Dataverse
from .errors import DataverseError, bad_request
from .http import ApiRequest, ApiResponse

MAX_OPERATIONS = 1000
IMPERSONATION = {"callerobjectid", "mscrmcallerid"}
Dispatch = Callable[[Dataverse, ApiRequest], ApiResponse]


@dataclass
class Operation:
    method: str
    target: str
    headers: dict[str, str]
    body: bytes
    content_id: str | None


@dataclass
class ChangeSet:
    operations: list[Operation] = field(default_factory=list)


def _boundary(content_type: str) -> str:
    match = re.search(r'boundary="?([^";]+)"?', content_type)
    if not match:
        raise bad_request("The batch request must have a 'multipart/mixed' Content-Type with a boundary.")
    return match.group(1)


def _parts(body: bytes, boundary: str) -> list[bytes]:
    text = body.replace(b"\r\n", b"\n")
    delimiter = b"--" + boundary.encode()
    chunks = text.split(delimiter)
    parts = []
    for chunk in chunks[1:]:
        if chunk.startswith(b"--"):
            break
        parts.append(chunk.strip(b"\n"))
    return parts


def _headers_and_body(part: bytes) -> tuple[dict[str, str], bytes]:
    head, _, rest = part.partition(b"\n\n")
    headers: dict[str, str] = {}
    for line in head.decode("utf-8", "replace").split("\n"):
        if ":" in line:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
    return headers, rest


def _operation(part: bytes) -> Operation:
    mime, http_text = _headers_and_body(part)
    request_line, _, rest = http_text.partition(b"\n")
    line = request_line.decode().strip()
    method, _, target = line.partition(" ")
    target = target.rsplit(" HTTP/", 1)[0].strip()
    if not method or not target:
        raise bad_request("A batch part does not contain a valid HTTP request line.")
    headers, body = _headers_and_body(rest) if not rest.startswith(b"\n") else ({}, rest[1:])
    content_id = mime.get("content-id") or headers.get("content-id")
    return Operation(method.upper(), target, headers, body.strip(b"\n"), content_id)


def parse(content_type: str, body: bytes) -> list[Operation | ChangeSet]:
    items: list[Operation | ChangeSet] = []
    for part in _parts(body, _boundary(content_type)):
        mime, inner = _headers_and_body(part)
        ctype = mime.get("content-type", "")
        if ctype.startswith("multipart/mixed"):
            changeset = ChangeSet()
            for sub in _parts(inner, _boundary(ctype)):
                sub_mime, _ = _headers_and_body(sub)
                if sub_mime.get("content-type", "").startswith("multipart/mixed"):
                    raise bad_request("Nested change sets are not supported.")
                changeset.operations.append(_operation(sub))
            items.append(changeset)
        else:
            items.append(_operation(part))
    return items


class BatchTimedOut(Exception):
    """Fault ``batch_timeout_over``: the gateway gives up on a big batch after ``seconds`` (504)."""

    def __init__(self, seconds: float) -> None:
        super().__init__("sandbox fault: $batch timed out at the gateway")
        self.seconds = seconds

    @staticmethod
    def response() -> ApiResponse:
        body = b"<html><head><title>504 Gateway Time-out</title></head><body><h1>504 Gateway Time-out</h1></body>"
        return ApiResponse(504, {"Content-Type": "text/html"}, body)


def _count(items: list[Operation | ChangeSet]) -> int:
    return sum(len(i.operations) if isinstance(i, ChangeSet) else 1 for i in items)


class _Runner:
    def __init__(self, dv: Dataverse, outer: ApiRequest, dispatch: Dispatch) -> None:
        self.dv = dv
        self.outer = outer
        self.dispatch = dispatch
        self.ids: dict[str, str] = {}  # Content-ID -> entity path relative to the service root

    def _ref(self, name: str) -> str:
        if name not in self.ids:
            raise bad_request(f"Content-ID Reference: '${name}' does not exist in the batch context.")
        return self.ids[name]

    def run(self, op: Operation) -> ApiResponse:
        try:
            request = self._request(op)
        except DataverseError as exc:
            return ApiResponse.error(exc)
        if request.path.startswith("$batch"):
            return ApiResponse.error(bad_request("Nested batch requests are not supported."))
        response = self.dispatch(self.dv, request)
        entity_id = response.headers.get("OData-EntityId")
        if op.content_id and entity_id:
            self.ids[op.content_id] = entity_id.split("/api/data/v9.2/", 1)[-1]
        return response

    def _request(self, op: Operation) -> ApiRequest:
        target = op.target
        ref = re.match(r"^\$(\w+)(.*)$", target)
        if ref:
            target = self._ref(ref.group(1)) + ref.group(2)
        url = urlsplit(target)
        path = url.path
        if "/api/data/v9.2/" in path:
            path = path.split("/api/data/v9.2/", 1)[1]
        body = op.body
        if body.strip() and "json" in op.headers.get("content-type", "application/json"):
            body = self._substitute(body)
        request = ApiRequest(
            method=op.method,
            path=unquote(path.lstrip("/")),
            query=parse_qsl(url.query, keep_blank_values=True),
            headers=op.headers,
            body=body,
            base=self.outer.base,
            token=self.outer.token,
            caller=self.outer.caller,
        )
        if IMPERSONATION & op.headers.keys():  # a part may run as another user than the batch
            request.caller = caller.resolve(self.dv, self.outer.token, op.headers)
        return request

    def _substitute(self, body: bytes) -> bytes:
        try:
            data = json.loads(body)
        except ValueError:
            return body
        if not isinstance(data, dict):
            return body
        changed = False
        for key, value in list(data.items()):
            if key.endswith("@odata.bind") and isinstance(value, str):
                ref = re.match(r"^\$(\w+)$", value)
                if ref:
                    data[key] = "/" + self._ref(ref.group(1))
                    changed = True
        return json.dumps(data).encode() if changed else body


def _http_part(response: ApiResponse, content_id: str | None) -> str:
    lines = ["Content-Type: application/http", "Content-Transfer-Encoding: binary"]
    if content_id:
        lines.append(f"Content-ID: {content_id}")
    lines.append("")
    lines.append(f"HTTP/1.1 {response.status} {HTTPStatus(response.status).phrase}")
    headers = dict(response.headers)
    if "OData-EntityId" in headers:  # parts of the documented batch responses carry both
        headers = {"Location": headers["OData-EntityId"], **headers}
    lines.extend(f"{k}: {v}" for k, v in headers.items())
    if response.status >= 400:
        lines.append(f"REQ_ID: {uuid.uuid4()}")
    lines.append("")
    lines.append(response.body.decode("utf-8"))
    return "\r\n".join(lines)


def handle(dv: Dataverse, req: ApiRequest, dispatch: Dispatch) -> ApiResponse:
    if req.method != "POST":
        raise DataverseError(405, "0x80060888", "The $batch resource only supports POST.")
    items = parse(req.headers.get("content-type", ""), req.body)
    total = _count(items)
    if total > MAX_OPERATIONS:
        raise bad_request(f"The number of operations in the batch ({total}) exceeds the maximum of {MAX_OPERATIONS}.")
    dv.counters["batch_operations"] += total
    dv.meter.ops += total
    continue_on_error = "odata.continue-on-error" in req.prefer()
    runner = _Runner(dv, req, dispatch)
    boundary = f"batchresponse_{uuid.uuid4()}"
    parts: list[str] = []
    failed = False
    over = dv.faults.batch_timeout_over
    timeout_after = int(total * dv.faults.batch_timeout_applied) if 0 < over < total else None
    done = 0
    for item in items:
        done += len(item.operations) if isinstance(item, ChangeSet) else 1
        if timeout_after is not None and done > timeout_after:
            raise BatchTimedOut(dv.faults.batch_timeout_seconds)
        if isinstance(item, Operation):
            response = runner.run(item)
            parts.append(_http_part(response, item.content_id))
            failed = response.status >= 400
        else:
            failed = _run_changeset(dv, runner, item, parts)
        if failed and not continue_on_error:
            break
    if timeout_after is not None:  # every operation ran, the answer still never reached the client
        raise BatchTimedOut(dv.faults.batch_timeout_seconds)
    body = "".join(f"--{boundary}\r\n{p}\r\n" for p in parts) + f"--{boundary}--\r\n"
    headers = {"Content-Type": f"multipart/mixed; boundary={boundary}", "OData-Version": "4.0"}
    if continue_on_error:
        headers["Preference-Applied"] = "odata.continue-on-error"
    status = 400 if failed and not continue_on_error else 200
    return ApiResponse(status, headers, body.encode("utf-8"))


def _run_changeset(dv: Dataverse, runner: _Runner, changeset: ChangeSet, parts: list[str]) -> bool:
    responses: list[tuple[ApiResponse, str | None]] = []
    dv.begin()
    for op in changeset.operations:
        if op.method == "GET":
            response = ApiResponse.error(bad_request("GET requests are not allowed inside a change set."))
        else:
            response = runner.run(op)
        if response.status >= 400:
            dv.rollback()
            parts.append(_http_part(response, op.content_id))
            return True
        responses.append((response, op.content_id))
    dv.commit()
    boundary = f"changesetresponse_{uuid.uuid4()}"
    inner = "".join(f"--{boundary}\r\n{_http_part(r, cid)}\r\n" for r, cid in responses) + f"--{boundary}--"
    parts.append(f"Content-Type: multipart/mixed; boundary={boundary}\r\n\r\n{inner}")
    return False
