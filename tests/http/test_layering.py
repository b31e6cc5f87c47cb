"""DESIGN.md §2 for the HTTP layer: it imports the model and the clock only; the clients import it, the model
and the clock, never each other, the store, the engine or the API."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2] / "sync_core"

ALLOWED = {
    "http": ("sync_core.http", "sync_core.model", "sync_core.clock"),
    "activecampaign": ("sync_core.activecampaign", "sync_core.http", "sync_core.model", "sync_core.clock"),
    "dynamics": ("sync_core.dynamics", "sync_core.http", "sync_core.model", "sync_core.clock"),
}


def _product_imports(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
    return {m for m in found if m == "sync_core" or m.startswith("sync_core.")}


@pytest.mark.parametrize("package", sorted(ALLOWED))
def test_package_imports_only_what_the_layering_allows(package: str) -> None:
    files = sorted((ROOT / package).glob("*.py"))
    assert files
    wrong = {f"{f.name}: {m}" for f in files for m in _product_imports(f)
             if not any(m == a or m.startswith(a + ".") for a in ALLOWED[package])}
    assert not wrong
