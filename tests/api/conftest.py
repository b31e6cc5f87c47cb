"""The API harness: real Azurite, both sandboxes in-process, Entra-style tokens signed by a test key.

The test key's JWKS is served over httpx (a MockTransport standing in for login.microsoftonline.com),
so the validator runs exactly the path it runs in Azure.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

from sync_core.api import create_app
from sync_core.api.auth import AuthSettings, JwksCache, TokenValidator
from sync_core.clock import FakeClock
from sync_core.dynamics import StaticTokenCredential
from sync_core.engine import ClientFactory
from sync_core.model.hosts import HostPolicy
from sync_core.runtime import Runtime, build_runtime
from sync_core.settings import Settings
from sync_core.store import LocalSecretStore

TENANT = "7b0a1e2c-1111-4a4a-9c9c-0123456789ab"
OTHER_TENANT = "7b0a1e2c-2222-4a4a-9c9c-0123456789ab"
AUDIENCE = "api://ac-dynamics-sync-tests"
AC_URL = "http://ac.sandbox"
DV_URL = "http://dataverse.sandbox"
# Deployed (Azure) mode: hosts the policy allows, routed to the same stand-ins, resolving to a public address.
AZ_AC_URL = "https://contoso.api-us1.com"
AZ_DV_URL = "https://contoso.crm4.dynamics.com"
PUBLIC_ADDRESS = "20.50.2.10"
SCOPE = "access_as_user"
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
               audience: str = AUDIENCE, lifetime: float = 3600.0, kid: str = KID,
               **claims_over: Any) -> str:
    """An access token shaped like Entra's v2.0 delegated tokens (``claims_over`` replaces or, with None, drops)."""
    claims: dict[str, Any] = {"iss": f"https://login.microsoftonline.com/{tenant}/v2.0", "aud": audience,
                              "tid": tenant, "oid": object_id, "preferred_username": name, "scp": SCOPE,
                              "iat": int(now), "nbf": int(now), "exp": int(now + lifetime)}
    claims.update(claims_over)
    claims = {k: v for k, v in claims.items() if v is not None}
    return jwt.encode(claims, key, algorithm="RS256", headers={"kid": kid})


def connect_body(ac_key: str, ac_url: str = AC_URL, dv_url: str = DV_URL) -> dict[str, Any]:
    return {"display_name": "Contoso", "activecampaign_api_url": ac_url, "activecampaign_api_key": ac_key,
            "dynamics_environment_url": dv_url, "dynamics_auth": {"kind": "static_token"},
            "dynamics_secret": DV_TOKEN}


class HostRouter(httpx.AsyncBaseTransport):
    """The sandboxes by host name; loopback goes out for real (capture servers); any other host is unreachable."""

    def __init__(self, apps: Mapping[str, httpx.AsyncBaseTransport]) -> None:
        self.apps = apps
        self.network = httpx.AsyncHTTPTransport()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if request.url.host in ("127.0.0.1", "localhost"):
            return await self.network.handle_async_request(request)
        app = self.apps.get(request.url.host)
        if app is None:
            raise httpx.ConnectError(f"cannot resolve {request.url.host}", request=request)
        return await app.handle_async_request(request)


async def public_resolver(host: str) -> list[str]:
    """Deployed-mode tests: every allowed name resolves to one public address (no DNS in tests)."""
    return [PUBLIC_ADDRESS]


def app_identity(auth: Any) -> StaticTokenCredential:
    """The app's own identity in tests: the stand-in's app user token (no IMDS, no Entra)."""
    return StaticTokenCredential(DV_TOKEN)


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
    ac_url: str = AC_URL
    dv_url: str = DV_URL
    reads: dict[str, int] = field(default_factory=dict)

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
        body = connect_body(self.ac_key, self.ac_url, self.dv_url)
        body.update(over)
        return {k: v for k, v in body.items() if v is not None}

    def user_token(self, full_name: str) -> str:
        """A Dataverse access token for that user (the stand-in maps it to the systemuser, for WhoAmI)."""
        token = f"user-token-{self.user(full_name)['systemuserid']}"
        self.dv.tokens.add(token)
        self.dv.token_users[token] = self.user(full_name)["systemuserid"]
        return token

    async def connect(self, cid: str = CID, **over: Any) -> dict[str, Any]:
        r = await self.client.put(f"/api/connections/{cid}/connection", json=self.connect_body(**over),
                                  headers=self.auth())
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


@asynccontextmanager
async def api_harness(storage_connection_string: str, table_prefix: str, clock: FakeClock, tmp_path: Path,
                      signing_key: rsa.RSAPrivateKey, *, local: bool = True, seed_contacts: int = 60,
                      dv_page_size: int = 4) -> AsyncIterator[Api]:
    """The API over Azurite and the stand-ins; ``local=False``: deployed host rules (https names, public)."""
    from sandbox.activecampaign import create_app as ac_create_app
    from sandbox.dynamics import create_app as dv_create_app

    ac_key = f"ac-{uuid.uuid4().hex}{uuid.uuid4().hex[:8]}"
    ac_app = ac_create_app(clock=clock, api_token=ac_key, seed=1)
    dv_app = dv_create_app(clock=clock, tokens=(DV_TOKEN,), seed=1, seed_contacts=seed_contacts)
    ac_url, dv_url = (AC_URL, DV_URL) if local else (AZ_AC_URL, AZ_DV_URL)
    asgi = {httpx.URL(ac_url).host: httpx.ASGITransport(app=ac_app),
            httpx.URL(dv_url).host: httpx.ASGITransport(app=dv_app)}
    ac_t = dv_t = HostRouter(asgi)
    policy = HostPolicy(local=True) if local else HostPolicy(resolver=public_resolver)
    settings = Settings(storage_account_url=None, queue_account_url=None,
                        storage_connection_string=storage_connection_string, table_prefix=table_prefix,
                        managed_identity_client_id=None, key_vault_uri=None,
                        local_secrets_path=str(tmp_path / "secrets.json"), in_azure=not local, local_mode=local)
    secrets = LocalSecretStore(tmp_path / "secrets.json")
    rt = build_runtime(settings, clock=clock, secrets=secrets, clients=None)
    factory = ClientFactory(clock=clock, ac_transport=ac_t, dv_transport=dv_t, dv_options={"page_size": dv_page_size},
                            host_policy=policy, app_identity=app_identity)
    rt.engine = type(rt.engine)(rt.store, factory.bound(rt.store, secrets), clock=clock)
    rt.clients = factory
    await rt.ready()
    auth_settings = AuthSettings.entra(TENANT, AUDIENCE, frozenset({TENANT, OTHER_TENANT.replace("2222", "3333")}))
    validator = TokenValidator(auth_settings, JwksCache(auth_settings.jwks_uri, transport=jwks_transport(signing_key),
                                                        clock=clock), clock)

    async def runtime() -> Runtime:
        return rt

    clients = factory.interactive()
    app = create_app(runtime, auth=validator, clients=clients, preview_wait_seconds=30.0)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://api.test") as client:
        yield Api(client=client, app=app, ac_app=ac_app, dv_app=dv_app, rt=rt, clock=clock, key=signing_key,
                  ac_key=ac_key, secrets_path=tmp_path / "secrets.json", ac_url=ac_url, dv_url=dv_url)
    await rt.close()


@pytest.fixture
async def api(storage_connection_string: str, table_prefix: str, clock: FakeClock, tmp_path: Path,
              signing_key: rsa.RSAPrivateKey, sandbox_switches: dict[str, dict[str, Any]]) -> AsyncIterator[Api]:
    """The API; the readings of ``--sandbox-switch`` are set before the test's own."""
    async with api_harness(storage_connection_string, table_prefix, clock, tmp_path, signing_key) as a:
        a.ac.switches.set_many(sandbox_switches.get("ac", {}))
        a.dv.set_switches(sandbox_switches.get("dataverse", {}))
        yield a


@pytest.fixture
async def azure_api(storage_connection_string: str, table_prefix: str, clock: FakeClock, tmp_path: Path,
                    signing_key: rsa.RSAPrivateKey) -> AsyncIterator[Api]:
    """The same API with the deployed host rules: https on 443, allow-listed public hosts, no static_token."""
    async with api_harness(storage_connection_string, table_prefix, clock, tmp_path, signing_key, local=False) as a:
        yield a
