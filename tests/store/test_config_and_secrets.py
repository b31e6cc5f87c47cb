"""Configuration documents (large, versioned, ETag-guarded) and the local secret store."""

from __future__ import annotations

import os
import re
import stat
from pathlib import Path
from typing import Any

import pytest

from sync_core.model.config import FieldMapping
from sync_core.model.secrets import secret_names
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
    assert got is not None
    diff = {k for k in config.model_dump() if config.model_dump()[k] != got.model_dump()[k]}
    assert got == config, diff


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
    await secrets.set_secret(secret_names(config)["activecampaign_api_key"], secret_value)

    # A connection set up and used in every table.
    await store.save_config(config)
    await store.save_links("conn-1", [RecordLink("contact", "c1", "a1", email="a@x.com")])
    await store.save_cursor("conn-1", AcCursor("contact"))
    await store.save_run("conn-1", RunRecord("r1", store.clock.now(), "timer"))
    await store.record_error("conn-1", RecordError("contact", "activecampaign", "a1", "401 unauthorized"))
    await store.append_audit("conn-1", AuditEntry(store.clock.now(), "admin", "secret.set", target="ac key"))
    await store.acquire_lease("conn-1", "w", ttl=30)
    await store.request_budget("acme.api-us1.com", limit=5, window=1).acquire()

    assert await secrets.get_secret(secret_names(config)["activecampaign_api_key"]) == secret_value
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


def schema_1_document(connection_id: str = "conn-1") -> dict[str, Any]:
    """As schema 1 stored it: secret names in the document (one of them chosen by a request)."""
    return {"schema_version": 1, "connection_id": connection_id, "tenant_id": "t1",
            "activecampaign": {"api_url": "https://acme.api-us1.com", "api_key_secret": f"ac-api-key-{connection_id}"},
            "dynamics": {"environment_url": "https://acme.crm.dynamics.com",
                         "auth": {"kind": "client_secret", "tenant_id": "t1", "client_id": "c1",
                                  "secret_name": "ac-api-key-someone-else"}},
            "entities": {"contacts": {"enabled": True, "direction": "push"}}}


async def write_raw(store: SyncStore, doc: dict[str, Any]) -> None:
    from sync_core.store import _codec as codec

    entity: dict[str, Any] = {"PartitionKey": doc["connection_id"], "RowKey": "config",
                              "schema_version": doc["schema_version"]}
    codec.put_json(entity, "doc", doc)
    await store.tables["connections"].upsert_entity(entity)


def test_schema_1_migrates_to_2_without_trusting_its_secret_names() -> None:
    out = migrate_document(schema_1_document(), target=2)
    assert out["schema_version"] == 2 and out["reconnect_required"] is True
    assert "api_key_secret" not in out["activecampaign"] and "secret_name" not in out["dynamics"]["auth"]
    assert out["dynamics"]["auth"] == {"kind": "client_secret", "tenant_id": "t1", "client_id": "c1"}


async def test_a_stored_schema_1_connection_reads_as_reconnect_required(store: SyncStore) -> None:
    await write_raw(store, schema_1_document())
    config = await store.get_config("conn-1")
    assert config is not None and config.schema_version == 3 and config.reconnect_required
    names = secret_names(config)
    assert set(names) == {"activecampaign_api_key", "dynamics_secret"}
    assert all(n.startswith("sync-") and "someone-else" not in n for n in names.values())
    # Saved again (any route): the current schema, the flag kept until the connection is connected again.
    await store.save_config(config)
    again = await store.get_config("conn-1")
    assert again is not None and again.reconnect_required


def test_derived_names_are_bound_to_tenant_connection_host_and_sign_in() -> None:
    from sync_core.model.config import ConnectionConfig

    base = make_config(tenant_id="t1", dynamics={"environment_url": "https://acme.crm.dynamics.com",
                                                 "auth": {"kind": "client_secret", "tenant_id": "t1",
                                                          "client_id": "c1"}})
    names = secret_names(base)
    assert all(re.fullmatch(r"sync-[0-9a-f]{24}-(ac-key|dv-secret)", n) for n in names.values())

    def changed(**over: Any) -> dict[str, str]:
        doc = base.model_dump(mode="json")
        for path, value in over.items():
            *head, last = path.split("__")
            target = doc
            for h in head:
                target = target[h]
            target[last] = value
        return {str(k): v for k, v in secret_names(ConnectionConfig.model_validate(doc)).items()}

    assert changed(display_name="other") == names
    assert changed(activecampaign__api_url="https://ACME.api-us1.com/") == names  # same origin
    for over in ({"tenant_id": "t2"}, {"connection_id": "conn-2"}):
        assert set(changed(**over).values()).isdisjoint(names.values())
    assert changed(activecampaign__api_url="https://other.api-us1.com")["activecampaign_api_key"] != \
        names["activecampaign_api_key"]
    for over in ({"dynamics__environment_url": "https://other.crm.dynamics.com"},
                 {"dynamics__auth__client_id": "c2"}, {"dynamics__auth__kind": "certificate"}):
        got = changed(**over)
        assert got["dynamics_secret"] != names["dynamics_secret"]
        assert got["activecampaign_api_key"] == names["activecampaign_api_key"]
    assert "dynamics_secret" not in changed(dynamics__auth__kind="managed_identity")


def schema_2_document(connection_id: str = "conn-2") -> dict[str, Any]:
    """As schema 2 stored it: ``bidirectional`` by default (while only pushes were built)."""
    return {"schema_version": 2, "connection_id": connection_id, "tenant_id": "t1",
            "activecampaign": {"api_url": "https://acme.api-us1.com"},
            "dynamics": {"environment_url": "https://acme.crm.dynamics.com"},
            "entities": {"contacts": {"enabled": True},  # the default: bidirectional
                         "accounts": {"enabled": True, "direction": "bidirectional"},
                         "leads": {"enabled": True, "direction": "pull"}}}


def test_schema_2_directions_migrate_so_an_upgrade_writes_nothing_new() -> None:
    notes: list[str] = []
    out = migrate_document(schema_2_document(), notes=notes)
    assert out["schema_version"] == 3
    ents = out["entities"]
    assert ents["contacts"]["direction"] == "push" and ents["accounts"]["direction"] == "push"
    # Pull did nothing before: kept as the admin chose it, but off until they turn it on.
    assert ents["leads"] == {"enabled": False, "direction": "pull"}
    assert len(notes) == 3 and any("entities.leads.enabled" in n for n in notes)


async def test_a_stored_schema_2_bidirectional_config_is_migrated_once_and_audited(store: SyncStore) -> None:
    await write_raw(store, schema_2_document())
    config = await store.get_config("conn-2")
    assert config is not None and config.schema_version == 3
    assert config.entities.contacts.direction == "push" and not config.entities.leads.enabled
    audit = [e for e in await store.list_audit("conn-2") if e.action == "config_migrated"]
    assert len(audit) == 1 and audit[0].target == "schema 2 → 3" and audit[0].actor == "schema migration"
    assert any("contacts.direction: bidirectional → push" in n for n in audit[0].detail["changes"])
    # Written back: a second read finds schema 3 and audits nothing again.
    again = await store.get_config("conn-2")
    assert again is not None and again.entities.contacts.direction == "push"
    assert len([e for e in await store.list_audit("conn-2") if e.action == "config_migrated"]) == 1
