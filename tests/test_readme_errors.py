"""README's record-error table is the one the API serves: every code, in order, with its remedy."""

from __future__ import annotations

from pathlib import Path

from sync_core.model.codes import REMEDIES

README = Path(__file__).resolve().parents[1] / "README.md"


def test_the_record_error_table_lists_every_code_with_its_remedy() -> None:
    text = README.read_text(encoding="utf-8")
    section = text[text.index("## Record errors"):]
    section = section[:section.index("\n## ", 1)]
    rows = [line for line in section.splitlines() if line.startswith("| `")]
    expected = [f"| `{c.value}` | {r.what} | {r.remedy} | {r.retried} |" for c, r in REMEDIES.items()]
    assert rows == expected, "README's record-error table is stale: regenerate it from sync_core.model.codes.REMEDIES"
