"""Entra ID bearer tokens, validated in code (PyJWT), and the local signing mode.

A token is accepted when its signature verifies against the tenant's signing keys (JWKS, cached,
refetched when an unknown key id shows up, at most once a minute), its issuer is Entra's for the
token's own tenant, that tenant is allowed, the audience is ours, its times are JSON numbers and
it is valid now (by the injected clock, 60 s leeway at most), and it grants this API: a delegated
token (``scp``) carries the API's scope, an app-only token (no ``scp``) an app role the API
defines (``roles``) — any app of a tenant can get a token for the audience, only an assigned one
gets the role. The local mode signs tokens with a key of its own, says so in the log, and refuses
to run in Azure.
"""

from __future__ import annotations

import asyncio
import json
import logging
import math
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

from sync_core.clock import SYSTEM_CLOCK, Clock
from sync_core.settings import LOCAL_TENANT

log = logging.getLogger("sync_core.api.auth")

ALGORITHMS = ["RS256"]
LEEWAY_SECONDS = 60.0
"""Clock skew tolerated on exp/nbf/iat; never more than a minute."""
DEFAULT_SCOPE = "access_as_user"
DEFAULT_APP_ROLE = "Sync.Access"
JWKS_TTL_SECONDS = 24 * 3600.0
JWKS_MIN_REFRESH_SECONDS = 60.0
LOCAL_AUDIENCE = "api://activecampaign-dynamics-sync-local"
LOCAL_KID = "local-signing-key"
LOCAL_KEY_PATH = ".local/auth-signing-key.pem"


class Unauthenticated(Exception):
    """The request carries no acceptable token (401). The message says why, never the token."""


@dataclass(frozen=True)
class Caller:
    """Who is calling: Entra object id and tenant, plus a name for the audit log."""

    object_id: str
    tenant_id: str
    name: str

    @property
    def actor(self) -> str:
        return f"{self.name} ({self.object_id})" if self.name else self.object_id


@dataclass(frozen=True)
class AuthSettings:
    tenant_id: str
    audience: str
    allowed_tenants: frozenset[str]
    jwks_uri: str
    local: bool = False
    scope: str = DEFAULT_SCOPE
    app_role: str = DEFAULT_APP_ROLE

    @classmethod
    def entra(cls, tenant_id: str, audience: str, allowed_tenants: frozenset[str] | None = None, *,
              scope: str = DEFAULT_SCOPE, app_role: str = DEFAULT_APP_ROLE) -> AuthSettings:
        return cls(tenant_id=tenant_id, audience=audience,
                   allowed_tenants=allowed_tenants or frozenset({tenant_id}),
                   jwks_uri=f"https://login.microsoftonline.com/{tenant_id}/discovery/v2.0/keys",
                   scope=scope, app_role=app_role)


def issuers_for(tenant_id: str) -> tuple[str, str]:
    """Entra's v2.0 and v1.0 issuers for one tenant."""
    return f"https://login.microsoftonline.com/{tenant_id}/v2.0", f"https://sts.windows.net/{tenant_id}/"


class JwksCache:
    """The signing keys, by key id; refetched on an unknown kid (rate-limited) or when stale."""

    def __init__(self, uri: str, *, transport: httpx.AsyncBaseTransport | None = None, clock: Clock = SYSTEM_CLOCK,
                 static: Mapping[str, Any] | None = None) -> None:
        self._uri = uri
        self._transport = transport
        self._clock = clock
        self._keys: dict[str, Any] = dict(static or {})
        self._static = static is not None
        self._fetched_at: float | None = None
        self._lock = asyncio.Lock()
        self.fetches = 0

    async def key(self, kid: str) -> Any:
        now = self._clock.monotonic()
        stale = self._fetched_at is None or now - self._fetched_at > JWKS_TTL_SECONDS
        if not self._static and (stale or kid not in self._keys):
            async with self._lock:
                recent = self._fetched_at is not None and now - self._fetched_at < JWKS_MIN_REFRESH_SECONDS
                if (stale or kid not in self._keys) and not (recent and not stale):
                    await self._fetch()
        if kid not in self._keys:
            raise Unauthenticated("the token's signing key is not one of the issuer's keys")
        return self._keys[kid]

    async def _fetch(self) -> None:
        self.fetches += 1
        try:
            async with httpx.AsyncClient(transport=self._transport, timeout=10.0) as http:
                response = await http.get(self._uri)
                response.raise_for_status()
                doc = response.json()
        except (httpx.HTTPError, ValueError) as e:
            log.warning("fetching the signing keys failed: %s", type(e).__name__)
            if not self._keys:
                raise SigningKeysUnavailable("the token issuer's signing keys cannot be fetched") from None
            return
        keys: dict[str, Any] = {}
        for jwk in doc.get("keys", []) if isinstance(doc, dict) else []:
            if isinstance(jwk, dict) and jwk.get("kid") and jwk.get("kty") == "RSA":
                try:
                    keys[str(jwk["kid"])] = RSAAlgorithm.from_jwk(json.dumps(jwk))
                except (ValueError, KeyError, jwt.InvalidKeyError):
                    continue
        self._keys = keys
        self._fetched_at = self._clock.monotonic()


class SigningKeysUnavailable(Exception):
    """The JWKS endpoint cannot be reached and no keys are cached (503)."""


@dataclass
class TokenValidator:
    settings: AuthSettings
    keys: JwksCache
    clock: Clock = SYSTEM_CLOCK
    local_signer: LocalSigner | None = field(default=None, repr=False)

    @property
    def mode(self) -> str:
        return "local" if self.settings.local else "entra"

    async def caller(self, authorization: str | None) -> Caller:
        if not authorization:
            raise Unauthenticated("a bearer token is required")
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise Unauthenticated("the Authorization header must be 'Bearer <token>'")
        return await self.validate(token.strip())

    async def validate(self, token: str) -> Caller:
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError:
            raise Unauthenticated("the bearer token is malformed") from None
        if header.get("alg") not in ALGORITHMS:
            raise Unauthenticated("the token's algorithm is not accepted")
        kid = header.get("kid")
        if not isinstance(kid, str) or not kid:
            raise Unauthenticated("the token names no signing key")
        key = await self.keys.key(kid)
        try:
            claims: dict[str, Any] = jwt.decode(
                token, key=key, algorithms=ALGORITHMS, audience=self.settings.audience,
                options={"verify_exp": False, "verify_nbf": False, "verify_iat": False, "verify_iss": False,
                         "require": ["exp", "iss", "aud", "tid", "oid"]},
            )
        except jwt.InvalidAudienceError:
            raise Unauthenticated("the token is for another audience") from None
        except jwt.MissingRequiredClaimError as e:
            raise Unauthenticated(f"the token lacks the {e.claim} claim") from None
        except jwt.PyJWTError:
            raise Unauthenticated("the token's signature does not verify") from None
        self._check_times(claims)
        self._check_grant(claims)
        tid, oid = str(claims["tid"]), str(claims["oid"])
        if tid not in self.settings.allowed_tenants:
            raise Unauthenticated("the token's tenant is not allowed")
        if claims["iss"] not in issuers_for(tid):
            raise Unauthenticated("the token's issuer is not its tenant's")
        name = str(claims.get("preferred_username") or claims.get("upn") or claims.get("name") or "")
        return Caller(object_id=oid.lower(), tenant_id=tid.lower(), name=name[:200])

    def _check_times(self, claims: Mapping[str, Any]) -> None:
        now = self.clock.time()
        times: dict[str, float] = {}
        for name in ("exp", "nbf", "iat"):
            if name not in claims:
                continue
            v = claims[name]
            # JSON numbers only: not "inf", not true, not NaN/Infinity (which Python's json accepts).
            if isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v):
                raise Unauthenticated(f"the token's {name} is not a number")
            times[name] = float(v)
        if now > times["exp"] + LEEWAY_SECONDS:
            raise Unauthenticated("the token has expired")
        if now + LEEWAY_SECONDS < times.get("nbf", -math.inf):
            raise Unauthenticated("the token is not valid yet")
        if now + LEEWAY_SECONDS < times.get("iat", -math.inf):
            raise Unauthenticated("the token was issued in the future")

    def _check_grant(self, claims: Mapping[str, Any]) -> None:
        scp, roles = claims.get("scp"), claims.get("roles")
        if scp is not None:
            if not isinstance(scp, str) or self.settings.scope not in scp.split(" "):
                raise Unauthenticated(f"the token does not carry the API's scope {self.settings.scope}")
            return
        if not isinstance(roles, list) or self.settings.app_role not in roles:
            raise Unauthenticated(f"an app-only token must carry the API's app role {self.settings.app_role}")


class LocalSigner:
    """The local/demo mode's key: signs tokens the validator accepts. Never in Azure."""

    def __init__(self, private_key: rsa.RSAPrivateKey) -> None:
        self._key = private_key

    @classmethod
    def load_or_create(cls, path: str | Path) -> LocalSigner:
        p = Path(path)
        if p.exists():
            loaded = serialization.load_pem_private_key(p.read_bytes(), password=None)
            if not isinstance(loaded, rsa.RSAPrivateKey):
                raise ValueError(f"{p} is not an RSA private key")
            return cls(loaded)
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        p.parent.mkdir(parents=True, exist_ok=True)
        pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
        # Written whole under another name, then linked into place only if absent: a process that
        # starts at the same time (``serve`` and ``auth token``) never signs with a key that loses.
        tmp = p.with_name(f"{p.name}.{os.getpid()}.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(pem)
        try:
            os.link(tmp, p)
        except FileExistsError:
            return cls.load_or_create(p)
        finally:
            tmp.unlink()
        return cls(key)

    @classmethod
    def generate(cls) -> LocalSigner:
        return cls(rsa.generate_private_key(public_exponent=65537, key_size=2048))

    @property
    def public_key(self) -> rsa.RSAPublicKey:
        return self._key.public_key()

    def issue(self, *, object_id: str, tenant_id: str = LOCAL_TENANT, audience: str = LOCAL_AUDIENCE,
              name: str = "local admin", now: float, lifetime: float = 3600.0) -> str:
        claims = {"iss": issuers_for(tenant_id)[0], "aud": audience, "tid": tenant_id, "oid": object_id,
                  "preferred_username": name, "scp": DEFAULT_SCOPE, "iat": int(now), "nbf": int(now),
                  "exp": int(now + lifetime)}
        return jwt.encode(claims, self._key, algorithm="RS256", headers={"kid": LOCAL_KID})


def local_validator(signer: LocalSigner, *, clock: Clock = SYSTEM_CLOCK, tenant_id: str = LOCAL_TENANT,
                    audience: str = LOCAL_AUDIENCE) -> TokenValidator:
    settings = AuthSettings(tenant_id=tenant_id, audience=audience, allowed_tenants=frozenset({tenant_id}),
                            jwks_uri="local:", local=True)
    keys = JwksCache("local:", clock=clock, static={LOCAL_KID: signer.public_key})
    return TokenValidator(settings, keys, clock, local_signer=signer)


def truthy(v: str | None) -> bool:
    return (v or "").strip().lower() in ("1", "true", "yes", "on")


def validator_from_env(env: Mapping[str, str] | None = None, *, clock: Clock = SYSTEM_CLOCK,
                       transport: httpx.AsyncBaseTransport | None = None) -> TokenValidator:
    """The validator the settings ask for; refuses the local mode in Azure and a missing tenant elsewhere."""
    e = os.environ if env is None else env
    in_azure = bool(e.get("WEBSITE_INSTANCE_ID") or e.get("WEBSITE_SITE_NAME"))
    if truthy(e.get("SYNC_LOCAL_AUTH")):
        if in_azure:
            raise RuntimeError("SYNC_LOCAL_AUTH is set but the app runs in Azure: refusing to start with local "
                               "token signing; configure SYNC_AUTH_TENANT_ID and SYNC_AUTH_AUDIENCE instead")
        path = LOCAL_KEY_PATH
        log.warning("LOCAL AUTH MODE: API tokens are signed with a local key (%s), not Entra ID. "
                    "For development and demos only.", path)
        return local_validator(LocalSigner.load_or_create(path), clock=clock)
    tenant = (e.get("SYNC_AUTH_TENANT_ID") or "").strip().lower()
    audience = (e.get("SYNC_AUTH_AUDIENCE") or "").strip()
    if not tenant or not audience:
        raise RuntimeError("set SYNC_AUTH_TENANT_ID and SYNC_AUTH_AUDIENCE (or SYNC_LOCAL_AUTH=1 locally)")
    allowed = frozenset(t.strip().lower() for t in (e.get("SYNC_AUTH_ALLOWED_TENANTS") or "").split(",") if t.strip())
    scope = (e.get("SYNC_AUTH_SCOPE") or "").strip() or DEFAULT_SCOPE
    app_role = (e.get("SYNC_AUTH_APP_ROLE") or "").strip() or DEFAULT_APP_ROLE
    settings = AuthSettings.entra(tenant, audience, allowed or None, scope=scope, app_role=app_role)
    return TokenValidator(settings, JwksCache(settings.jwks_uri, transport=transport, clock=clock), clock)
