"""The protocol every entity handler follows, in either direction.

A handler is made per entity and pass. It says which Dynamics columns its reads need beyond the
mapped fields, plans a page (reads only: the store, look-ups on either side) and, as the live sink's
:class:`~sync_core.engine.sink.Writer`, carries the plan out. The per-page skeleton
(:func:`sync_core.engine.page.process_page`) runs the steps every handler shares first — merges,
scope, lead qualification — so no handler checks them again.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Protocol

from sync_core.dynamics import parse_filter
from sync_core.engine.merges import MERGE_COLUMNS, MERGEABLE
from sync_core.engine.pass_state import PRIMARY_ID, Pass
from sync_core.model.config import FieldMapping
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

    def extra_columns(self) -> list[str]:
        """Columns a read needs besides the mapped fields (ids, dates, what the steps read)."""
        ...

    async def prepare(self, p: Pass) -> None:
        """Once before the entity's reads (e.g. whether the AC plan has the feature at all)."""
        ...

    async def plan(self, p: Pass, records: Sequence[Record], *, full_read: bool) -> Plan:
        """What to do with these in-scope records; reads only."""
        ...

    async def write(self, p: Pass, plan: Plan) -> None:
        """Carry the plan out (called by the live sink only)."""
        ...


def common_columns(p: Pass, entity: EntityName) -> list[str]:
    """What identifies and dates a row, what the merge step reads, and what the entity's criteria read
    (change tracking forbids ``$filter``, so criteria are evaluated on the rows read)."""
    extra = [PRIMARY_ID[entity], "modifiedon", "createdon"]
    if entity in MERGEABLE:
        extra += MERGE_COLUMNS
    mapping = p.connection.entities.of(entity)
    if mapping.scope == "criteria":
        extra += [read_column(c.field) for c in mapping.criteria]
    elif mapping.scope == "custom" and mapping.custom_filter:
        extra += sorted(parse_filter(mapping.custom_filter).columns())
    return extra
