"""CORS that reads nothing for a foreign origin; roles recognised by template and root role; revocation in 60 s."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from sandbox.dynamics.roles import set_up_created_role
from tests.api.conftest import AZ_DV_URL, CID, Api

P = f"/api/connections/{CID}"


def count_reads(api: Api) -> dict[str, int]:
    """Counts the store's configuration reads (a spy around the real Azurite-backed methods)."""
    counts = {"reads": 0}
    store = api.rt.store

    def spy(fn: Callable[..., Any]) -> Callable[..., Any]:
        async def wrapped(*args: Any, **kwargs: Any) -> Any:
            counts["reads"] += 1
            return await fn(*args, **kwargs)
        return wrapped

    store.get_config = spy(store.get_config)  # type: ignore[method-assign]
    store.get_config_with_etag = spy(store.get_config_with_etag)  # type: ignore[method-assign]
    return counts


async def connect_deployed(api: Api) -> None:
    r = await api.client.put(f"{P}/connection", headers=api.auth(), json=api.connect_body(
        dynamics_auth={"kind": "default"}, dynamics_secret=None, dynamics_access_token=api.user_token("Alex Admin")))
    assert r.status_code == 200, r.text


def preflight(origin: str, method: str = "GET") -> dict[str, str]:
    return {"Origin": origin, "Access-Control-Request-Method": method,
            "Access-Control-Request-Headers": "authorization,content-type"}


async def test_a_foreign_origin_learns_nothing_and_costs_no_read(azure_api: Api) -> None:
    api = azure_api
    await connect_deployed(api)
    reads = count_reads(api)
    answers = set()
    for origin in ("https://evil.example", "http://contoso.crm4.dynamics.com", "https://contoso.crm4.dynamics.com:8443",
                   "null", "https://contoso.crm4.dynamics.com/path", "https://127.0.0.1"):
        for cid in (CID, "no-such-connection"):
            for method in ("GET", "PUT", "DELETE"):
                r = await api.client.options(f"/api/connections/{cid}/config", headers=preflight(origin, method))
                answers.add((r.status_code, r.content, tuple(sorted(k for k in r.headers if k.startswith("access")))))
            r = await api.client.get(f"/api/connections/{cid}/config", headers={**api.auth(), "Origin": origin})
            assert "Access-Control-Allow-Origin" not in r.headers
    assert answers == {(403, b"", ())}
    # Only the route's own dependency read the configuration (once per GET), never the CORS check.
    assert reads["reads"] == 12


async def test_the_connections_origin_may_read_and_any_dynamics_origin_may_create(azure_api: Api) -> None:
    api = azure_api
    await connect_deployed(api)
    reads = count_reads(api)
    r = await api.client.options(f"{P}/config", headers=preflight(AZ_DV_URL, "PUT"))
    assert r.status_code == 204 and r.headers["Access-Control-Allow-Origin"] == AZ_DV_URL
    assert reads["reads"] == 1
    r = await api.client.options(f"{P}/config", headers=preflight("https://other.crm.dynamics.com"))
    assert r.status_code == 403 and reads["reads"] == 2
    # Creating from the Dynamics page, before the connection exists: no read, the route judges the caller.
    for cid in ("not-yet", CID):
        r = await api.client.options(f"/api/connections/{cid}/connection",
                                     headers=preflight("https://other.crm.dynamics.com", "PUT"))
        assert r.status_code == 204
    assert reads["reads"] == 2
    r = await api.client.get(f"{P}/config", headers={**api.auth(), "Origin": AZ_DV_URL})
    assert r.status_code == 200 and r.headers["Access-Control-Allow-Origin"] == AZ_DV_URL


def add_role(api: Api, name: str, business_unit: str) -> dict[str, Any]:
    """A role created in Dynamics by someone who may (through the stand-in's create path: custom, its own root)."""
    role = api.dv.create("role", {"name": name}, {"businessunitid": ("businessunit", business_unit)})
    return set_up_created_role(api.dv, role)


def grant(api: Api, user: str, role_id: str) -> None:
    api.dv.links["systemuserroles_association"].add((api.user(user)["systemuserid"], role_id))


def roles_named(api: Api, name: str) -> list[dict[str, Any]]:
    return [r for r in api.dv.rows["role"].values() if r["name"] == name]


@pytest.mark.parametrize("reading", ["self", "null"])
async def test_a_role_that_only_has_the_name_grants_nothing(api: Api, reading: str) -> None:
    api.dv.set_switches({"root_role_parent_root": reading})
    await api.connect()
    tom = api.user("Tom Teamonly")
    bu = tom["_businessunitid_value"]
    api.clock.advance(1)  # created after the product's own roles
    fakes = [add_role(api, "System Administrator", bu), add_role(api, "ActiveCampaign Admin", bu),
             add_role(api, "ActiveCampaign Admin", api.dv.root_bu)]  # even in the root unit: not the oldest
    assert all(f["_roletemplateid_value"] is None for f in fakes)
    for f in fakes:
        grant(api, "Tom Teamonly", f["roleid"])
    r = await api.client.get(f"{P}/config", headers=api.auth("Tom Teamonly"))
    assert r.status_code == 403, r.text
    holders = (await api.client.get(f"{P}/users", headers=api.auth())).json()
    assert "Tom Teamonly" not in {h["user"]["full_name"] for h in holders if any(
        g["via"] == "direct" for g in h["roles"])}
    # The real ones: System Administrator by its template (the business unit's copy), and AC Admin by its root.
    sysadmin_copy = next(r for r in roles_named(api, "System Administrator")
                         if r["_businessunitid_value"] == bu and r["_roletemplateid_value"])
    grant(api, "Tom Teamonly", sysadmin_copy["roleid"])
    api.clock.advance(60)
    assert (await api.client.get(f"{P}/config", headers=api.auth("Tom Teamonly"))).status_code == 200
    emile = api.user("Émile Dubois")
    ac_admin_copy = next(r for r in roles_named(api, "ActiveCampaign Admin")
                         if r["_businessunitid_value"] == emile["_businessunitid_value"]
                         and r.get("_parentroleid_value"))
    grant(api, "Émile Dubois", ac_admin_copy["roleid"])
    api.clock.advance(60)
    assert (await api.client.get(f"{P}/config", headers=api.auth("Émile Dubois"))).status_code == 200


async def test_assigning_gives_the_copy_of_the_root_role_not_a_lookalike(api: Api) -> None:
    await api.connect()
    tom = api.user("Tom Teamonly")
    fake = add_role(api, "ActiveCampaign User", tom["_businessunitid_value"])
    r = await api.client.post(f"{P}/users", json={"user_id": tom["systemuserid"], "role": "ActiveCampaign User"},
                              headers=api.auth())
    assert r.status_code == 200, r.text
    held = {rid for uid, rid in api.dv.links["systemuserroles_association"] if uid == tom["systemuserid"]}
    assert fake["roleid"] not in held and len(held) == 1
    (role,) = (api.dv.rows["role"][rid] for rid in held)
    assert role["_businessunitid_value"] == tom["_businessunitid_value"] and role.get("_parentroleid_value")


async def test_a_revoked_role_is_honoured_within_a_minute(api: Api) -> None:
    await api.connect()
    marie = api.user("Marie Müller")
    assert (await api.client.get(f"{P}/config", headers=api.auth("Marie Müller"))).status_code == 200
    # Revoked in Dynamics directly (not through this API, which would drop the cache at once).
    api.dv.links["systemuserroles_association"] = {
        (u, r) for u, r in api.dv.links["systemuserroles_association"] if u != marie["systemuserid"]}
    api.clock.advance(30)
    assert (await api.client.get(f"{P}/config", headers=api.auth("Marie Müller"))).status_code == 200  # cached
    api.clock.advance(30)
    r = await api.client.get(f"{P}/config", headers=api.auth("Marie Müller"))
    assert r.status_code == 403, r.text
