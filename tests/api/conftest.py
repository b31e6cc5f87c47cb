"""The API harness: real Azurite, both sandboxes in-process, Entra-style tokens signed by a test key.

The test key's JWKS is served over httpx (a MockTransport standing in for login.microsoftonline.com),
so the validator runs exactly the path it runs in Azure.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

from sync_core.api import create_app
from sync_core.api.auth import AuthSettings, JwksCache, TokenValidator
from sync_core.api.clients import ApiClients
from sync_core.clock import FakeClock
from sync_core.engine import DefaultClientFactory
from sync_core.runtime import Runtime, build_runtime
from sync_core.settings import Settings
from sync_core.store import LocalSecretStore

TENANT = "7b0a1e2c-1111-4a4a-9c9c-0123456789ab"
OTHER_TENANT = "7b0a1e2c-2222-4a4a-9c9c-0123456789ab"
AUDIENCE = "api://ac-dynamics-sync-tests"
AC_URL = "http://ac.sandbox"
DV_URL = "http://dataverse.sandbox"
DV_TOKEN = "sandbox-dynamics-token"
KID = "test-key-1"
CID = "contoso"


@pytest.fixture(scope="session")
def signing_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="session")
def other_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def jwks_transport(key: rsa.RSAPrivateKey, kid: str = KID) -> httpx.MockTransport:
    jwk = json.loads(RSAAlgorithm.to_jwk(key.public_key()))
    jwk.update(kid=kid, use="sig", alg="RS256")

    def handler(request: httpx.Request) -> httpx.Response:
        assert request.url.path == f"/{TENANT}/discovery/v2.0/keys"
        return httpx.Response(200, json={"keys": [jwk]})

    return httpx.MockTransport(handler)


def mint_token(key: rsa.RSAPrivateKey, object_id: str, *, now: float, name: str = "someone", tenant: str = TENANT,
               audience: str = AUDIENCE, lifetime: float = 3600.0, kid: str = KID) -> str:
    """An access token shaped like Entra's v2.0 tokens."""
    claims = {"iss": f"https://login.microsoftonline.com/{tenant}/v2.0", "aud": audience, "tid": tenant,
              "oid": object_id, "preferred_username": name, "iat": int(now), "nbf": int(now),
              "exp": int(now + lifetime)}
    return jwt.encode(claims, key, algorithm="RS256", headers={"kid": kid})


def connect_body(ac_key: str) -> dict[str, Any]:
    return {"display_name": "Contoso", "activecampaign_api_url": AC_URL, "activecampaign_api_key": ac_key,
            "dynamics_environment_url": DV_URL, "dynamics_auth": {"kind": "static_token", "secret_name": "dv-token"},
            "dynamics_secret": DV_TOKEN}


class HostRouter(httpx.AsyncBaseTransport):
    """The sandboxes by host name; any other host is unreachable (as a wrong URL would be)."""

    def __init__(self, apps: Mapping[str, httpx.AsyncBaseTransport]) -> None:
        self.apps = apps

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        app = self.apps.get(request.url.host)
        if app is None:
            raise httpx.ConnectError(f"cannot resolve {request.url.host}", request=request)
        return await app.handle_async_request(request)


@dataclass
class Api:
    client: httpx.AsyncClient
    app: Any
    ac_app: Any
    dv_app: Any
    rt: Runtime
    clock: FakeClock
    key: rsa.RSAPrivateKey
    ac_key: str
    secrets_path: Path
    other_key: Any = None

    @property
    def dv(self) -> Any:
        return self.dv_app.state.dataverse

    @property
    def ac(self) -> Any:
        return self.ac_app.state.ac

    def user(self, full_name: str) -> dict[str, Any]:
        return next(u for u in self.dv.rows["systemuser"].values() if u["fullname"] == full_name)

    def token(self, who: str | None = "Alex Admin", *, key: rsa.RSAPrivateKey | None = None, tenant: str = TENANT,
              audience: str = AUDIENCE, lifetime: float = 3600.0, oid: str | None = None, kid: str = KID,
              issued_ago: float = 0.0) -> str:
        object_id = oid or self.user(who or "")["azureactivedirectoryobjectid"]
        return mint_token(key or self.key, object_id, now=self.clock.time() - issued_ago, name=who or "someone",
                          tenant=tenant, audience=audience, lifetime=lifetime, kid=kid)

    def auth(self, who: str | None = "Alex Admin", **kw: Any) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token(who, **kw)}"}

    def connect_body(self, **over: Any) -> dict[str, Any]:
        body = connect_body(self.ac_key)
        body.update(over)
        return body

    async def connect(self, cid: str = CID) -> dict[str, Any]:
        r = await self.client.put(f"/api/connections/{cid}/connection", json=self.connect_body(), headers=self.auth())
        assert r.status_code == 200, r.text
        return dict(r.json())

    def give_team_role(self, user_name: str, role: str, team_name: str = "AC admins team") -> None:
        """A new team in the user's business unit holding ``role``, with the user in it."""
        user = self.user(user_name)
        bu = user["_businessunitid_value"]
        team = self.dv.create("team", {"name": team_name, "teamtype": 0, "isdefault": False},
                              binds={"businessunitid": ("businessunit", bu)})
        role_id = next(r["roleid"] for r in self.dv.rows["role"].values()
                       if r["name"] == role and r["_businessunitid_value"] == bu)
        self.dv.links["teamroles_association"].add((team["teamid"], role_id))
        self.dv.links["teammembership_association"].add((user["systemuserid"], team["teamid"]))


@pytest.fixture
async def api(storage_connection_string: str, table_prefix: str, clock: FakeClock, tmp_path: Path,
              signing_key: rsa.RSAPrivateKey) -> AsyncIterator[Api]:
    from sandbox.activecampaign import create_app as ac_create_app
    from sandbox.dynamics import create_app as dv_create_app

    ac_key = f"ac-{uuid.uuid4().hex}{uuid.uuid4().hex[:8]}"
    ac_app = ac_create_app(clock=clock, api_token=ac_key, seed=1)
    dv_app = dv_create_app(clock=clock, tokens=(DV_TOKEN,), seed=1, seed_contacts=60)
    asgi = {"ac.sandbox": httpx.ASGITransport(app=ac_app), "dataverse.sandbox": httpx.ASGITransport(app=dv_app)}
    ac_t = dv_t = HostRouter(asgi)
    settings = Settings(storage_account_url=None, queue_account_url=None,
                        storage_connection_string=storage_connection_string, table_prefix=table_prefix,
                        managed_identity_client_id=None, key_vault_uri=None,
                        local_secrets_path=str(tmp_path / "secrets.json"), in_azure=False)
    secrets = LocalSecretStore(tmp_path / "secrets.json")
    rt = build_runtime(settings, clock=clock, secrets=secrets, clients=None)
    factory = DefaultClientFactory(store=rt.store, secrets=secrets, clock=clock, ac_transport=ac_t, dv_transport=dv_t,
                                   dv_options={"page_size": 4})
    rt.engine = type(rt.engine)(rt.store, factory, clock=clock)
    await rt.ready()
    auth_settings = AuthSettings.entra(TENANT, AUDIENCE, frozenset({TENANT, OTHER_TENANT.replace("2222", "3333")}))
    validator = TokenValidator(auth_settings, JwksCache(auth_settings.jwks_uri, transport=jwks_transport(signing_key),
                                                        clock=clock), clock)

    async def runtime() -> Runtime:
        return rt

    app = create_app(runtime, auth=validator, clients=ApiClients(ac_transport=ac_t, dv_transport=dv_t),
                     preview_wait_seconds=30.0)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://api.test") as client:
        yield Api(client=client, app=app, ac_app=ac_app, dv_app=dv_app, rt=rt, clock=clock, key=signing_key,
                  ac_key=ac_key, secrets_path=tmp_path / "secrets.json")
    await rt.close()
