"""Dynamics reads outside a table's change-tracking read: records by id, and a table's size."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sync_core.engine.pass_state import ENTITY_SET, PRIMARY_ID, Pass
from sync_core.model.errors import NotFoundError, ValidationError
from sync_core.model.state import EntityName

BY_ID_CHUNK = 25
"""Ids per ``$filter`` (``id eq … or …``): keeps the URL well under the service's limit."""


async def read_by_ids(p: Pass, entity: EntityName, select: list[str], ids: Sequence[str], *,
                      chunk_size: int = BY_ID_CHUNK) -> list[Mapping[str, Any]]:
    id_col = PRIMARY_ID[entity]
    records: list[Mapping[str, Any]] = []
    for start in range(0, len(ids), chunk_size):
        flt = " or ".join(f"{id_col} eq {i}" for i in ids[start:start + chunk_size])
        async for page in p.dv.query(ENTITY_SET[entity], select=select, filter=flt):
            records.extend(page.records)
    return records


async def estimate_total(p: Pass, entity: EntityName) -> int | None:
    """The number of rows a whole-table read will see. ``$count`` stops at 5,000, so past that the
    ids are counted page by page (5,000 a call: 20 calls for 100,000 rows)."""
    try:
        result = await p.dv.count(ENTITY_SET[entity])
        if not result.limit_exceeded:
            return result.count
        total = 0
        async for page in p.dv.query(ENTITY_SET[entity], select=[PRIMARY_ID[entity]], page_size=5000):
            total += len(page.records)
        return total
    except (ValidationError, NotFoundError):
        return None
