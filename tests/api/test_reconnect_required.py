"""A connection saved under schema 1 (secret names in the document): no secret is used until it is connected again."""

from __future__ import annotations

from typing import Any

import pytest

from sync_core.model.config import SCHEMA_VERSION
from sync_core.model.errors import ConfigurationError
from sync_core.model.secrets import secret_names
from sync_core.store import _codec as codec
from tests.api.conftest import CID, DV_TOKEN, DV_URL, TENANT, Api

P = f"/api/connections/{CID}"


async def store_schema_1(api: Api) -> None:
    doc: dict[str, Any] = {
        "schema_version": 1, "connection_id": CID, "tenant_id": TENANT, "display_name": "Old",
        "activecampaign": {"api_url": api.ac_url, "api_key_secret": f"ac-api-key-{CID}"},
        "dynamics": {"environment_url": DV_URL, "auth": {"kind": "static_token", "secret_name": "dv-token"}},
        "sync": {"global_enabled": True, "frequency": "2h"},
        "entities": {"contacts": {"enabled": True, "direction": "push"}}}
    entity: dict[str, Any] = {"PartitionKey": CID, "RowKey": "config", "schema_version": 1}
    codec.put_json(entity, "doc", doc)
    await api.rt.store.tables["connections"].upsert_entity(entity)
    await api.rt.secrets.set_secret(f"ac-api-key-{CID}", api.ac_key)
    await api.rt.secrets.set_secret("dv-token", DV_TOKEN)


async def test_a_schema_1_connection_waits_to_be_connected_again(api: Api) -> None:
    await store_schema_1(api)
    r = await api.client.get(f"{P}/config", headers=api.auth())
    assert r.status_code == 409, r.text
    assert (r.json()["error"]["code"], r.json()["error"]["field"]) == ("reconnect_required", "connection_id")
    with pytest.raises(ConfigurationError, match="connected again"):
        await api.rt.engine.run_pass(CID, reason="test")
    # Connecting again is judged like a new connection: nothing stored is used for the role check.
    r = await api.client.put(f"{P}/connection", json=api.connect_body(dynamics_secret=None), headers=api.auth())
    assert (r.status_code, r.json()["error"]["field"]) == (422, "dynamics_secret"), r.text
    r = await api.client.put(f"{P}/connection", json=api.connect_body(), headers=api.auth("Sam Seller"))
    assert r.status_code == 403, r.text
    r = await api.client.put(f"{P}/connection", json=api.connect_body(), headers=api.auth())
    assert r.status_code == 200, r.text
    assert r.json()["reconnect_required"] is False and r.json()["connected"] is True
    config = await api.rt.store.get_config(CID)
    assert config is not None and not config.reconnect_required and config.schema_version == SCHEMA_VERSION
    assert config.sync.frequency == "2h"  # the rest of the document survived
    assert set(secret_names(config).values()) <= set(await _names(api))
    assert (await api.client.get(f"{P}/config", headers=api.auth())).status_code == 200


async def _names(api: Api) -> list[str]:
    import json

    return list(json.loads(api.secrets_path.read_text()))
