"""Connect (with its distinct errors), disconnect, user management, role setup."""

from __future__ import annotations

from typing import Any

from sync_core.api.roles_setup import ensure_roles
from sync_core.dynamics import DataverseClient, StaticTokenCredential
from sync_core.model.secrets import secret_names
from tests.api.conftest import CID, DV_TOKEN, DV_URL, Api

P = f"/api/connections/{CID}"


async def put(api: Api, **over: object) -> tuple[int, dict[str, Any]]:
    r = await api.client.put(f"{P}/connection", json=api.connect_body(**over), headers=api.auth())
    return r.status_code, r.json()


async def test_connect_errors_are_distinct_and_name_the_field(api: Api) -> None:
    status, body = await put(api, activecampaign_api_url="not a url")
    assert (status, body["error"]["code"], body["error"]["field"]) == (422, "malformed_url", "activecampaign_api_url")
    status, body = await put(api, dynamics_environment_url="ftp://x")
    assert (status, body["error"]["code"], body["error"]["field"]) == (422, "malformed_url",
                                                                      "dynamics_environment_url")
    status, body = await put(api, activecampaign_api_key="wrong-key-0123456789")
    assert (status, body["error"]["code"], body["error"]["field"]) == (422, "activecampaign_key_rejected",
                                                                      "activecampaign_api_key")
    status, body = await put(api, activecampaign_api_url="https://nowhere.invalid")
    assert (status, body["error"]["code"]) == (422, "activecampaign_unreachable")
    status, body = await put(api, dynamics_environment_url="https://org.nowhere.invalid")
    assert (status, body["error"]["code"]) == (422, "dynamics_unreachable")
    status, body = await put(api, dynamics_secret="not-the-token")
    assert (status, body["error"]["code"]) == (422, "dynamics_auth_failed")
    # Nothing was saved by the failures, secrets included.
    assert await api.rt.store.get_config(CID) is None
    assert not api.secrets_path.exists() or "not-the-token" not in api.secrets_path.read_text()
    r = await api.client.get(f"{P}/connection", headers=api.auth())
    assert r.status_code == 404


async def test_connect_masks_the_key_and_disconnect_removes_it(api: Api) -> None:
    view = await api.connect()
    assert view["connected"] and view["activecampaign_api_key"] == "••••" + api.ac_key[-4:]
    config = await api.rt.store.get_config(CID)
    assert config is not None and config.tenant_id and config.dynamics.environment_url == DV_URL
    assert await api.rt.secrets.get_secret(secret_names(config)["activecampaign_api_key"]) == api.ac_key
    r = await api.client.put(f"{P}/sync", json={"global_enabled": True}, headers=api.auth())
    assert r.status_code == 200 and r.json()["global_enabled"] is True
    r = await api.client.delete(f"{P}/connection", headers=api.auth())
    assert r.status_code == 200, r.text
    assert r.json()["connected"] is False and r.json()["global_sync_enabled"] is False
    assert await api.rt.secrets.get_secret(secret_names(config)["activecampaign_api_key"]) is None
    r = await api.client.post(f"{P}/sync/now", headers=api.auth())
    assert r.status_code == 409
    r = await api.client.put(f"{P}/sync", json={"global_enabled": True}, headers=api.auth())
    assert r.status_code == 409 and r.json()["error"]["code"] == "not_connected"


async def test_a_failed_reconnect_leaves_the_working_connection_alone(api: Api) -> None:
    await api.connect()
    status, body = await put(api, dynamics_secret="not-the-token", activecampaign_api_key="wrong-0123456789")
    assert (status, body["error"]["code"]) == (422, "dynamics_auth_failed")
    assert "not-the-token" not in api.secrets_path.read_text()
    config = await api.rt.store.get_config(CID)
    assert config is not None
    assert await api.rt.secrets.get_secret(secret_names(config)["activecampaign_api_key"]) == api.ac_key
    api.clock.advance(600)
    r = await api.client.get(f"{P}/users", headers=api.auth())
    assert r.status_code == 200


async def test_a_non_admin_cannot_connect(api: Api) -> None:
    r = await api.client.put(f"{P}/connection", json=api.connect_body(), headers=api.auth("Sam Seller"))
    assert r.status_code == 403
    assert await api.rt.store.get_config(CID) is None


async def test_user_management(api: Api) -> None:
    await api.connect()
    h = api.auth()
    r = await api.client.get(f"{P}/users/search", params={"q": "mü"}, headers=h)
    assert r.status_code == 200 and [u["full_name"] for u in r.json()] == ["Marie Müller"]
    r = await api.client.get(f"{P}/users/search", params={"q": "sandbox.example.com"}, headers=h)
    assert 1 <= len(r.json()) <= 10
    r = await api.client.get(f"{P}/users", headers=h)
    holders = {x["user"]["full_name"]: x["roles"] for x in r.json()}
    assert holders["Marie Müller"] == [{"role": "ActiveCampaign Admin", "via": "direct", "team": None}]
    assert {"role": "ActiveCampaign User", "via": "team", "team": "EU Sales (AAD group)"} in holders["Tom Teamonly"]
    assert "Nina Norole" not in holders

    nina = api.user("Nina Norole")
    r = await api.client.post(f"{P}/users", json={"user_id": nina["systemuserid"], "role": "ActiveCampaign Admin"},
                              headers=h)
    assert r.status_code == 200, r.text
    # The copy of the role in Nina's business unit, through systemuserroles_association.
    held = [rid for uid, rid in api.dv.links["systemuserroles_association"] if uid == nina["systemuserid"]]
    assert [api.dv.rows["role"][rid]["_businessunitid_value"] for rid in held] == [nina["_businessunitid_value"]]
    r = await api.client.get(f"{P}/config", headers=api.auth("Nina Norole"))
    assert r.status_code == 200  # the role cache was dropped on the change
    r = await api.client.delete(f"{P}/users/{nina['systemuserid']}/roles/admin", headers=h)
    assert r.status_code == 204
    api.clock.advance(600)  # past the role cache
    r = await api.client.get(f"{P}/config", headers=api.auth("Nina Norole"))
    assert r.status_code == 403
    r = await api.client.post(f"{P}/users", json={"user_id": "00000000-0000-4000-8000-000000000001",
                                                  "role": "ActiveCampaign User"}, headers=h)
    assert r.status_code == 404 and r.json()["error"]["field"] == "user_id"
    actions = [e["action"] for e in (await api.client.get(f"{P}/audit", headers=h)).json()]
    assert {"assign_role", "remove_role", "connect"} <= set(actions)


async def test_roles_setup_creates_missing_roles_once(api: Api) -> None:
    for rid in [rid for rid, r in api.dv.rows["role"].items() if r["name"].startswith("ActiveCampaign")]:
        del api.dv.rows["role"][rid]
    transport = api.app.state.api.clients.dv_transport
    async with DataverseClient(DV_URL, StaticTokenCredential(DV_TOKEN), clock=api.clock, transport=transport) as dv:
        assert sorted(await ensure_roles(dv)) == ["ActiveCampaign Admin", "ActiveCampaign User"]
        assert await ensure_roles(dv) == []
    # Created once in the root unit; Dataverse (and the sandbox) copy them into every business unit.
    per_unit: dict[str, list[str]] = {}
    for r in api.dv.rows["role"].values():
        if r["name"].startswith("ActiveCampaign"):
            per_unit.setdefault(r["_businessunitid_value"], []).append(r["name"])
    assert len(per_unit) == 2
    assert all(sorted(v) == ["ActiveCampaign Admin", "ActiveCampaign User"] for v in per_unit.values())
