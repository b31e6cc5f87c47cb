"""Reading the official AC OpenAPI document (reference/activecampaign-openapi-v3.json)."""

from __future__ import annotations

import gzip
import hashlib
import json
import re
from functools import cache
from pathlib import Path
from typing import Any

# An unmodified gzip of shared/reference/activecampaign-openapi-v3.json, so the suite runs outside this machine
# (sha256 of the uncompressed file is checked below).
DOC_GZ = Path(__file__).with_name("data") / "activecampaign-openapi-v3.json.gz"
DOC_SHA256 = "a29642b56debd3565e6cfc933edcf01b9fc410d44195a39004230e0e8ce85cd2"
METHODS = ("get", "post", "put", "delete", "patch")


@cache
def document() -> dict[str, Any]:
    raw = gzip.decompress(DOC_GZ.read_bytes())
    if hashlib.sha256(raw).hexdigest() != DOC_SHA256:
        raise RuntimeError(f"{DOC_GZ} is not the reference OpenAPI document")
    doc: dict[str, Any] = json.loads(raw)
    return doc


def normalise(path: str) -> str:
    """``/contacts/{contactId}/trackingLogs`` -> ``/contacts/{}/trackingLogs``."""
    return re.sub(r"\{[^}]*\}", "{}", path)


def documented_operations() -> set[tuple[str, str]]:
    return {(method.upper(), normalise(path)) for path, ops in document()["paths"].items()
            for method in ops if method in METHODS}


def operation(path: str, method: str) -> dict[str, Any]:
    op: dict[str, Any] = document()["paths"][path][method.lower()]
    return op


def response_schema(path: str, method: str, status: int) -> dict[str, Any] | None:
    content = operation(path, method)["responses"][str(status)]["content"]["application/json"]
    schema: dict[str, Any] | None = content.get("schema")
    return schema


def response_example(path: str, method: str, status: int) -> Any:
    content = operation(path, method)["responses"][str(status)]["content"]["application/json"]
    value = next(iter(content["examples"].values()))["value"]
    return json.loads(value) if isinstance(value, str) else value


def request_examples(path: str, method: str) -> list[Any]:
    content = operation(path, method)["requestBody"]["content"]["application/json"]
    return [ex["value"] for ex in content.get("examples", {}).values()]


def request_examples_or_empty(path: str, method: str) -> list[Any]:
    body = operation(path, method).get("requestBody") or {}
    content = (body.get("content") or {}).get("application/json") or {}
    return [ex["value"] for ex in (content.get("examples") or {}).values()]
