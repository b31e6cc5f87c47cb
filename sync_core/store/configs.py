"""The connections table: one schema-versioned configuration document per connection.

The document is the config's JSON (never a secret nor a secret's name), split across
numbered properties when it outgrows one 64 KiB property. Older documents are migrated step by
step on read: ``MIGRATIONS[n]`` turns a version-``n`` document into a version ``n + 1`` one.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from azure.core import MatchConditions
from azure.core.exceptions import ResourceExistsError, ResourceModifiedError, ResourceNotFoundError
from azure.data.tables import UpdateMode
from azure.data.tables.aio import TableClient

from sync_core.clock import Clock
from sync_core.model.config import SCHEMA_VERSION, ConnectionConfig
from sync_core.model.migrations import MIGRATIONS, NOTES, Migration
from sync_core.store import _codec as codec
from sync_core.store.errors import StaleConfigError

CONFIG_ROW = "config"

def migrate_document(
    doc: dict[str, Any], *, migrations: Mapping[int, Migration] = MIGRATIONS, target: int = SCHEMA_VERSION,
    notes: list[str] | None = None,
) -> dict[str, Any]:
    """Bring a stored document up to ``target``, one version at a time; what the steps noted goes to ``notes``."""
    version = int(doc.get("schema_version", 1))
    if version > target:
        raise ValueError(f"configuration schema {version} is newer than this code understands ({target})")
    while version < target:
        step = migrations.get(version)
        if step is None:
            raise ValueError(f"no migration from configuration schema {version}")
        doc = step(dict(doc))
        found = doc.pop(NOTES, [])
        if notes is not None:
            notes.extend(str(n) for n in found)
        version += 1
        doc["schema_version"] = version
    return doc


def _to_entity(config: ConnectionConfig, clock: Clock) -> dict[str, Any]:
    entity: dict[str, Any] = {
        "PartitionKey": config.connection_id,
        "RowKey": CONFIG_ROW,
        "schema_version": config.schema_version,
        "display_name": config.display_name[:200],  # a hint for browsing; the document has it whole
        "updated_at": clock.now(),
    }
    codec.put_json(entity, "doc", config.model_dump(mode="json"))
    codec.check_size(entity, f"configuration of {config.connection_id}")
    return entity


def _from_entity(entity: Mapping[str, Any]) -> tuple[ConnectionConfig, int, list[str]]:
    """The configuration, the schema it was stored in, and what migrating it changed."""
    doc = codec.get_json(entity, "doc")
    if not isinstance(doc, dict):
        raise ValueError(f"stored configuration of {entity.get('PartitionKey')} is not a JSON object")
    notes: list[str] = []
    stored = int(doc.get("schema_version", 1))
    return ConnectionConfig.model_validate(migrate_document(doc, notes=notes)), stored, notes


Migrated = Callable[[ConnectionConfig, int, list[str]], Awaitable[None]]
"""Told when a stored document was migrated and written back (the store audits it)."""


async def _nothing(config: ConnectionConfig, stored: int, notes: list[str]) -> None:
    return None


class ConfigRepository:
    def __init__(self, table: TableClient, clock: Clock, *, migrated: Migrated = _nothing) -> None:
        self._t = table
        self._clock = clock
        self._migrated = migrated

    async def save(self, config: ConnectionConfig, *, etag: str | None, only_if_new: bool) -> str:
        entity = _to_entity(config, self._clock)
        try:
            if etag is not None:
                meta = await self._t.update_entity(
                    entity, mode=UpdateMode.REPLACE, etag=etag, match_condition=MatchConditions.IfNotModified
                )
            elif only_if_new:
                meta = await self._t.create_entity(entity)
            else:
                meta = await self._t.upsert_entity(entity, mode=UpdateMode.REPLACE)
        except (ResourceModifiedError, ResourceNotFoundError) as e:
            raise StaleConfigError(f"configuration of {config.connection_id} changed since it was read") from e
        except ResourceExistsError as e:
            raise StaleConfigError(f"connection {config.connection_id} already exists") from e
        return str(meta["etag"])

    async def get(self, connection_id: str) -> tuple[ConnectionConfig, str] | None:
        try:
            entity = await self._t.get_entity(connection_id, CONFIG_ROW)
        except ResourceNotFoundError:
            return None
        return await self._current(entity)

    async def list(self) -> list[ConnectionConfig]:
        out = []
        async for entity in self._t.query_entities("RowKey eq @rk", parameters={"rk": CONFIG_ROW}):
            out.append((await self._current(entity))[0])
        return out

    async def _current(self, entity: Mapping[str, Any]) -> tuple[ConnectionConfig, str]:
        """A document stored in an older schema is migrated and written back once (another reader that got
        there first wins; its version is read again)."""
        config, stored, notes = _from_entity(entity)
        etag = str(entity.metadata["etag"])  # type: ignore[attr-defined]
        if stored >= SCHEMA_VERSION:
            return config, etag
        try:
            etag = await self.save(config, etag=etag, only_if_new=False)
        except StaleConfigError:
            found = await self.get(config.connection_id)
            if found is None:
                raise
            return found
        await self._migrated(config, stored, notes)
        return config, etag
