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


def lenient(schema: Any) -> Any:
    """The document's schemas are generated from one example each, so they disagree with its other examples.

    Relaxations, each backed by the document itself: a scalar may be ``null`` (other examples show null for
    the same fields, e.g. ``adate``, ``udate``, ``updated_by``); an integer may be a numeric string (the same
    field is ``3`` in one example and ``"1"`` in another, e.g. ``totalElements``, ``status``); ``oneOf``
    alternatives are read as ``anyOf`` (they are alternative examples, not exclusive shapes); ``links`` is not
    checked (the accounts example that produced ``links: array`` is not valid JSON).
    """
    if isinstance(schema, dict):
        out: dict[str, Any] = {}
        for key, value in schema.items():
            if key == "properties" and isinstance(value, dict):
                out[key] = {k: lenient(v) for k, v in value.items() if k != "links"}
            elif key == "type" and value == "integer":
                out[key] = ["integer", "string", "null"]
                out["pattern"] = r"^-?\d+$"
            elif key == "type" and isinstance(value, str) and value not in ("object", "array"):
                out[key] = [value, "null"]
            elif key == "oneOf":
                out["anyOf"] = lenient(value)
            else:
                out[key] = lenient(value)
        return out
    if isinstance(schema, list):
        return [lenient(item) for item in schema]
    return schema
