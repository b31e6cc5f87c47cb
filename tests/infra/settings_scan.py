"""Which settings the code reads: string literals passed to ``os.getenv``/``environ.get``/``<mapping>.get``
or used as ``environ[...]`` subscripts, when they look like setting names, plus the SETTINGS registry."""

from __future__ import annotations

import ast
import importlib
import re
from collections.abc import Iterable
from pathlib import Path

from tests.infra.bicep import ROOT

SETTING_NAME = re.compile(r"^(?:SYNC_[A-Z0-9_]+|AZURE_[A-Z0-9_]+|APPLICATIONINSIGHTS_[A-Z0-9_]+|WEBSITE_[A-Z0-9_]+|"
                          r"FUNCTIONS_[A-Z0-9_]+|AzureWebJobs\w*)$")


def names_read_in_source(source: str) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        arg: ast.expr | None = None
        if isinstance(node, ast.Call) and node.args:
            fn = node.func
            name = fn.attr if isinstance(fn, ast.Attribute) else fn.id if isinstance(fn, ast.Name) else ""
            if name in ("get", "getenv", "pop", "setdefault"):
                arg = node.args[0]
        elif isinstance(node, ast.Subscript):
            arg = node.slice
        if isinstance(arg, ast.Constant) and isinstance(arg.value, str) and SETTING_NAME.match(arg.value):
            found.add(arg.value)
    return found


def code_files() -> Iterable[Path]:
    yield ROOT / "function_app.py"
    yield from sorted((ROOT / "sync_core").rglob("*.py"))


def settings_registry() -> dict[str, str]:
    """``sync_core.settings.SETTINGS`` (name -> description) if it exists."""
    try:
        module = importlib.import_module("sync_core.settings")
    except ModuleNotFoundError:
        return {}
    registry = getattr(module, "SETTINGS", {})
    if isinstance(registry, dict):
        return {str(k): str(v) for k, v in registry.items()}
    return {str(getattr(item, "name", item)): "" for item in registry}


def settings_read_by_code() -> set[str]:
    names = set(settings_registry())
    for path in code_files():
        names |= names_read_in_source(path.read_text(encoding="utf-8"))
    return names
