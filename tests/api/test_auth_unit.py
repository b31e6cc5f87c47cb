"""Token validation details: key rotation, issuers, algorithms, the local mode and its refusal in Azure."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

from sync_core.api import create_app
from sync_core.api.auth import (
    LOCAL_TENANT,
    AuthSettings,
    JwksCache,
    LocalSigner,
    TokenValidator,
    Unauthenticated,
    local_validator,
    validator_from_env,
)
from sync_core.clock import FakeClock
from tests.api.conftest import AUDIENCE, TENANT, mint_token

OID = "5f0d7c3e-0000-4000-8000-00000000beef"


class RotatingJwks:
    """The issuer's key set; the test rotates it and counts fetches."""

    def __init__(self) -> None:
        self.keys: dict[str, rsa.RSAPrivateKey] = {}
        self.fetches = 0

    def add(self, kid: str) -> rsa.RSAPrivateKey:
        self.keys[kid] = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        return self.keys[kid]

    def transport(self) -> httpx.MockTransport:
        def handler(request: httpx.Request) -> httpx.Response:
            self.fetches += 1
            out = []
            for kid, key in self.keys.items():
                jwk = json.loads(RSAAlgorithm.to_jwk(key.public_key()))
                jwk.update(kid=kid)
                out.append(jwk)
            return httpx.Response(200, json={"keys": out})

        return httpx.MockTransport(handler)


def validator(jwks: RotatingJwks, clock: FakeClock) -> TokenValidator:
    s = AuthSettings.entra(TENANT, AUDIENCE)
    return TokenValidator(s, JwksCache(s.jwks_uri, transport=jwks.transport(), clock=clock), clock)


async def test_unknown_key_id_refetches_the_keys_once_a_minute_at_most(clock: FakeClock) -> None:
    jwks = RotatingJwks()
    k1 = jwks.add("k1")
    v = validator(jwks, clock)
    assert (await v.validate(mint_token(k1, OID, now=clock.time(), kid="k1"))).object_id == OID
    assert (await v.validate(mint_token(k1, OID, now=clock.time(), kid="k1"))).tenant_id == TENANT
    assert jwks.fetches == 1  # cached
    clock.advance(120)
    k2 = jwks.add("k2")  # the issuer rotates
    assert (await v.validate(mint_token(k2, OID, now=clock.time(), kid="k2"))).object_id == OID
    assert jwks.fetches == 2
    for _ in range(5):  # garbage key ids do not hammer the issuer
        with pytest.raises(Unauthenticated):
            await v.validate(mint_token(k2, OID, now=clock.time(), kid="bogus"))
    assert jwks.fetches == 2


async def test_issuer_algorithm_and_claims(clock: FakeClock) -> None:
    jwks = RotatingJwks()
    k = jwks.add("k")
    v = validator(jwks, clock)
    now = clock.time()
    base = {"aud": AUDIENCE, "tid": TENANT, "oid": OID, "scp": "access_as_user", "iat": int(now), "nbf": int(now),
            "exp": int(now + 600)}
    v1 = jwt.encode({**base, "iss": f"https://sts.windows.net/{TENANT}/"}, k, algorithm="RS256",
                    headers={"kid": "k"})
    assert (await v.validate(v1)).object_id == OID
    for bad in ({**base, "iss": "https://login.microsoftonline.com/someone-else/v2.0"},
                {**base, "iss": f"https://sts.windows.net/{TENANT}/", "oid": None},
                {**base, "iss": f"https://sts.windows.net/{TENANT}/", "nbf": int(now + 3600)}):
        claims = {k_: v_ for k_, v_ in bad.items() if v_ is not None}
        with pytest.raises(Unauthenticated):
            await v.validate(jwt.encode(claims, k, algorithm="RS256", headers={"kid": "k"}))
    hs = jwt.encode({**base, "iss": f"https://sts.windows.net/{TENANT}/"}, "shared-secret-" * 3, algorithm="HS256",
                    headers={"kid": "k"})
    with pytest.raises(Unauthenticated, match="algorithm"):
        await v.validate(hs)
    with pytest.raises(Unauthenticated, match="malformed"):
        await v.validate("not.a.jwt")


async def test_local_mode_signs_and_accepts_its_own_tokens(tmp_path: Path, clock: FakeClock) -> None:
    signer = LocalSigner.load_or_create(tmp_path / "key.pem")
    assert (tmp_path / "key.pem").stat().st_mode & 0o777 == 0o600
    v = local_validator(LocalSigner.load_or_create(tmp_path / "key.pem"), clock=clock)  # same key, reloaded
    caller = await v.validate(signer.issue(object_id=OID, now=clock.time()))
    assert (caller.object_id, caller.tenant_id, v.mode) == (OID, LOCAL_TENANT, "local")
    with pytest.raises(Unauthenticated):
        await v.validate(LocalSigner.generate().issue(object_id=OID, now=clock.time()))


def test_local_mode_refuses_to_start_in_azure(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    with pytest.raises(RuntimeError, match="Azure"):
        validator_from_env({"SYNC_LOCAL_AUTH": "1", "WEBSITE_INSTANCE_ID": "abc"})
    monkeypatch.setenv("SYNC_LOCAL_AUTH", "true")
    monkeypatch.setenv("WEBSITE_INSTANCE_ID", "abc")
    with pytest.raises(RuntimeError, match="refusing"):
        create_app()
    with pytest.raises(RuntimeError, match="SYNC_AUTH_TENANT_ID"):
        validator_from_env({})
    v = validator_from_env({"SYNC_AUTH_TENANT_ID": TENANT.upper(), "SYNC_AUTH_AUDIENCE": AUDIENCE,
                            "SYNC_AUTH_ALLOWED_TENANTS": f"{TENANT}, other"})
    assert v.settings.allowed_tenants == {TENANT, "other"} and v.mode == "entra"


def test_local_mode_says_so_loudly(monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
                                   caplog: pytest.LogCaptureFixture) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SYNC_LOCAL_AUTH", "1")
    monkeypatch.delenv("WEBSITE_INSTANCE_ID", raising=False)
    monkeypatch.delenv("WEBSITE_SITE_NAME", raising=False)
    create_app()
    assert any("LOCAL AUTH MODE" in r.getMessage() and r.levelname == "WARNING" for r in caplog.records)


def _signed(k: rsa.RSAPrivateKey, claims: dict[str, object]) -> str:
    return jwt.encode(claims, k, algorithm="RS256", headers={"kid": "k"})


def _raw_signed(k: rsa.RSAPrivateKey, payload: str) -> str:
    """A token whose payload is this exact JSON text (json.dumps cannot write NaN/Infinity literals as Entra might)."""
    import base64

    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import padding

    def b64(b: bytes) -> str:
        return base64.urlsafe_b64encode(b).rstrip(b"=").decode()

    head = b64(json.dumps({"alg": "RS256", "kid": "k", "typ": "JWT"}).encode()) + "." + b64(payload.encode())
    sig = k.sign(head.encode(), padding.PKCS1v15(), hashes.SHA256())
    return head + "." + b64(sig)


async def test_delegated_tokens_need_the_scope_and_app_tokens_the_app_role(clock: FakeClock) -> None:
    jwks = RotatingJwks()
    k = jwks.add("k")
    v = validator(jwks, clock)
    now = clock.time()
    base = {"iss": f"https://login.microsoftonline.com/{TENANT}/v2.0", "aud": AUDIENCE, "tid": TENANT, "oid": OID,
            "iat": int(now), "nbf": int(now), "exp": int(now + 600)}
    assert await v.validate(_signed(k, {**base, "scp": "User.Read access_as_user"}))
    for scp in ("User.Read", "access_as_user_x", "", ["access_as_user"]):
        with pytest.raises(Unauthenticated, match="scope"):
            await v.validate(_signed(k, {**base, "scp": scp}))
    # App-only (no scp): any app of the tenant can get a token for the audience; only an assigned one has the role.
    assert await v.validate(_signed(k, {**base, "roles": ["Other", "Sync.Access"], "idtyp": "app"}))
    for roles in (None, [], ["Other"], "Sync.Access"):
        claims = {**base, "roles": roles} if roles is not None else base
        with pytest.raises(Unauthenticated, match="app role"):
            await v.validate(_signed(k, claims))
    # The role does not stand in for the scope on a delegated token.
    with pytest.raises(Unauthenticated, match="scope"):
        await v.validate(_signed(k, {**base, "scp": "User.Read", "roles": ["Sync.Access"]}))
    custom = TokenValidator(AuthSettings.entra(TENANT, AUDIENCE, scope="Sync.Use", app_role="Sync.Run"), v.keys, clock)
    assert await custom.validate(_signed(k, {**base, "scp": "Sync.Use"}))
    assert await custom.validate(_signed(k, {**base, "roles": ["Sync.Run"]}))
    with pytest.raises(Unauthenticated):
        await custom.validate(_signed(k, {**base, "scp": "access_as_user"}))


async def test_token_times_must_be_json_numbers_within_a_minute_of_leeway(clock: FakeClock) -> None:
    jwks = RotatingJwks()
    k = jwks.add("k")
    v = validator(jwks, clock)
    now = int(clock.time())
    base = {"iss": f"https://login.microsoftonline.com/{TENANT}/v2.0", "aud": AUDIENCE, "tid": TENANT, "oid": OID,
            "scp": "access_as_user", "iat": now, "nbf": now, "exp": now + 600}
    for name in ("exp", "nbf", "iat"):
        for bad in ("inf", str(now + 600), True, None, [now]):
            if bad is None and name == "exp":
                continue
            with pytest.raises(Unauthenticated):
                await v.validate(_signed(k, {**base, name: bad}))
    for literal in ("Infinity", "NaN", "-Infinity"):
        payload = json.dumps({k_: v_ for k_, v_ in base.items() if k_ != "exp"})[:-1] + f', "exp": {literal}}}'
        with pytest.raises(Unauthenticated, match="not a number"):
            await v.validate(_raw_signed(k, payload))
    assert await v.validate(_raw_signed(k, json.dumps(base)))  # the raw signer itself is sound
    assert await v.validate(_signed(k, {**base, "exp": now - 59}))  # 59 s of skew: still fine
    with pytest.raises(Unauthenticated, match="expired"):
        await v.validate(_signed(k, {**base, "exp": now - 61}))
    assert await v.validate(_signed(k, {**base, "nbf": now + 59, "iat": now + 59}))
    with pytest.raises(Unauthenticated, match="not valid yet"):
        await v.validate(_signed(k, {**base, "nbf": now + 61}))
    with pytest.raises(Unauthenticated, match="future"):
        await v.validate(_signed(k, {**base, "iat": now + 61}))


def test_local_tokens_carry_the_scope(clock: FakeClock) -> None:
    claims = jwt.decode(LocalSigner.generate().issue(object_id=OID, now=clock.time()), options={"verify_signature":
                                                                                                False})
    assert claims["scp"] == "access_as_user"


def test_scope_and_app_role_come_from_the_settings() -> None:
    v = validator_from_env({"SYNC_AUTH_TENANT_ID": TENANT, "SYNC_AUTH_AUDIENCE": AUDIENCE,
                            "SYNC_AUTH_SCOPE": "Sync.Use", "SYNC_AUTH_APP_ROLE": "Sync.Run"})
    assert (v.settings.scope, v.settings.app_role) == ("Sync.Use", "Sync.Run")
    v = validator_from_env({"SYNC_AUTH_TENANT_ID": TENANT, "SYNC_AUTH_AUDIENCE": AUDIENCE})
    assert (v.settings.scope, v.settings.app_role) == ("access_as_user", "Sync.Access")
