"""Every bearer route × every kind of caller gets its documented status."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.api.conftest import CID, OTHER_TENANT, Api
from tests.api.sales_helpers import catalogue, owned_lead

ALLOWED_OTHER_TENANT = OTHER_TENANT.replace("2222", "3333")
P = f"/api/connections/{CID}"
NO_RECORD = "5e1f0000-0000-4000-8000-000000000000"  # a Dynamics id the sync never linked


def routes(api: Api) -> list[tuple[str, str, Any, int]]:
    """(method, path, body, status for an admin) — destructive ones last."""
    emile = api.user("Émile Dubois")["systemuserid"]
    alex = api.user("Alex Admin")["systemuserid"]
    entities = {"contacts": {"enabled": True, "direction": "push"}}
    doc = {"entities": entities, "push": {}, "frequency": "1h"}
    lead = f"{P}/records/lead/{owned_lead(api, 'Sam Seller')}"  # Sam's own lead: Émile may not read it
    return [
        ("GET", f"{P}/me", None, 200),
        ("GET", f"{lead}/marketing", None, 200),
        ("GET", f"{lead}/activities", None, 200),
        ("GET", f"{P}/automations?search=e", None, 200),
        ("GET", f"{P}/campaigns", None, 200),
        ("POST", f"{lead}/automations", {"automation_id": "1"}, 200),
        ("POST", f"{lead}/campaigns", {"campaign_id": "1"}, 200),
        ("GET", f"{P}/connection", None, 200),
        ("PUT", f"{P}/connection", api.connect_body(), 200),
        ("GET", f"{P}/users/search?q=a", None, 200),
        ("GET", f"{P}/users", None, 200),
        ("POST", f"{P}/users", {"user_id": emile, "role": "ActiveCampaign User"}, 200),
        ("DELETE", f"{P}/users/{alex}/roles/user", None, 204),
        ("GET", f"{P}/config", None, 200),
        ("PUT", f"{P}/config", {"config": {"entities": entities}}, 200),
        ("GET", f"{P}/fields/contact?field=firstname", None, 200),
        ("GET", f"{P}/vocabulary", None, 200),
        ("POST", f"{P}/config/preview", {"config": {"entities": entities}}, 200),
        ("GET", f"{P}/jobs/00000000000000000000000000000000", None, 404),
        ("GET", f"{P}/export", None, 200),
        ("POST", f"{P}/import", {"document": doc}, 200),
        ("GET", f"{P}/sync", None, 200),
        ("PUT", f"{P}/sync", {"frequency": "2h"}, 200),
        ("POST", f"{P}/sync/now", None, 409),
        ("GET", f"{P}/status", None, 200),
        ("GET", f"{P}/runs", None, 200),
        ("GET", f"{P}/errors", None, 200),
        ("POST", f"{P}/errors/retry", {}, 200),
        ("GET", f"{P}/audit", None, 200),
        ("GET", f"{P}/conflicts?entity=contact", None, 200),
        ("GET", f"{P}/records/contact/{NO_RECORD}/history", None, 404),
        ("POST", f"{P}/erasure", {"email": "nobody@example.org"}, 200),
        ("POST", f"{P}/suppressions/lift", {"email": "nobody@example.org"}, 200),
        ("GET", f"{P}/hooks/ac", None, 200),
        ("POST", f"{P}/hooks/ac/rotate", None, 200),
        ("DELETE", f"{P}/connection", None, 200),
    ]


# Seller routes: what the callers refused admin routes get there instead.
_SELLER = {"ActiveCampaign User": 200, "ActiveCampaign User through a team": 200}
_RECORD = {**_SELLER, "ActiveCampaign User through a team": 403}  # cannot read Sam's lead in Dynamics
_R = "/api/connections/{connection_id}/records/{entity}/{dynamics_id}"
OVERRIDES: dict[tuple[str, str], dict[str, int]] = {
    ("GET", "/api/connections/{connection_id}/me"): {**_SELLER, "user with no role": 200},
    ("GET", "/api/connections/{connection_id}/automations"): _SELLER,
    ("GET", "/api/connections/{connection_id}/campaigns"): _SELLER,
    ("GET", f"{_R}/marketing"): _RECORD, ("GET", f"{_R}/activities"): _RECORD,
    ("POST", f"{_R}/automations"): _RECORD, ("POST", f"{_R}/campaigns"): _RECORD,
}

Headers = Callable[[Api], dict[str, str]]
CASES: list[tuple[str, Headers, int | None]] = [
    ("no token", lambda a: {}, 401),
    ("not bearer", lambda a: {"Authorization": "Basic YWxleDpwdw=="}, 401),
    ("bad signature", lambda a: {"Authorization": f"Bearer {a.token(key=a.other_key)}"}, 401),
    ("expired", lambda a: a.auth(lifetime=600, issued_ago=3600), 401),
    ("wrong audience", lambda a: a.auth(audience="api://someone-else"), 401),
    ("other tenant", lambda a: a.auth(tenant=OTHER_TENANT), 401),
    ("allowed tenant, not the connection's", lambda a: a.auth(tenant=ALLOWED_OTHER_TENANT), 404),
    ("user with no role", lambda a: a.auth("Nina Norole"), 403),
    ("not a user of the connection's environment", lambda a: a.auth(None, oid="0badc0de-0000-4000-8000-000000000000"),
     404),
    ("role through a team", lambda a: a.auth("Tom Teamonly"), None),
    ("ActiveCampaign User", lambda a: a.auth("Sam Seller"), 403),
    ("ActiveCampaign User through a team", lambda a: a.auth("Émile Dubois"), 403),
    ("ActiveCampaign Admin", lambda a: a.auth("Marie Müller"), None),
    ("System Administrator", lambda a: a.auth("Alex Admin"), None),
]


@pytest.mark.parametrize(("case", "headers", "expected"), CASES, ids=[c[0] for c in CASES])
async def test_every_route_for_every_caller(api: Api, other_key: Any, case: str, headers: Headers,
                                            expected: int | None) -> None:
    api.other_key = other_key
    await api.connect()
    catalogue(api)
    # Tom's business-unit team gets ActiveCampaign Admin: his only admin role is through that team.
    api.give_team_role("Tom Teamonly", "ActiveCampaign Admin")
    table = routes(api)
    documented = {(path, m.upper()) for path, ops in api.app.openapi()["paths"].items() for m in ops
                  if path.startswith("/api/connections/")}
    covered = {(path_template(p), m) for m, p, _, _ in table}
    assert documented == covered, documented ^ covered
    for method, path, body, admin_status in table:
        want = admin_status if expected is None else expected
        want = OVERRIDES.get((method, path_template(path)), {}).get(case, want)
        r = await api.client.request(method, path, json=body, headers=headers(api))
        assert r.status_code == want, (case, method, path, r.status_code, r.text)
        if r.status_code >= 400:
            err = r.json()["error"]
            assert err["code"] and err["message"]
        if r.status_code == 401:
            assert r.headers["WWW-Authenticate"].startswith("Bearer")


def path_template(path: str) -> str:
    import re

    path = path.split("?")[0]
    path = path.replace(f"/connections/{CID}", "/connections/{connection_id}")
    path = re.sub(r"/users/[0-9a-f-]{36}/roles/[a-z]+$", "/users/{user_id}/roles/{role}", path)
    path = re.sub(r"/jobs/[0-9a-f]+$", "/jobs/{job_id}", path)
    path = re.sub(r"/records/[a-z]+/[0-9a-f-]{36}/([a-z]+)$", r"/records/{entity}/{dynamics_id}/\1", path)
    return re.sub(r"/fields/[a-z]+$", "/fields/{entity}", path)


# PUT …/connection on a connection id that does not exist yet: judged only with what the caller sends.
NEW_CONNECTION: dict[str, int] = {
    "no token": 401, "not bearer": 401, "bad signature": 401, "expired": 401, "wrong audience": 401,
    "other tenant": 401,
    "allowed tenant, not the connection's": 200,  # a new connection of the caller's own tenant
    "user with no role": 403, "not a user of the connection's environment": 403, "role through a team": 200,
    "ActiveCampaign User": 403, "ActiveCampaign User through a team": 403, "ActiveCampaign Admin": 200,
    "System Administrator": 200,
}
TOKEN_OWNER = {"user with no role": "Nina Norole", "role through a team": "Tom Teamonly",
               "ActiveCampaign User": "Sam Seller", "ActiveCampaign User through a team": "Émile Dubois",
               "ActiveCampaign Admin": "Marie Müller", "not a user of the connection's environment": "Nina Norole"}


@pytest.mark.parametrize("sign_in", ["caller's client secret", "app identity + caller's token"])
@pytest.mark.parametrize(("case", "headers", "expected"), CASES, ids=[c[0] for c in CASES])
async def test_connecting_a_new_connection_for_every_caller(api: Api, other_key: Any, case: str, headers: Headers,
                                                            expected: int | None, sign_in: str) -> None:
    api.other_key = other_key
    api.give_team_role("Tom Teamonly", "ActiveCampaign Admin")
    if sign_in == "caller's client secret":
        body = api.connect_body()
    else:  # the caller's own Dataverse token (the unknown object id sends someone else's: refused)
        body = api.connect_body(dynamics_auth={"kind": "default"}, dynamics_secret=None,
                                dynamics_access_token=api.user_token(TOKEN_OWNER.get(case, "Alex Admin")))
    r = await api.client.put("/api/connections/brand-new/connection", json=body, headers=headers(api))
    want = NEW_CONNECTION[case]
    assert r.status_code == want, (case, sign_in, r.status_code, r.text)
    saved = await api.rt.store.get_config("brand-new")
    assert (saved is not None) == (want == 200)
    if want >= 400:
        assert r.json()["error"]["code"] and r.json()["error"]["message"]
