"""A local OpenID Connect authority shaped like Entra ID's v2.0 endpoints, for the demo and browser tests.

    python -m devtools.oidc_stub --port 8443 --users users.json --client-id ID --redirect-uri URL

It serves, under ``/{tenant}/``: the discovery document (``v2.0/.well-known/openid-configuration``),
the authorize endpoint (auth code + PKCE S256 only; the user comes from ``login_hint``; a person
clicks "Continue" once, then ``prompt=none`` succeeds from the session cookie and fails with
``login_required`` without one), the token endpoint (authorization_code and refresh_token
grants), the JWKS, and end-session. Access tokens are signed with the API's local-mode key
(``.local/auth-signing-key.pem``) and carry what the API's local mode checks: Entra's issuer for the
local tenant, the API's audience, ``tid``, ``oid`` and ``scp``. HTTPS only, with a self-signed
certificate made on first use (MSAL refuses an ``http`` authority). Never for production.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import html
import json
import secrets
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from sync_core.api.auth import LOCAL_AUDIENCE, LOCAL_KEY_PATH, LOCAL_KID, LOCAL_TENANT, LocalSigner, issuers_for

API_SCOPE = "access_as_user"
SESSION_COOKIE = "acds_stub_session"
CODE_TTL = 120.0
TOKEN_TTL = 3600


@dataclass(frozen=True)
class User:
    login: str  # the UPN, as Dataverse's systemuser.domainname holds it
    object_id: str
    name: str


Directory = Callable[[str], User | None]


@dataclass
class StubConfig:
    client_id: str
    redirect_uris: frozenset[str]
    directory: Directory
    key: rsa.RSAPrivateKey
    tenant: str = LOCAL_TENANT
    audience: str = LOCAL_AUDIENCE
    clock: Callable[[], float] = time.time
    codes: dict[str, dict[str, Any]] = field(default_factory=dict)
    refresh: dict[str, dict[str, Any]] = field(default_factory=dict)
    sessions: dict[str, str] = field(default_factory=dict)
    issued: list[dict[str, Any]] = field(default_factory=list)


def local_signing_key(path: str | Path = LOCAL_KEY_PATH) -> rsa.RSAPrivateKey:
    """The key the API's local mode signs and checks with (made by the API's own code when missing)."""
    LocalSigner.load_or_create(path)
    key = serialization.load_pem_private_key(Path(path).read_bytes(), password=None)
    if not isinstance(key, rsa.RSAPrivateKey):
        raise ValueError(f"{path} is not an RSA private key")
    return key


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def static_directory(users: Mapping[str, User]) -> Directory:
    by_login = {k.lower(): v for k, v in users.items()}
    return lambda login: by_login.get(login.lower())


def _oauth_error(status: int, error: str, description: str) -> JSONResponse:
    return JSONResponse({"error": error, "error_description": description}, status_code=status,
                        headers={"Access-Control-Allow-Origin": "*", "Cache-Control": "no-store"})


def _redirect_with(redirect_uri: str, response_mode: str, params: dict[str, str]) -> RedirectResponse:
    sep = "#" if response_mode == "fragment" else ("&" if "?" in redirect_uri else "?")
    return RedirectResponse(f"{redirect_uri}{sep}{urlencode(params)}", status_code=302)


def create_app(cfg: StubConfig) -> Starlette:
    def base(request: Request) -> str:
        return f"https://{request.headers.get('host', request.url.netloc)}/{cfg.tenant}"

    async def discovery(request: Request) -> Response:
        b = base(request)
        return JSONResponse({
            "issuer": f"{b}/v2.0", "authorization_endpoint": f"{b}/oauth2/v2.0/authorize",
            "token_endpoint": f"{b}/oauth2/v2.0/token", "jwks_uri": f"{b}/discovery/v2.0/keys",
            "end_session_endpoint": f"{b}/oauth2/v2.0/logout", "response_types_supported": ["code"],
            "response_modes_supported": ["query", "fragment", "form_post"], "subject_types_supported": ["pairwise"],
            "id_token_signing_alg_values_supported": ["RS256"], "code_challenge_methods_supported": ["S256"],
            "scopes_supported": ["openid", "profile", "email", "offline_access"],
            "grant_types_supported": ["authorization_code", "refresh_token"], "tenant_region_scope": "local",
        }, headers={"Access-Control-Allow-Origin": "*"})

    async def jwks(_: Request) -> Response:
        key = json.loads(RSAAlgorithm.to_jwk(cfg.key.public_key()))
        key.update(kid=LOCAL_KID, use="sig", alg="RS256")
        return JSONResponse({"keys": [key]}, headers={"Access-Control-Allow-Origin": "*"})

    async def authorize(request: Request) -> Response:
        if request.method == "GET":
            p = dict(request.query_params)
        else:
            p = await _form(request)
        if p.get("client_id") != cfg.client_id:
            return HTMLResponse("<h1>Unknown client_id</h1>", status_code=400)
        redirect_uri = p.get("redirect_uri", "")
        if redirect_uri not in cfg.redirect_uris:
            return HTMLResponse("<h1>redirect_uri is not registered for this client</h1>", status_code=400)
        mode = p.get("response_mode", "query")
        state = p.get("state", "")

        def fail(error: str, why: str) -> Response:
            return _redirect_with(redirect_uri, mode, {"error": error, "error_description": why, "state": state})

        if p.get("response_type") != "code":
            return fail("unsupported_response_type", "only response_type=code")
        if p.get("code_challenge_method") != "S256" or not p.get("code_challenge"):
            return fail("invalid_request", "PKCE with S256 is required")
        user = cfg.directory(p.get("login_hint", ""))
        session_user = cfg.sessions.get(request.cookies.get(SESSION_COOKIE, ""))
        if p.get("prompt") == "none":
            if user is None or session_user != user.login:
                return fail("login_required", "no session for this user; sign in interactively")
            return _issue_code(cfg, p, user, redirect_uri, mode, state, None)
        if request.method == "POST" and p.get("consent") == "continue" and user is not None:
            sid = secrets.token_urlsafe(24)
            cfg.sessions[sid] = user.login
            return _issue_code(cfg, p, user, redirect_uri, mode, state, sid)
        return _sign_in_page(p, user)

    async def token(request: Request) -> Response:
        if request.method == "OPTIONS":
            return Response(status_code=204, headers={"Access-Control-Allow-Origin": "*",
                                                      "Access-Control-Allow-Methods": "POST",
                                                      "Access-Control-Allow-Headers": "Content-Type"})
        form = await _form(request)
        if form.get("client_id") != cfg.client_id:
            return _oauth_error(400, "invalid_client", "unknown client_id")
        grant = form.get("grant_type")
        if grant == "authorization_code":
            entry = cfg.codes.pop(form.get("code", ""), None)
            if entry is None or cfg.clock() > entry["expires"]:
                return _oauth_error(400, "invalid_grant", "the code is unknown, used or expired")
            if form.get("redirect_uri") != entry["redirect_uri"]:
                return _oauth_error(400, "invalid_grant", "redirect_uri differs from the authorize request")
            verifier = form.get("code_verifier", "")
            if b64url(hashlib.sha256(verifier.encode()).digest()) != entry["challenge"]:
                return _oauth_error(400, "invalid_grant", "code_verifier does not match the code_challenge")
            return _tokens(cfg, request, entry)
        if grant == "refresh_token":
            entry = cfg.refresh.get(form.get("refresh_token", ""))
            if entry is None:
                return _oauth_error(400, "invalid_grant", "unknown refresh token")
            return _tokens(cfg, request, {**entry, "scope": form.get("scope", entry["scope"]), "nonce": None})
        return _oauth_error(400, "unsupported_grant_type", "authorization_code or refresh_token")

    async def logout(request: Request) -> Response:
        cfg.sessions.pop(request.cookies.get(SESSION_COOKIE, ""), None)
        target = request.query_params.get("post_logout_redirect_uri")
        response: Response = (RedirectResponse(target, status_code=302) if target in cfg.redirect_uris
                              else HTMLResponse("<p>Signed out.</p>"))
        response.delete_cookie(SESSION_COOKIE, secure=True, samesite="none")
        return response

    async def root(_: Request) -> Response:
        return HTMLResponse("<p>Local sign-in stub (not Entra ID). Its certificate is self-signed: "
                            "having opened this page, the demo's sign-in works in this browser.</p>")

    t = "/{tenant}"
    routes = [
        Route("/", root),
        Route(f"{t}/v2.0/.well-known/openid-configuration", discovery),
        Route(f"{t}/.well-known/openid-configuration", discovery),
        Route(f"{t}/discovery/v2.0/keys", jwks),
        Route(f"{t}/oauth2/v2.0/authorize", authorize, methods=["GET", "POST"]),
        Route(f"{t}/oauth2/v2.0/token", token, methods=["POST", "OPTIONS"]),
        Route(f"{t}/oauth2/v2.0/logout", logout, methods=["GET"]),
    ]
    app = Starlette(routes=routes)
    app.state.stub = cfg
    return app


async def _form(request: Request) -> dict[str, str]:
    """An ``application/x-www-form-urlencoded`` body (what MSAL and the sign-in page send)."""
    return dict(parse_qsl((await request.body()).decode("utf-8", "replace"), keep_blank_values=True))


def _issue_code(cfg: StubConfig, p: Mapping[str, str], user: User, redirect_uri: str, mode: str, state: str,
                session: str | None) -> Response:
    code = secrets.token_urlsafe(32)
    cfg.codes[code] = {"user": user, "redirect_uri": redirect_uri, "challenge": p["code_challenge"],
                       "scope": p.get("scope", ""), "nonce": p.get("nonce"), "expires": cfg.clock() + CODE_TTL}
    params = {"code": code, "state": state}
    if p.get("client_info") == "1":
        params["client_info"] = _client_info(cfg, user)
    response = _redirect_with(redirect_uri, mode, params)
    if session:
        response.set_cookie(SESSION_COOKIE, session, httponly=True, secure=True, samesite="none")
    return response


def _client_info(cfg: StubConfig, user: User) -> str:
    return b64url(json.dumps({"uid": user.object_id, "utid": cfg.tenant}).encode())


def _tokens(cfg: StubConfig, request: Request, entry: Mapping[str, Any]) -> Response:
    user: User = entry["user"]
    now = int(cfg.clock())
    requested = set(str(entry["scope"]).split())
    api_scope = f"{cfg.audience}/{API_SCOPE}"
    common = {"tid": cfg.tenant, "oid": user.object_id, "preferred_username": user.login, "name": user.name,
              "iat": now, "nbf": now, "exp": now + TOKEN_TTL}
    body: dict[str, Any] = {"token_type": "Bearer", "expires_in": TOKEN_TTL, "ext_expires_in": TOKEN_TTL,
                            "client_info": _client_info(cfg, user)}
    if api_scope in requested:
        access = {**common, "iss": issuers_for(cfg.tenant)[0], "aud": cfg.audience, "scp": API_SCOPE,
                  "azp": cfg.client_id, "ver": "2.0"}
        body["access_token"] = jwt.encode(access, cfg.key, algorithm="RS256", headers={"kid": LOCAL_KID})
        body["scope"] = api_scope
    else:
        body["access_token"] = secrets.token_urlsafe(24)  # opaque: only the API's scope gets an API token
        body["scope"] = " ".join(sorted(requested - {"openid", "profile", "offline_access"}))
    host = request.headers.get("host", request.url.netloc)
    id_claims = {**common, "iss": f"https://{host}/{cfg.tenant}/v2.0", "aud": cfg.client_id, "sub": user.object_id,
                 "ver": "2.0"}
    if entry.get("nonce"):
        id_claims["nonce"] = entry["nonce"]
    body["id_token"] = jwt.encode(id_claims, cfg.key, algorithm="RS256", headers={"kid": LOCAL_KID})
    refresh = secrets.token_urlsafe(32)
    cfg.refresh[refresh] = {"user": user, "scope": entry["scope"]}
    body["refresh_token"] = refresh
    cfg.issued.append({"login": user.login, "scope": body["scope"]})
    return JSONResponse(body, headers={"Access-Control-Allow-Origin": "*", "Cache-Control": "no-store"})


def _sign_in_page(p: Mapping[str, str], user: User | None) -> Response:
    if user is None:
        hint = html.escape(p.get("login_hint", "") or "(none)")
        return HTMLResponse(f"<!doctype html><html lang='en'><title>Sign in</title><main><h1>Sign in</h1>"
                            f"<p>No account {hint} in this directory.</p></main></html>", status_code=200)
    hidden = "".join(f"<input type='hidden' name='{html.escape(k)}' value='{html.escape(v)}'>"
                     for k, v in p.items() if k != "consent")
    return HTMLResponse(
        "<!doctype html><html lang='en'><head><meta charset='utf-8'><title>Sign in</title></head><body>"
        "<main><h1>Sign in (local stub)</h1>"
        f"<p>Continue as <strong>{html.escape(user.name)}</strong> ({html.escape(user.login)})?</p>"
        f"<form method='post'>{hidden}<button type='submit' name='consent' value='continue'>Continue</button></form>"
        "</main></body></html>")


# --- TLS -----------------------------------------------------------------------------------------------

def self_signed_certificate(directory: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 and localhost, made once and kept under ``directory``."""
    cert, key = directory / "oidc-stub-cert.pem", directory / "oidc-stub-key.pem"
    if cert.exists() and key.exists():
        return cert, key
    import datetime
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.x509.oid import NameOID

    pk = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "acds local sign-in stub")])
    now = datetime.datetime.now(datetime.UTC)
    sans = x509.SubjectAlternativeName([x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))])
    certificate = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(pk.public_key())
                   .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(days=1))
                   .not_valid_after(now + datetime.timedelta(days=825)).add_extension(sans, critical=False)
                   .sign(pk, hashes.SHA256()))
    directory.mkdir(parents=True, exist_ok=True)
    cert.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key.write_bytes(pk.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                     serialization.NoEncryption()))
    key.chmod(0o600)
    return cert, key


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m devtools.oidc_stub", description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, default=8443)
    parser.add_argument("--users", type=Path, required=True,
                        help='JSON list of {"login", "object_id", "name"} (login = the Dynamics domainname)')
    parser.add_argument("--client-id", required=True)
    parser.add_argument("--redirect-uri", action="append", required=True)
    return parser


def main(argv: list[str] | None = None) -> int:
    import uvicorn

    args = _parser().parse_args(argv)
    try:
        rows = json.loads(args.users.read_text(encoding="utf-8"))
        users = {str(r["login"]): User(str(r["login"]), str(r["object_id"]).lower(), str(r["name"])) for r in rows}
    except (OSError, ValueError, KeyError, TypeError) as e:
        print(f"--users {args.users}: {e}", flush=True)
        return 2
    cfg = StubConfig(client_id=args.client_id, redirect_uris=frozenset(args.redirect_uri),
                     directory=static_directory(users), key=local_signing_key())
    cert, key = self_signed_certificate(Path(".local"))
    uvicorn.run(create_app(cfg), host="127.0.0.1", port=args.port, ssl_certfile=str(cert), ssl_keyfile=str(key),
                log_level="warning")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
