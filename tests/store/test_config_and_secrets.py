"""Configuration documents (large, versioned, ETag-guarded) and the local secret store."""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Any

import pytest

from sync_core.model.config import FieldMapping
from sync_core.model.state import AcCursor, AuditEntry, DynamicsCursor, RecordError, RecordLink, RunRecord
from sync_core.store import LocalSecretStore, StaleConfigError, SyncStore, migrate_document

from .conftest import make_config


async def test_a_config_larger_than_64_kib_round_trips(store: SyncStore) -> None:
    config = make_config(display_name="Acme 😀 " * 5000)
    config.entities.contacts.custom = [
        FieldMapping(dynamics=f"new_field_{i:04d}", activecampaign=f"{i}",
                     option_map={str(v): f"opt {v}" for v in range(8)})
        for i in range(600)
    ]
    assert len(config.model_dump_json()) > 140_000
    await store.save_config(config)
    got = await store.get_config("conn-1")
    assert got == config


async def test_stale_config_etag_is_refused(store: SyncStore) -> None:
    first = await store.save_config(make_config())
    loaded = await store.get_config_with_etag("conn-1")
    assert loaded is not None and loaded[1] == first
    config, etag = loaded
    config.display_name = "one"
    second = await store.save_config(config, etag=etag)
    config.display_name = "two"
    with pytest.raises(StaleConfigError):
        await store.save_config(config, etag=etag)
    with pytest.raises(StaleConfigError):
        await store.save_config(make_config(), only_if_new=True)
    got = await store.get_config("conn-1")
    assert got is not None and got.display_name == "one"
    assert second != first


async def test_list_and_delete_connection_removes_every_partition(store: SyncStore) -> None:
    await store.save_config(make_config("conn-1"))
    await store.save_config(make_config("conn-2"))
    assert sorted(c.connection_id for c in await store.list_configs()) == ["conn-1", "conn-2"]
    for cid in ("conn-1", "conn-2"):
        await store.save_links(cid, [RecordLink("contact", f"c{i}", f"a{i}", email=f"{i}@x") for i in range(120)])
        await store.save_cursor(cid, DynamicsCursor("contact"))
        await store.save_run(cid, RunRecord("r1", store.clock.now(), "timer"))
        await store.record_error(cid, RecordError("contact", "dynamics", "c1", "boom"))
        await store.append_audit(cid, AuditEntry(store.clock.now(), "admin", "config.update"))
        await store.acquire_lease(cid, "w", ttl=30)

    await store.delete_connection("conn-1")

    assert await store.get_config("conn-1") is None
    for name in ("connections", "links", "cursors", "runs", "errors", "audit", "leases"):
        pks = {e["PartitionKey"] async for e in store.tables[name].list_entities()}
        assert pks == {"conn-2"}, name
    assert await store.count_links("conn-2", "contact") == 120


def test_migrations_run_step_by_step() -> None:
    def v1_to_v2(doc: dict[str, Any]) -> dict[str, Any]:
        doc["display_name"] = doc.pop("name")
        return doc

    def v2_to_v3(doc: dict[str, Any]) -> dict[str, Any]:
        doc["display_name"] += "!"
        return doc

    out = migrate_document({"schema_version": 1, "name": "x"}, migrations={1: v1_to_v2, 2: v2_to_v3}, target=3)
    assert out == {"schema_version": 3, "display_name": "x!"}
    with pytest.raises(ValueError, match="no migration"):
        migrate_document({"schema_version": 1}, migrations={}, target=2)
    with pytest.raises(ValueError, match="newer"):
        migrate_document({"schema_version": 4}, target=3)


async def test_secret_store_file_is_private_and_round_trips(tmp_path: Path) -> None:
    path = tmp_path / "sub" / "secrets.json"
    secrets = LocalSecretStore(path)
    assert await secrets.get_secret("k") is None
    await secrets.set_secret("k", "v1")
    await secrets.set_secret("other", "v2")
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert await LocalSecretStore(path).get_secret("k") == "v1"
    await secrets.delete_secret("k")
    await secrets.delete_secret("k")
    assert await secrets.get_secret("k") is None
    assert await secrets.get_secret("other") == "v2"
    assert "v2" not in repr(secrets)


async def test_a_secret_is_in_no_table_entity(store: SyncStore, tmp_path: Path) -> None:
    secret_value = "ac-key-7f3e9b1c2d4a5e6f708192a3b4c5d6e7f8091a2b"
    secrets = LocalSecretStore(tmp_path / "secrets.json")
    config = make_config()
    await secrets.set_secret(config.activecampaign.api_key_secret, secret_value)

    # A connection set up and used in every table.
    await store.save_config(config)
    await store.save_links("conn-1", [RecordLink("contact", "c1", "a1", email="a@x.com")])
    await store.save_cursor("conn-1", AcCursor("contact"))
    await store.save_run("conn-1", RunRecord("r1", store.clock.now(), "timer"))
    await store.record_error("conn-1", RecordError("contact", "activecampaign", "a1", "401 unauthorized"))
    await store.append_audit("conn-1", AuditEntry(store.clock.now(), "admin", "secret.set", target="ac key"))
    await store.acquire_lease("conn-1", "w", ttl=30)
    await store.request_budget("acme.api-us1.com", limit=5, window=1).acquire()

    assert await secrets.get_secret(config.activecampaign.api_key_secret) == secret_value
    seen = 0
    async for table in store.tables.service.list_tables():
        if not table.name.startswith(store.tables.prefix):
            continue
        async for entity in store.tables.service.get_table_client(table.name).list_entities():
            seen += 1
            text = repr(dict(entity)) + repr(entity.metadata)
            assert secret_value not in text and secret_value[-12:] not in text, table.name
    assert seen >= 9


class _NoTokenCredential:
    """An Entra credential that is never asked: building clients must not call it."""

    async def get_token(self, *scopes: str, **kwargs: Any) -> Any:
        raise AssertionError("no request expected")

    async def close(self) -> None:
        return None

    async def __aenter__(self) -> _NoTokenCredential:
        return self

    async def __aexit__(self, *args: object) -> None:
        return None


async def test_from_account_url_names_the_prefixed_tables() -> None:
    store = SyncStore.from_account_url("https://acct.table.core.windows.net", _NoTokenCredential(),
                                       table_prefix="sync")
    async with store:
        assert store.tables["links"].table_name == "synclinks"
        assert "syncbudgets" in store.tables.full_names()
