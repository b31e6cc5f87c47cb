"""Reading infra/*.bicep offline with pycep (the parser checkov uses): no compiler, so these helpers
walk pycep's JSON-like tree and render expressions back to short strings for assertions."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any, cast

ROOT = Path(__file__).resolve().parents[2]
INFRA = ROOT / "infra"
MAIN = INFRA / "main.bicep"


def bicep_files() -> list[Path]:
    return sorted(INFRA.rglob("*.bicep"))


@cache
def parse(path: Path) -> dict[str, Any]:
    from pycep import BicepParser

    tree = BicepParser().parse(text=path.read_text(encoding="utf-8"))
    assert isinstance(tree, dict)
    return cast(dict[str, Any], tree)


def expr(node: Any) -> str:
    """Render a pycep expression compactly: identifiers and strings as-is, ``a.b.c`` for property
    access, ``fn(arg, ...)`` for calls; anything else as JSON."""
    if isinstance(node, str | int | float | bool) or node is None:
        return str(node)
    if isinstance(node, dict) and "operator" in node and node["operator"]["type"] == "property_accessor":
        ops = node["operator"]["operands"]
        return f"{expr(ops['operand_1'])}.{expr(ops['operand_2'])}"
    if isinstance(node, dict) and "function" in node:
        fn = node["function"]
        args = ", ".join(expr(v) for v in fn["parameters"].values() if v is not None)
        return f"{fn['type']}({args})"
    return json.dumps(node, sort_keys=True)


@dataclass(frozen=True)
class Resource:
    file: Path
    symbol: str
    type: str
    existing: bool
    conditional: bool
    body: dict[str, Any]


def resources(type_: str | None = None) -> Iterator[Resource]:
    for path in bicep_files():
        for symbol, res in parse(path).get("resources", {}).items():
            cfg = res["config"]
            conditional = "condition" in cfg
            body = cfg["config"] if conditional else cfg
            if type_ is None or res["type"] == type_:
                yield Resource(path, symbol, res["type"], bool(res.get("existing")), conditional, body)


def one(type_: str) -> Resource:
    found = [r for r in resources(type_) if not r.existing]
    assert len(found) == 1, f"expected one {type_}, found {[r.symbol for r in found]}"
    return found[0]


def app_settings() -> dict[str, str]:
    """name -> rendered value of every app setting the function app gets."""
    site = one("Microsoft.Web/sites")
    entries = site.body["properties"]["siteConfig"]["appSettings"]
    return {e["name"]: expr(e["value"]) for e in entries}


def module_params(symbol: str) -> dict[str, str]:
    """Rendered arguments main.bicep passes to one of its modules."""
    return {k: expr(v) for k, v in parse(MAIN)["modules"][symbol]["config"]["params"].items()}


def string_variables(path: Path) -> dict[str, str]:
    return {k: v["value"] for k, v in parse(path).get("variables", {}).items() if isinstance(v["value"], str)}


def strip_comments(text: str) -> str:
    """Bicep source without // line comments (checkov skip reasons mention what they skip)."""
    return re.sub(r"(?m)^\s*//.*$|(?<=[\s,;])//.*$", "", text)
