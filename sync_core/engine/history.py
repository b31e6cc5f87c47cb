"""A linked record's history: what changed on which side, when, in which run, from what to what, and why.

Kept on the link itself (written in the same transaction as the link, so the bulk path pays no extra
round trip), newest last, at most :data:`KEEP` entries and :data:`MAX_VALUE` characters a value.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, Literal

from sync_core.model.state import RecordLink

KEEP = 50
MAX_VALUE = 200
Direction = Literal["push", "pull"]


def _short(value: Any) -> Any:
    if isinstance(value, str) and len(value) > MAX_VALUE:
        return value[:MAX_VALUE] + "…"
    return value


def add(link: RecordLink, *, at: datetime, run_id: str, direction: Direction, why: str,
        changes: Mapping[str, tuple[Any, Any]]) -> None:
    """Note one change of ``link``'s record: ``changes`` maps a field to its (from, to) values."""
    if not changes:
        return
    entry = {"at": at.isoformat(), "run": run_id, "direction": direction, "why": why,
             "changes": [{"field": k, "from": _short(a), "to": _short(b)} for k, (a, b) in sorted(changes.items())]}
    link.history = [*link.history, entry][-KEEP:]


def pushed(link: RecordLink, before: Mapping[str, Any], *, at: datetime, run_id: str, why: str = "pushed") -> None:
    """After a push: the Dynamics columns whose values went to AC (``before`` are the last synced ones)."""
    changes = {c: (before.get(c), v) for c, v in link.dynamics_values.items() if before.get(c) != v}
    add(link, at=at, run_id=run_id, direction="push", why=why, changes=changes)
