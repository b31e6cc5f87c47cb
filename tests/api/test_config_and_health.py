"""Data configuration, fields and candidates, preview jobs, config as code, CORS, upstream outages."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx

from sync_core.api import create_app
from sync_core.settings import Settings
from tests.api.conftest import CID, DV_URL, Api

P = f"/api/connections/{CID}"


async def test_fields_and_compatible_candidates(api: Api) -> None:
    await api.connect()
    r = await api.client.get(f"{P}/fields/lead", params={"field": "firstname"}, headers=api.auth())
    assert r.status_code == 200, r.text
    body = r.json()
    dyn = {f["name"]: f for f in body["dynamics"]}
    assert dyn["firstname"]["type"] == "StringType"
    assert dyn["lastname"]["required"] is True
    assert "firstName" in body["candidates"] and "email" in body["candidates"]
    assert {f["name"] for f in body["activecampaign"]} >= {"email", "firstName", "lastName", "phone"}
    r = await api.client.get(f"{P}/fields/lead", params={"field": "nosuch"}, headers=api.auth())
    assert r.status_code == 404 and r.json()["error"]["field"] == "field"
    r = await api.client.get(f"{P}/fields/deal", headers=api.auth())
    assert r.status_code == 422


async def test_config_write_is_validated_and_guarded_by_etag(api: Api) -> None:
    await api.connect()
    h = api.auth()
    first = (await api.client.get(f"{P}/config", headers=h)).json()
    entities = first["config"]["entities"]
    entities["accounts"]["enabled"] = True
    r = await api.client.put(f"{P}/config", json={"config": {"entities": entities}, "etag": first["etag"]},
                             headers=h)
    assert r.status_code == 200, r.text
    # A second writer with the old etag is refused rather than overwriting.
    r = await api.client.put(f"{P}/config", json={"config": {"entities": entities}, "etag": first["etag"]},
                             headers=h)
    assert r.status_code == 409 and r.json()["error"]["code"] == "conflict"
    # Pydantic's rules across parts: opportunities only push.
    entities["opportunities"]["direction"] = "pull"
    r = await api.client.put(f"{P}/config", json={"config": {"entities": entities}}, headers=h)
    assert r.status_code == 422 and r.json()["error"]["code"] in ("invalid_config", "validation_error")
    # The engine's metadata rules: a mapped column that does not exist, named by its field.
    entities["opportunities"]["direction"] = "push"
    entities["contacts"]["custom"] = [{"dynamics": "nosuchcolumn", "activecampaign": "phone"}]
    r = await api.client.put(f"{P}/config", json={"config": {"entities": entities}}, headers=h)
    assert r.status_code == 422 and r.json()["error"]["field"].startswith("entities.contacts.custom")
    assert r.json()["issues"]


async def test_a_long_preview_becomes_a_job(api: Api) -> None:
    await api.connect()
    api.app.state.api.preview_wait_seconds = 0.0
    h = api.auth()
    entities = (await api.client.get(f"{P}/config", headers=h)).json()["config"]["entities"]
    r = await api.client.post(f"{P}/config/preview", json={"config": {"entities": entities}}, headers=h)
    assert r.status_code == 202, r.text
    job = r.json()
    assert job["status"] == "running" and job["progress"]
    for _ in range(200):
        r = await api.client.get(f"{P}/jobs/{job['job_id']}", headers=h)
        if r.json()["status"] != "running":
            break
        await asyncio.sleep(0.02)
    done = r.json()
    assert done["status"] == "done", done
    assert {c["entity"] for c in done["counts"]} == {"contact"}
    # Another connection's job is not visible through this one.
    r = await api.client.get("/api/connections/other/jobs/" + job["job_id"], headers=h)
    assert r.status_code == 404


async def test_export_and_import_into_another_connection(api: Api) -> None:
    await api.connect()
    await api.connect("fabrikam")
    h = api.auth()
    entities = (await api.client.get(f"{P}/config", headers=h)).json()["config"]["entities"]
    entities["leads"] = {"enabled": True, "direction": "push", "scope": "criteria",
                         "criteria": [{"field": "emailaddress1", "operator": "ends_with", "value": ".com"}]}
    assert (await api.client.put(f"{P}/config", json={"config": {"entities": entities}}, headers=h)).status_code == 200
    r = await api.client.put(f"{P}/sync", json={"frequency": "12h"}, headers=h)
    doc = (await api.client.get(f"{P}/export", headers=h)).json()
    assert "api_key" not in str(doc) and api.ac_key not in str(doc)
    target = "/api/connections/fabrikam"
    r = await api.client.post(f"{target}/import", json={"document": doc}, headers=h)
    result = r.json()
    assert r.status_code == 200 and result["applied"] is False and not result["issues"]
    paths = {c["path"] for c in result["changes"]}
    assert {"entities.leads.enabled", "sync.frequency"} <= paths
    assert (await api.client.get(f"{target}/export", headers=h)).json() != doc  # nothing applied yet
    r = await api.client.post(f"{target}/import", json={"document": doc, "apply": True}, headers=h)
    assert r.status_code == 200 and r.json()["applied"] is True
    assert (await api.client.get(f"{target}/export", headers=h)).json() == doc
    audit = (await api.client.get(f"{target}/audit", headers=h)).json()
    entry = next(a for a in audit if a["action"] == "import_config")
    assert entry["actor"].startswith("Alex Admin") and entry["before"] != entry["after"]


async def test_cors_is_the_connections_dynamics_origin(api: Api) -> None:
    await api.connect()
    pre = {"Origin": DV_URL, "Access-Control-Request-Method": "PUT",
           "Access-Control-Request-Headers": "authorization,content-type"}
    r = await api.client.options(f"{P}/config", headers=pre)
    assert r.status_code == 204 and r.headers["Access-Control-Allow-Origin"] == DV_URL
    r = await api.client.options(f"{P}/config", headers={**pre, "Origin": "https://evil.example"})
    assert r.status_code == 403 and "Access-Control-Allow-Origin" not in r.headers
    r = await api.client.get(f"{P}/config", headers={**api.auth(), "Origin": DV_URL})
    assert r.headers["Access-Control-Allow-Origin"] == DV_URL
    r = await api.client.get(f"{P}/config", headers={**api.auth(), "Origin": "https://evil.example"})
    assert "Access-Control-Allow-Origin" not in r.headers


async def test_dynamics_outage_is_a_documented_503(api: Api) -> None:
    await api.connect()
    api.clock.advance(600)  # the caller's roles are no longer cached
    api.dv.set_faults({"error_rate": 1.0, "error_status": 503})
    r = await api.client.get(f"{P}/users", headers=api.auth())
    assert r.status_code == 503 and r.json()["error"]["code"] == "dynamics_unavailable", r.text
    api.dv.set_faults({"error_rate": 0.0})
    api.ac.faults.update({"error_rate": 1.0, "error_status": 503})
    r = await api.client.get(f"{P}/fields/contact", headers=api.auth())
    assert r.status_code == 503 and r.json()["error"]["code"] == "activecampaign_unavailable", r.text


async def test_health_is_public_and_says_the_auth_mode(api: Api) -> None:
    r = await api.client.get("/api/health")
    assert r.status_code == 200 and r.json()["auth"] == "entra"
    r = await api.client.get("/api/openapi.json")
    spec: dict[str, Any] = r.json()
    assert r.status_code == 200 and "/api/connections/{connection_id}/config" in spec["paths"]
    assert spec["components"]["securitySchemes"]


async def test_unconfigured_auth_is_a_503_not_an_open_door(api: Api, monkeypatch: Any) -> None:
    import httpx

    from sync_core.api import create_app

    for name in ("SYNC_LOCAL_AUTH", "SYNC_AUTH_TENANT_ID", "SYNC_AUTH_AUDIENCE"):
        monkeypatch.delenv(name, raising=False)

    async def runtime() -> Any:
        return api.rt

    app = create_app(runtime)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://api.test") as c:
        r = await c.get(f"{P}/config", headers=api.auth())
        assert r.status_code == 503 and r.json()["error"]["code"] == "auth_not_configured"
        assert (await c.get("/api/health")).json()["auth"] == "unconfigured"


async def test_consent_settings_are_validated_and_their_change_audited(api: Api) -> None:
    """issue 17: an opt-in that would travel to no list is refused naming the field; allowing it is audited."""
    await api.connect()
    h = api.auth()
    first = (await api.client.get(f"{P}/config", headers=h)).json()
    config = first["config"]
    assert config["consent"]["opt_in"] == "never"
    config["consent"]["opt_in"] = "from_dynamics"
    r = await api.client.put(f"{P}/config", json={"config": config}, headers=h)
    assert r.status_code == 422 and r.json()["error"]["field"] == "consent.opt_in", r.text
    config["consent"]["opt_in"] = "sometimes"
    r = await api.client.put(f"{P}/config", json={"config": config}, headers=h)
    assert r.status_code == 422 and "consent" in r.text and "opt_in" in r.text, r.text
    config["consent"]["opt_in"] = "from_dynamics"
    config["push"]["list_ids"] = [1]
    r = await api.client.put(f"{P}/config", json={"config": config}, headers=h)
    assert r.status_code == 200, r.text
    audit = (await api.client.get(f"{P}/audit", headers=h)).json()
    change = next(a for a in audit if a["action"] == "update_config")
    assert (change["before"]["consent"]["opt_in"], change["after"]["consent"]["opt_in"]) == ("never", "from_dynamics")


def _unconfigured_app(monkeypatch: Any, runtime: Any) -> httpx.AsyncClient:
    """An app built with no sign-in settings in the environment, over ``runtime``."""
    for name in ("SYNC_LOCAL_AUTH", "SYNC_AUTH_TENANT_ID", "SYNC_AUTH_AUDIENCE"):
        monkeypatch.delenv(name, raising=False)
    app = create_app(runtime)
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://api.test")


async def test_health_is_503_naming_what_is_not_configured(monkeypatch: Any) -> None:
    async def no_storage() -> Any:
        raise Settings.from_env({}).storage_problem() or AssertionError("storage looks configured")

    async with _unconfigured_app(monkeypatch, no_storage) as c:
        r = await c.get("/api/health")
    body = r.json()
    assert r.status_code == 503 and body["status"] == "not_ready", body
    assert any("SYNC_STORAGE_ACCOUNT_URL" in p for p in body["problems"]), body
    assert any("SYNC_AUTH_TENANT_ID" in p for p in body["problems"]), body


async def test_health_is_503_when_only_auth_is_missing(api: Api, monkeypatch: Any) -> None:
    async def runtime() -> Any:
        return api.rt

    async with _unconfigured_app(monkeypatch, runtime) as c:
        r = await c.get("/api/health")
    assert r.status_code == 503 and [p.split(":")[0] for p in r.json()["problems"]] == ["auth"], r.text


async def test_the_interactive_docs_are_served(api: Api) -> None:
    r = await api.client.get("/api/docs")
    assert r.status_code == 200 and "swagger" in r.text.lower() and "/api/openapi.json" in r.text
    spec = (await api.client.get("/api/openapi.json")).json()
    assert "/api/docs" not in spec["paths"]
