"""The protocol every entity handler follows, in either direction.

A handler is made per entity and pass. It says which Dynamics columns its reads need and plans a
page (reads only: the store, look-ups on either side). The per-page skeleton
(:func:`sync_core.engine.page.process_page`) runs the steps every handler shares first — merges,
scope, lead qualification — so no handler checks them again. The plan names its writer, which only
the live sink calls.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Protocol

from sync_core.dynamics import parse_filter
from sync_core.engine.mapping import select_columns
from sync_core.engine.merges import MERGE_COLUMNS, MERGEABLE
from sync_core.engine.pass_state import PRIMARY_ID, Pass
from sync_core.model.config import EntityMapping, FieldMapping
from sync_core.model.standard import read_column
from sync_core.model.state import EntityName

if TYPE_CHECKING:
    from sync_core.engine.sink import Plan

Record = Mapping[str, Any]


class EntityHandler(Protocol):
    entity: EntityName
    fields: list[FieldMapping]
    """The mapped fields this handler carries (one direction's)."""
    open_errors: set[str]
    """Records of this entity with an open error: cleared once they are in step."""

    async def prepare(self, p: Pass) -> list[str]:
        """Once before the entity's reads: the columns to read (mapped fields, ids, dates, what the steps
        read); and whatever must be known first (e.g. whether the AC plan has the feature at all)."""
        ...

    async def plan(self, p: Pass, records: Sequence[Record], *, full_read: bool) -> Plan:
        """What to do with these in-scope records (reads only), and the writer that would do it."""
        ...


def select_for(p: Pass, entity: EntityName, fields: Sequence[FieldMapping], *extra: str) -> list[str]:
    """The mapped columns and :func:`common_columns`, plus ``extra``."""
    return select_columns(fields, [*common_columns(p, entity), *extra])


def common_columns(p: Pass, entity: EntityName) -> list[str]:
    """What identifies and dates a row, what the merge step reads, and what the entity's criteria read
    (change tracking forbids ``$filter``, so criteria are evaluated on the rows read)."""
    extra = [PRIMARY_ID[entity], "modifiedon", "createdon"]
    if p.connection.entities.of(entity).pulls and entity != "opportunity":
        extra.append("statecode")  # a pull refused as inactive waits for a read that sees the record active
    if entity in MERGEABLE:
        extra += MERGE_COLUMNS
    return extra + criteria_columns(p.connection.entities.of(entity))


def criteria_columns(mapping: EntityMapping) -> list[str]:
    """The columns an entity's criteria (or custom filter) read."""
    if mapping.scope == "criteria":
        return [read_column(c.field) for c in mapping.criteria]
    if mapping.scope == "custom" and mapping.custom_filter:
        return sorted(parse_filter(mapping.custom_filter).columns())
    return []
