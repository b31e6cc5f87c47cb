"""The shape docs/ARCHITECTURE.md describes, checked on the code: import direction, no cycles, no hidden
imports, small modules and functions, no dry-run checks outside the sinks, and the modules it names exist."""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT / "sync_core"
LAYERS = {
    # package: what it may import from sync_core (besides itself)
    "model": {"model", "clock"},
    "http": {"model", "clock"},
    "activecampaign": {"model", "clock", "http"},
    "dynamics": {"model", "clock", "http"},
    "store": {"model", "clock"},
    "engine": {"model", "clock", "http", "activecampaign", "dynamics", "store", "telemetry"},
    "api": {"model", "clock", "http", "activecampaign", "dynamics", "store", "engine", "telemetry", "settings",
            "runtime", "__init__"},
    "cli": {"model", "clock", "http", "activecampaign", "dynamics", "store", "engine", "telemetry", "settings",
            "runtime", "api", "__init__"},
}
MAX_MODULE_LINES = 400
MAX_FUNCTION_LINES = 60


def _modules() -> dict[str, ast.Module]:
    out = {}
    for path in sorted(SRC.rglob("*.py")):
        name = ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")
        out[name] = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    return out


MODULES = _modules()


def _package(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def _top_level_imports(tree: ast.Module) -> list[str]:
    """Imports executed when the module loads (not those under ``if TYPE_CHECKING:``)."""
    out: list[str] = []
    for node in tree.body:
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            continue
        for sub in ast.walk(node) if isinstance(node, ast.If | ast.Try) else [node]:
            if isinstance(sub, ast.ImportFrom) and sub.module and sub.level == 0:
                out.append(sub.module)
            elif isinstance(sub, ast.Import):
                out.extend(a.name for a in sub.names)
    return [m for m in out if m == "sync_core" or m.startswith("sync_core.")]


def test_every_package_imports_only_the_layers_below_it() -> None:
    wrong = []
    for module, tree in MODULES.items():
        allowed = LAYERS.get(_package(module))
        if allowed is None:
            continue
        for node in ast.walk(tree):
            targets = [node.module] if isinstance(node, ast.ImportFrom) and node.module else (
                [a.name for a in node.names] if isinstance(node, ast.Import) else [])
            for target in targets:
                if target.startswith("sync_core."):
                    pkg = target.split(".")[1]
                    if pkg != _package(module) and pkg not in allowed:
                        wrong.append(f"{module} imports {target}")
    assert wrong == []


def test_no_import_cycles_among_the_modules() -> None:
    graph: dict[str, set[str]] = {m: set() for m in MODULES}
    for module, tree in MODULES.items():
        for target in _top_level_imports(tree):
            while target not in MODULES and "." in target:
                target = target.rsplit(".", 1)[0]
            if target in MODULES and target != module:
                graph[module].add(target)
    cycles: list[list[str]] = []
    state: dict[str, int] = {}

    def visit(node: str, path: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                # Importing a package's __init__ from one of its own modules is not a cycle of code.
                cycle = [*path[path.index(nxt):], nxt]
                if not all(m.startswith(nxt + ".") or m == nxt for m in cycle):
                    cycles.append(cycle)
            elif nxt not in state:
                visit(nxt, [*path, nxt])
        state[node] = 2

    for m in sorted(graph):
        if m not in state:
            visit(m, [m])
    assert cycles == []


def test_no_hidden_imports() -> None:
    """No ``sync_core`` import inside a function (it hides a dependency) and no ``except ImportError``."""
    found = []
    for module, tree in MODULES.items():
        for fn in ast.walk(tree):
            if isinstance(fn, ast.FunctionDef | ast.AsyncFunctionDef):
                for node in ast.walk(fn):
                    if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("sync_core"):
                        found.append(f"{module}.{fn.name} imports {node.module}")
        for node in ast.walk(tree):
            caught = ast.unparse(node.type) if isinstance(node, ast.ExceptHandler) and node.type else ""
            if "ImportError" in caught:
                found.append(f"{module} catches ImportError")
    assert found == []


def test_modules_and_functions_stay_small() -> None:
    big = []
    for module, tree in MODULES.items():
        lines = len((ROOT / (module.replace(".", "/") + ".py")).read_text().splitlines()) \
            if (ROOT / (module.replace(".", "/") + ".py")).exists() else 0
        if lines > MAX_MODULE_LINES:
            big.append(f"{module}: {lines} lines")
        for fn in ast.walk(tree):
            if isinstance(fn, ast.FunctionDef | ast.AsyncFunctionDef):
                n = (fn.end_lineno or fn.lineno) - fn.lineno + 1
                if n > MAX_FUNCTION_LINES:
                    big.append(f"{module}.{fn.name}: {n} lines")
    assert big == []


def test_the_dry_run_is_decided_in_the_sinks_only() -> None:
    offenders = [m for m, tree in MODULES.items() if m.startswith("sync_core.engine.")
                 and m != "sync_core.engine.runner" and "dry_run" in ast.unparse(tree)]
    assert offenders == []


def test_the_modules_the_architecture_notes_name_exist() -> None:
    text = (ROOT / "docs" / "ARCHITECTURE.md").read_text(encoding="utf-8")
    flow = text[text.index("## One pass"):text.index("## One writer")]
    named = set(re.findall(r"\b([a-z_]+)\.[a-z_A-Z]+\b", flow)) | set(re.findall(r"`([a-z_]+)`", flow))
    engine = {m.rsplit(".", 1)[1] for m in MODULES if m.startswith("sync_core.engine.")}
    mentioned = {n for n in named if n in engine or n.endswith(("_reader", "_write", "_pass", "_order"))}
    assert mentioned and mentioned <= engine, sorted(mentioned - engine)
    for path in re.findall(r"`(sync_core/[\w/]+\.py)`", text):
        assert (ROOT / path).exists(), path
