"""The document's response schemas, relaxed only where the document contradicts itself (``conformant``).

AC's schemas are generated from one example each, so other examples of the same document show other types for
the same field (``remdate`` is a date in one example and ``null`` in another; ``totalElements`` is ``3`` in one
and ``"1"`` in another). The rules, each tied to what the document shows:

- a property typed ``T`` also accepts every JSON type some example *anywhere* in the document shows for a property
  of that name (``evidence``) — except the pairs in ``OWN_EXAMPLES_ONLY``, where the operation's own examples
  decide (``organization`` of the contact write answers: their examples give a string, and fuzzing found the
  stand-in answering ``null`` there, which issue 16 asked to mend);
  (examples that are not valid JSON count only for the properties they show as ``null``);
- ``oneOf`` is read as ``anyOf`` (its alternatives are alternative examples, several of which match one body);
- ``links`` is not checked (the accounts list example that makes it an array is not valid JSON and lists names);
- ``UNTYPED``: a custom-object record's field ``value`` has the type its schema field gives (number, text, ...);
- ``EXEMPT`` operations are pages the document itself marks as copies of another page (their schema is the
  other page's).
"""

from __future__ import annotations

import json
import re
from functools import cache
from typing import Any

from . import openapi_doc as doc

OWN_EXAMPLES_ONLY: frozenset[tuple[str, str, str]] = frozenset({
    ("/contact/sync", "post", "organization"), ("/contacts", "post", "organization"),
})
# Properties whose type the record's own schema decides, not the document's generated one.
UNTYPED: frozenset[tuple[str, str]] = frozenset({("/customObjects/records/{schemaId}", "value")})
EXEMPT: dict[tuple[str, str], str] = {
    ("/automations/{id}", "get"): "operation 'Copy of List All Automations': its schema is the list page's",
    ("/automations/{automationId}", "get"): "the same copied page under a second path",
}
NULL_KEY = re.compile(r'"(\w+)"\s*:\s*null')
JSON_TYPES = {dict: "object", list: "array", str: "string", bool: "boolean", int: "integer", float: "number",
              type(None): "null"}


def _parsed_examples(op: dict[str, Any], status: str | None = None) -> list[Any]:
    out = []
    for code, response in (op.get("responses") or {}).items():
        if status is not None and code != status:
            continue
        for content in (response.get("content") or {}).values():
            for example in (content.get("examples") or {}).values():
                value = example.get("value")
                if isinstance(value, str):
                    try:
                        value = json.loads(value)
                    except ValueError:  # some examples are not valid JSON: keep what they say is null
                        value = {m.group(1): None for m in NULL_KEY.finditer(value)}
                out.append(value)
    return out


def _collect(node: Any, into: dict[str, set[str]]) -> None:
    if isinstance(node, dict):
        for key, value in node.items():
            into.setdefault(key, set()).add(JSON_TYPES.get(type(value), "string"))
            _collect(value, into)
    elif isinstance(node, list):
        for item in node:
            _collect(item, into)


@cache
def evidence() -> dict[str, frozenset[str]]:
    """Property name -> JSON types the document's response examples show for it."""
    seen: dict[str, set[str]] = {}
    for ops in doc.document()["paths"].values():
        for method, op in ops.items():
            if method in doc.METHODS:
                for example in _parsed_examples(op):
                    _collect(example, seen)
    return {k: frozenset(v) for k, v in seen.items()}


def own_evidence(path: str, method: str, status: int) -> dict[str, frozenset[str]]:
    seen: dict[str, set[str]] = {}
    for example in _parsed_examples(doc.operation(path, method), str(status)):
        _collect(example, seen)
    return {k: frozenset(v) for k, v in seen.items()}


def _widen(declared: str, seen: frozenset[str]) -> list[str]:
    return sorted({declared} | set(seen))


def _relax(schema: Any, path: str, method: str, own: dict[str, frozenset[str]]) -> Any:
    if isinstance(schema, list):
        return [_relax(item, path, method, own) for item in schema]
    if not isinstance(schema, dict):
        return schema
    out: dict[str, Any] = {}
    for key, value in schema.items():
        if key == "oneOf":
            out["anyOf"] = _relax(value, path, method, own)
        elif key == "properties" and isinstance(value, dict):
            props = {}
            for name, sub in value.items():
                if name == "links" or not isinstance(sub, dict) or (path, name) in UNTYPED:
                    continue
                sub = _relax(sub, path, method, own)
                declared = sub.get("type")
                if isinstance(declared, str):
                    only_own = (path, method, name) in OWN_EXAMPLES_ONLY
                    seen = own.get(name, frozenset()) if only_own else evidence().get(name, frozenset())
                    sub = {**sub, "type": _widen(declared, seen)}
                props[name] = sub
            out[key] = props
        else:
            out[key] = _relax(value, path, method, own)
    return out


def conformant(schema: dict[str, Any], path: str, method: str, status: int) -> dict[str, Any]:
    if (path, method.lower()) in EXEMPT:
        return {}
    relaxed: dict[str, Any] = _relax(schema, path, method.lower(), own_evidence(path, method.lower(), status))
    return relaxed
