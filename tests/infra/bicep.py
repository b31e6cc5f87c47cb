"""Reading infra/*.bicep offline with pycep (the parser checkov uses): no compiler, so these helpers
walk pycep's JSON-like tree and render expressions back to short strings for assertions."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
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
def _parser() -> Any:
    # Building the grammar takes about 2 s; one parser serves every file.
    from pycep import BicepParser

    return BicepParser()


@cache
def parse(path: Path) -> dict[str, Any]:
    tree = _parser().parse(text=path.read_text(encoding="utf-8"))
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
        prop = fn.get("property_name")
        return f"{fn['type']}({args})" + (f".{prop}" if prop else "")
    return json.dumps(node, sort_keys=True)


@dataclass(frozen=True)
class Resource:
    file: Path
    symbol: str
    type: str
    existing: bool
    conditional: bool
    body: dict[str, Any]


def unwrap(cfg: dict[str, Any]) -> tuple[Any, dict[str, Any]]:
    """(condition, body) of a resource or module declaration; condition is None when unconditional."""
    if "condition" in cfg:
        return cfg["condition"], cast(dict[str, Any], cfg["config"])
    return None, cfg


def resources(type_: str | None = None, file: Path | None = None) -> Iterator[Resource]:
    for path in bicep_files() if file is None else [file]:
        for symbol, res in parse(path).get("resources", {}).items():
            condition, body = unwrap(res["config"])
            if type_ is None or res["type"] == type_:
                yield Resource(path, symbol, res["type"], bool(res.get("existing")), condition is not None, body)


def resource(file: Path, symbol: str) -> Resource:
    found = [r for r in resources(file=file) if r.symbol == symbol]
    assert len(found) == 1, f"{file.name}: no resource {symbol}"
    return found[0]


@dataclass(frozen=True)
class Module:
    file: Path
    symbol: str
    target: Path
    condition: Any
    body: dict[str, Any]

    @property
    def params(self) -> dict[str, Any]:
        return cast(dict[str, Any], self.body.get("params", {}))


def modules(file: Path | None = None) -> Iterator[Module]:
    """Every local module call, in every file (or one), with the file it calls."""
    for path in bicep_files() if file is None else [file]:
        for symbol, mod in parse(path).get("modules", {}).items():
            condition, body = unwrap(mod["config"])
            target = (path.parent / mod["detail"]["path"]).resolve()
            yield Module(path, symbol, target, condition, body)


def module(file: Path, symbol: str) -> Module:
    found = [m for m in modules(file) if m.symbol == symbol]
    assert len(found) == 1, f"{file.name}: no module {symbol}"
    return found[0]


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
    return {k: expr(v) for k, v in module(MAIN, symbol).params.items()}


@dataclass(frozen=True)
class Symbol:
    """A value only Azure knows (an output, a resource id): kept as its rendered expression."""
    text: str


def evaluate(node: Any, env: Mapping[str, Any]) -> Any:
    """Evaluate the small part of Bicep the network switch is written in: literals, parameter names,
    ``a ? b : c``, ``!a`` and ``empty(a)``; property access stays symbolic. pycep gives names and string
    literals alike as str, so a str that names a binding in ``env`` is that binding. Anything else is
    refused, so a construct this cannot follow fails the test instead of passing it."""
    if node is None or isinstance(node, bool | int | float):
        return node
    if isinstance(node, str):
        if "${" in node:
            raise ValueError(f"interpolation is not evaluated: {node!r}")
        return env.get(node, node)
    if isinstance(node, dict) and "operator" in node:
        op = node["operator"]
        if op["type"] == "property_accessor":
            return Symbol(expr(node))
        if op["type"] == "conditional":
            cond = evaluate(op["operands"]["condition"], env)
            if not isinstance(cond, bool):
                raise ValueError(f"condition is not a bool: {cond!r}")
            return evaluate(op["operands"]["true_value" if cond else "false_value"], env)
        if op["type"] == "not":
            value = evaluate(op["operands"]["bool_value"], env)
            if not isinstance(value, bool):
                raise ValueError(f"! of a non-bool: {value!r}")
            return not value
    if isinstance(node, dict) and "function" in node and node["function"]["type"] == "empty":
        value = evaluate(node["function"]["parameters"]["item_to_test"], env)
        if isinstance(value, Symbol):
            return False
        return value is None or len(value) == 0
    raise ValueError(f"cannot evaluate {expr(node)}")


def parameter_defaults(path: Path) -> dict[str, Any]:
    """The literal defaults of a file's parameters (those with an expression default are left out)."""
    out: dict[str, Any] = {}
    for name, p in parse(path).get("parameters", {}).items():
        default = p.get("default")
        if isinstance(default, str | bool | int | float) and not (isinstance(default, str) and "${" in default):
            out[name] = default
    return out


def module_env(mod: Module, caller_env: Mapping[str, Any]) -> dict[str, Any]:
    """The parameter values a module sees: its literal defaults overridden by the caller's arguments,
    each evaluated in the caller's bindings (an argument that cannot be evaluated stays symbolic)."""
    env = parameter_defaults(mod.target)
    for name, value in mod.params.items():
        try:
            env[name] = evaluate(value, caller_env)
        except ValueError:
            env[name] = Symbol(expr(value))
    return env


def string_variables(path: Path) -> dict[str, str]:
    return {k: v["value"] for k, v in parse(path).get("variables", {}).items() if isinstance(v["value"], str)}


def strip_comments(text: str) -> str:
    """Bicep source without // line comments (checkov skip reasons mention what they skip)."""
    return re.sub(r"(?m)^\s*//.*$|(?<=[\s,;])//.*$", "", text)
