"""The local sign-in authority: the flows MSAL runs against it, and tokens the API's local mode accepts."""

from __future__ import annotations

import hashlib
import secrets
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import jwt
import pytest

from devtools.oidc_stub import SESSION_COOKIE, StubConfig, User, b64url, create_app, local_signing_key, static_directory
from sync_core.api.auth import LOCAL_AUDIENCE, LOCAL_TENANT, LocalSigner, Unauthenticated, local_validator

REDIRECT = "http://org.test/WebResources/acds_/auth/redirect.html"
SELLER = User("sam@contoso.test", "9a1d0c4b-1111-4000-8000-00000000000a", "Sam Seller")
SCOPE = f"openid profile offline_access {LOCAL_AUDIENCE}/access_as_user"
BASE = f"/{LOCAL_TENANT}/oauth2/v2.0"


@pytest.fixture
def stub(tmp_path: Path) -> tuple[httpx.AsyncClient, StubConfig]:
    cfg = StubConfig(client_id="client-1", redirect_uris=frozenset({REDIRECT}),
                     directory=static_directory({SELLER.login: SELLER}), key=local_signing_key(tmp_path / "k.pem"))
    client = httpx.AsyncClient(transport=httpx.ASGITransport(app=create_app(cfg)), base_url="https://stub.test")
    return client, cfg


def pkce() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    return verifier, b64url(hashlib.sha256(verifier.encode()).digest())


def authorize_params(challenge: str, **over: str) -> dict[str, str]:
    return {"client_id": "client-1", "redirect_uri": REDIRECT, "response_type": "code", "scope": SCOPE,
            "state": "st-1", "nonce": "n-1", "code_challenge": challenge, "code_challenge_method": "S256",
            "login_hint": SELLER.login, "response_mode": "fragment", "client_info": "1", **over}


def fragment(response: httpx.Response) -> dict[str, str]:
    location = response.headers["location"]
    assert location.startswith(REDIRECT + "#")
    return {k: v[0] for k, v in parse_qs(urlsplit(location).fragment).items()}


async def sign_in(client: httpx.AsyncClient, challenge: str) -> dict[str, str]:
    page = await client.get(f"{BASE}/authorize", params=authorize_params(challenge))
    assert page.status_code == 200 and "Sam Seller" in page.text and "Continue" in page.text
    done = await client.post(f"{BASE}/authorize", data={**authorize_params(challenge), "consent": "continue"})
    assert done.status_code == 302
    return fragment(done)


async def test_discovery_names_the_tenant_endpoints(stub: tuple[httpx.AsyncClient, StubConfig]) -> None:
    client, _ = stub
    doc = (await client.get(f"/{LOCAL_TENANT}/v2.0/.well-known/openid-configuration")).json()
    assert doc["authorization_endpoint"] == f"https://stub.test{BASE}/authorize"
    assert doc["token_endpoint"] == f"https://stub.test{BASE}/token"
    assert doc["code_challenge_methods_supported"] == ["S256"]
    keys = (await client.get(doc["jwks_uri"].removeprefix("https://stub.test"))).json()["keys"]
    assert [k["kid"] for k in keys] == ["local-signing-key"]


async def test_code_with_pkce_gives_a_token_the_api_local_mode_accepts(stub: tuple[httpx.AsyncClient, StubConfig],
                                                                       tmp_path: Path) -> None:
    client, cfg = stub
    verifier, challenge = pkce()
    answer = await sign_in(client, challenge)
    assert answer["state"] == "st-1" and "client_info" in answer
    r = await client.post(f"{BASE}/token", data={"client_id": "client-1", "grant_type": "authorization_code",
                                                  "code": answer["code"], "redirect_uri": REDIRECT,
                                                  "code_verifier": verifier, "scope": SCOPE})
    assert r.status_code == 200, r.text
    body = r.json()
    claims = jwt.decode(body["access_token"], options={"verify_signature": False})
    assert claims["scp"] == "access_as_user" and claims["aud"] == LOCAL_AUDIENCE
    assert claims["iss"] == f"https://login.microsoftonline.com/{LOCAL_TENANT}/v2.0"
    caller = await local_validator(LocalSigner(cfg.key)).validate(body["access_token"])
    assert (caller.object_id, caller.tenant_id) == (SELLER.object_id, LOCAL_TENANT)
    id_claims = jwt.decode(body["id_token"], options={"verify_signature": False})
    assert id_claims["nonce"] == "n-1" and id_claims["aud"] == "client-1"
    # Another key (another API's local mode) does not accept it.
    with pytest.raises(Unauthenticated):
        await local_validator(LocalSigner.generate()).validate(body["access_token"])
    # The code is single-use.
    again = await client.post(f"{BASE}/token", data={"client_id": "client-1", "grant_type": "authorization_code",
                                                      "code": answer["code"], "redirect_uri": REDIRECT,
                                                      "code_verifier": verifier})
    assert again.status_code == 400 and again.json()["error"] == "invalid_grant"


async def test_a_wrong_verifier_or_redirect_is_refused(stub: tuple[httpx.AsyncClient, StubConfig]) -> None:
    client, _ = stub
    _, challenge = pkce()
    answer = await sign_in(client, challenge)
    r = await client.post(f"{BASE}/token", data={"client_id": "client-1", "grant_type": "authorization_code",
                                                  "code": answer["code"], "redirect_uri": REDIRECT,
                                                  "code_verifier": "not-the-verifier"})
    assert r.status_code == 400 and "code_verifier" in r.json()["error_description"]
    bad = await client.get(f"{BASE}/authorize", params=authorize_params(challenge, redirect_uri="https://evil.test/"))
    assert bad.status_code == 400
    plain = await client.get(f"{BASE}/authorize", params=authorize_params(challenge, code_challenge_method="plain"))
    assert fragment(plain)["error"] == "invalid_request"


async def test_prompt_none_needs_the_session_of_the_hinted_user(stub: tuple[httpx.AsyncClient, StubConfig]) -> None:
    client, _ = stub
    _, challenge = pkce()
    silent = await client.get(f"{BASE}/authorize", params=authorize_params(challenge, prompt="none"))
    assert fragment(silent)["error"] == "login_required"
    await sign_in(client, challenge)
    assert client.cookies.get(SESSION_COOKIE)
    silent = await client.get(f"{BASE}/authorize", params=authorize_params(challenge, prompt="none"))
    assert "code" in fragment(silent)
    other = await client.get(f"{BASE}/authorize",
                             params=authorize_params(challenge, prompt="none", login_hint="nobody@contoso.test"))
    assert fragment(other)["error"] == "login_required"
