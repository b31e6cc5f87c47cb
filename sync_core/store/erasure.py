"""Right to erasure in Table Storage: every row of a connection that names a person goes or loses the name.

A row names the person when any text of it (the RowKey included) holds their email (as written, lower
case, percent-encoded as keys hold it, or JSON-escaped) or one of their Dynamics ids. Rows about the person
(links with their index rows and history, record errors, conflict rows) are deleted; a pending import loses
the person's rows; rows about something else that mention them in passing (runs, audit, cursors) keep their
meaning with the email replaced by :data:`ERASED`.
"""

from __future__ import annotations

import contextlib
import json
import re
from collections.abc import Iterable, Mapping
from typing import Any

from azure.core.exceptions import ResourceNotFoundError
from azure.data.tables import UpdateMode

from sync_core.store._keys import enc
from sync_core.store._tables import TableName, Tables
from sync_core.store.imports import _from_entity as import_from_entity
from sync_core.store.imports import _to_entity as import_to_entity

ERASED = "[erased]"
DELETED: tuple[TableName, ...] = ("links", "errors", "conflicts")
SCRUBBED: tuple[TableName, ...] = ("runs", "audit", "cursors")


def needles(email: str) -> set[str]:
    """The forms a stored row could hold the email in (compared lower case)."""
    e = email.strip()
    forms = {e, e.lower(), enc(e), enc(e.lower()), json.dumps(e)[1:-1], json.dumps(e.lower())[1:-1]}
    return {f.lower() for f in forms if f}


def names(row: Mapping[str, Any], found: set[str], ids: Iterable[str]) -> bool:
    texts = [str(v).lower() for v in row.values() if isinstance(v, str)]
    texts.append(str(row.get("RowKey", "")).lower())
    wanted = found | {i.lower() for i in ids}
    return any(n in t for t in texts for n in wanted)


def _scrub(value: str, email: str) -> str:
    out = value
    for form in sorted(needles(email), key=len, reverse=True):
        out = re.sub(re.escape(form), ERASED, out, flags=re.IGNORECASE)
    return out


async def erase_rows(tables: Tables, cid: str, email: str, dynamics_ids: Iterable[str]) -> dict[str, int]:
    """Rows removed or rewritten per table."""
    found, ids = needles(email), list(dynamics_ids)
    counts: dict[str, int] = {}
    for name in DELETED:
        t = tables[name]
        doomed = [e async for e in t.query_entities("PartitionKey eq @pk", parameters={"pk": cid})
                  if names(e, found, ids)]
        for e in doomed:
            with contextlib.suppress(ResourceNotFoundError):
                await t.delete_entity(cid, str(e["RowKey"]))
        counts[name] = len(doomed)
    counts["imports"] = await _imports(tables, cid, email, found, ids)
    for name in SCRUBBED:
        t = tables[name]
        touched = 0
        async for e in t.query_entities("PartitionKey eq @pk", parameters={"pk": cid}):
            if names(e, found, []):
                row = {k: (_scrub(v, email) if isinstance(v, str) and k not in ("PartitionKey", "RowKey") else v)
                       for k, v in e.items()}
                await t.upsert_entity(row, mode=UpdateMode.REPLACE)
                touched += 1
        counts[name] = touched
    return counts


async def _imports(tables: Tables, cid: str, email: str, found: set[str], ids: list[str]) -> int:
    t = tables["imports"]
    touched = 0
    async for e in t.query_entities("PartitionKey eq @pk", parameters={"pk": cid}):
        if not names(e, found, ids) or "batch_id" not in e:
            continue
        batch = import_from_entity(e)
        batch.rows = [r for r in batch.rows if r.email.strip().lower() != email.strip().lower()
                      and r.dynamics_id not in ids]
        if batch.rows:
            await t.upsert_entity(import_to_entity(cid, batch), mode=UpdateMode.REPLACE)
        else:
            await t.delete_entity(cid, str(e["RowKey"]))
        touched += 1
    return touched
