"""The connections table: one schema-versioned configuration document per connection.

The document is the config's JSON (never a secret nor a secret's name), split across
numbered properties when it outgrows one 64 KiB property. Older documents are migrated step by
step on read: ``MIGRATIONS[n]`` turns a version-``n`` document into a version ``n + 1`` one.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from azure.core import MatchConditions
from azure.core.exceptions import ResourceExistsError, ResourceModifiedError, ResourceNotFoundError
from azure.data.tables import UpdateMode
from azure.data.tables.aio import TableClient

from sync_core.clock import Clock
from sync_core.model.config import SCHEMA_VERSION, ConnectionConfig, migrate_v1_to_v2
from sync_core.store import _codec as codec
from sync_core.store.errors import StaleConfigError

CONFIG_ROW = "config"

Migration = Callable[[dict[str, Any]], dict[str, Any]]
MIGRATIONS: dict[int, Migration] = {1: migrate_v1_to_v2}
"""``{from_version: step}``; add a step (and its test) with every schema change."""


def migrate_document(
    doc: dict[str, Any], *, migrations: Mapping[int, Migration] = MIGRATIONS, target: int = SCHEMA_VERSION
) -> dict[str, Any]:
    """Bring a stored document up to ``target``, one version at a time."""
    version = int(doc.get("schema_version", 1))
    if version > target:
        raise ValueError(f"configuration schema {version} is newer than this code understands ({target})")
    while version < target:
        step = migrations.get(version)
        if step is None:
            raise ValueError(f"no migration from configuration schema {version}")
        doc = step(dict(doc))
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


def _from_entity(entity: Mapping[str, Any]) -> ConnectionConfig:
    doc = codec.get_json(entity, "doc")
    if not isinstance(doc, dict):
        raise ValueError(f"stored configuration of {entity.get('PartitionKey')} is not a JSON object")
    return ConnectionConfig.model_validate(migrate_document(doc))


class ConfigRepository:
    def __init__(self, table: TableClient, clock: Clock) -> None:
        self._t = table
        self._clock = clock

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
        return _from_entity(entity), str(entity.metadata["etag"])

    async def list(self) -> list[ConnectionConfig]:
        out = []
        async for entity in self._t.query_entities("RowKey eq @rk", parameters={"rk": CONFIG_ROW}):
            out.append(_from_entity(entity))
        return out
