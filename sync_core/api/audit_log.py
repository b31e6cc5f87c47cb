"""Every configuration change is recorded: who, when, before and after (never a secret)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sync_core.api.auth import Caller
from sync_core.model.state import AuditEntry

if TYPE_CHECKING:
    from sync_core.runtime import Runtime


async def record(rt: Runtime, cid: str, caller: Caller, action: str, *, target: str = "", before: Any = None,
                 after: Any = None, detail: dict[str, Any] | None = None) -> None:
    await rt.store.append_audit(cid, AuditEntry(at=rt.clock.now(), actor=caller.actor, action=action, target=target,
                                                before=before, after=after, detail=detail or {}))


def diff(before: Any, after: Any, path: str = "") -> list[tuple[str, Any, Any]]:
    """Leaf-level differences of two JSON documents, as (dotted path, before, after)."""
    if isinstance(before, dict) and isinstance(after, dict):
        out: list[tuple[str, Any, Any]] = []
        for k in sorted(set(before) | set(after), key=str):
            sub = f"{path}.{k}" if path else str(k)
            out.extend(diff(before.get(k), after.get(k), sub))
        return out
    if before != after:
        return [(path, before, after)]
    return []
