"""Input that used to give a 500: unbounded custom filters, secrets that cannot travel in a header, storage down."""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path
from typing import Any

import httpx
import pytest
from azure.data.tables.aio import TableServiceClient
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from sync_core.api import create_app
from sync_core.dynamics._filter import MAX_CONDITIONS, MAX_NESTING, ODataSyntaxError, parse_filter
from sync_core.engine import ClientFactory
from sync_core.model.hosts import HostPolicy
from sync_core.model.secrets import pem_problem
from sync_core.runtime import Runtime, build_runtime
from sync_core.settings import Settings
from sync_core.store import LocalSecretStore, SyncStore
from tests.api.conftest import CID, DV_URL, Api

P = f"/api/connections/{CID}"
TOO_MUCH = {
    "3000 open parentheses": "(" * 3000,
    "3000 nots": "not " * 3000,
    "2000 chained ors": " or ".join(["name eq 'x'"] * 2000),
    "deep but short": "not " * 900 + "name eq 'x'",
    "many but short": " or ".join(["name eq 'x'"] * (MAX_CONDITIONS + 1)),
    "parentheses, short": "(" * (MAX_NESTING + 1) + "name eq 'x'" + ")" * (MAX_NESTING + 1),
}


@pytest.mark.parametrize("text", list(TOO_MUCH.values()), ids=list(TOO_MUCH))
def test_the_parser_refuses_unbounded_expressions_without_recursing(text: str) -> None:
    with pytest.raises(ODataSyntaxError, match=r"more than|longer than"):
        parse_filter(text)


def test_the_bounds_still_allow_real_filters() -> None:
    text = " and ".join(["(name eq 'x' or not contains(name,'y'))"] * (MAX_CONDITIONS // 2))
    assert len(parse_filter(text).columns()) == 1
    nested = "(" * MAX_NESTING + "name eq 'x'" + ")" * MAX_NESTING
    assert parse_filter(nested).matches({"name": "X"})


@pytest.mark.parametrize("name", list(TOO_MUCH))
async def test_custom_filter_bounds_are_a_422_naming_the_field(api: Api, name: str) -> None:
    await api.connect()
    entities = {"opportunities": {"enabled": True, "direction": "push", "scope": "custom",
                                  "custom_filter": TOO_MUCH[name]}}
    for method, path, body in (("PUT", f"{P}/config", {"config": {"entities": entities}}),
                               ("POST", f"{P}/config/preview", {"config": {"entities": entities}}),
                               ("POST", f"{P}/import", {"document": {"entities": entities}})):
        r = await api.client.request(method, path, json=body, headers=api.auth())
        if r.status_code == 200:  # import with apply=false and a preview list the issues
            fields = [i["field"] for i in r.json()["issues"]]
        else:
            assert r.status_code == 422, (name, path, r.status_code, r.text)
            fields = [r.json()["error"]["field"]] + [i["field"] for i in r.json()["issues"]]
        assert any(f.endswith("entities.opportunities.custom_filter") for f in fields), (name, path, r.text)


BAD_TEXT = {"non-ASCII": "clé-ünïcode-0123456789", "CR LF": "abc\r\nX-Injected: 1", "space": "abc def",
            "tab": "abc\tdef", "NUL": "abc\x00def", "DEL": "abc\x7fdef", "emoji": "key😀"}


@pytest.mark.parametrize("value", list(BAD_TEXT.values()), ids=list(BAD_TEXT))
async def test_secrets_must_be_header_safe(api: Api, value: str) -> None:
    for over, field in (({"activecampaign_api_key": value}, "activecampaign_api_key"),
                        ({"dynamics_secret": value}, "dynamics_secret"),
                        ({"dynamics_auth": {"kind": "client_secret", "tenant_id": "contoso.onmicrosoft.com",
                                            "client_id": "0000-1111"}, "dynamics_secret": value}, "dynamics_secret"),
                        ({"dynamics_auth": {"kind": "default"}, "dynamics_secret": None,
                          "dynamics_access_token": value}, "dynamics_access_token")):
        r = await api.client.put(f"{P}/connection", json=api.connect_body(**over), headers=api.auth())
        assert r.status_code == 422, (over, r.text)
        assert r.json()["error"]["field"] == field, r.text
    assert await api.rt.store.get_config(CID) is None


def _pem(*, with_cert: bool = True, password: bytes | None = None) -> str:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    enc: serialization.KeySerializationEncryption = (
        serialization.BestAvailableEncryption(password) if password else serialization.NoEncryption())
    out = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, enc).decode()
    if with_cert:
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "sync")])
        now = dt.datetime.now(dt.UTC)
        cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
                .serial_number(1).not_valid_before(now).not_valid_after(now + dt.timedelta(days=1))
                .sign(key, hashes.SHA256()))
        out += cert.public_bytes(serialization.Encoding.PEM).decode()
    return out


def test_a_certificate_must_be_an_unencrypted_pem_with_its_certificate() -> None:
    assert pem_problem(_pem()) is None
    assert "certificate" in (pem_problem(_pem(with_cert=False)) or "")
    assert "encrypted" in (pem_problem(_pem(password=b"pw")) or "")
    assert pem_problem("not a pem") and pem_problem("-----BEGIN PRIVATE KEY-----\né\n-----END PRIVATE KEY-----")


async def test_a_certificate_that_is_no_pem_is_a_422(api: Api) -> None:
    auth = {"kind": "certificate", "tenant_id": "contoso.onmicrosoft.com", "client_id": "0000-1111"}
    r = await api.client.put(f"{P}/connection", headers=api.auth(),
                             json=api.connect_body(dynamics_auth=auth, dynamics_secret=_pem(with_cert=False)))
    assert (r.status_code, r.json()["error"]["field"]) == (422, "dynamics_secret"), r.text


def _dead(connection_string: str, how: str) -> str:
    if how == "unreachable":
        return re.sub(r"TableEndpoint=http://127\.0\.0\.1:\d+", "TableEndpoint=http://127.0.0.1:1", connection_string)
    return re.sub(r"AccountKey=[^;]+", "AccountKey=" + "A" * 86 + "==", connection_string)


@pytest.mark.parametrize("how", ["unreachable", "refuses the key"])
async def test_a_storage_outage_is_a_documented_503(api: Api, storage_connection_string: str, tmp_path: Path,
                                                    how: str) -> None:
    await api.connect()
    dead = _dead(storage_connection_string, how)
    settings = Settings(storage_account_url=None, queue_account_url=None, storage_connection_string=dead,
                        table_prefix=api.rt.store.tables.prefix, managed_identity_client_id=None, key_vault_uri=None,
                        local_secrets_path=str(tmp_path / "s.json"), in_azure=False)
    rt = build_runtime(settings, clock=api.clock, secrets=LocalSecretStore(tmp_path / "s.json"))
    await rt.store.close()
    rt.store = SyncStore(TableServiceClient.from_connection_string(dead, retry_total=0),
                         table_prefix=api.rt.store.tables.prefix, clock=api.clock)

    async def runtime() -> Runtime:
        return rt

    clients = ClientFactory(clock=api.clock, host_policy=HostPolicy(local=True)).interactive()
    app = create_app(runtime, auth=api.app.state.api._auth, clients=clients)
    spec: dict[str, Any] = app.openapi()
    assert "storage_unavailable" in spec["paths"][P.replace(CID, "{connection_id}") + "/config"]["get"][
        "responses"]["503"]["description"]
    try:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://api.test") as c:
            for method, path in (("GET", f"{P}/config"), ("GET", f"{P}/status"), ("PUT", f"{P}/connection")):
                r = await c.request(method, path, headers=api.auth(),
                                    json=api.connect_body() if method == "PUT" else None)
                assert r.status_code == 503, (how, path, r.text)
                assert r.json()["error"]["code"] == "storage_unavailable" and r.headers["Retry-After"]
            pre = {"Origin": DV_URL, "Access-Control-Request-Method": "GET"}
            assert (await c.options(f"{P}/config", headers=pre)).status_code == 403
    finally:
        await rt.close()


class RefusingIdentity:
    """An azure-identity credential as Entra answers when it refuses (or cannot be reached)."""

    def __init__(self, error: Exception) -> None:
        self.error = error

    async def get_token(self, *scopes: str, **kwargs: Any) -> Any:
        raise self.error

    async def close(self) -> None:
        return None


@pytest.mark.parametrize(("error", "connect_code", "route_status"), [
    ("refused", "dynamics_auth_failed", 502), ("unreachable", "dynamics_unreachable", 503)])
async def test_an_entra_failure_is_the_dynamics_sign_in_not_the_storage(api: Api, error: str, connect_code: str,
                                                                        route_status: int) -> None:
    from azure.core.exceptions import ClientAuthenticationError, ServiceRequestError

    exc = ClientAuthenticationError("AADSTS7000215") if error == "refused" else ServiceRequestError("no route")
    body = api.connect_body(dynamics_auth={"kind": "default"}, dynamics_secret=None,
                            dynamics_access_token=api.user_token("Alex Admin"))
    assert (await api.client.put(f"{P}/connection", json=body, headers=api.auth())).status_code == 200
    clients = api.app.state.api.clients
    clients._app_identity = lambda auth: RefusingIdentity(exc)
    r = await api.client.put("/api/connections/another/connection", json=body, headers=api.auth())
    assert (r.status_code, r.json()["error"]["code"]) == (422, connect_code), r.text
    api.clock.advance(60)  # past the role cache: the role lookup signs in with the app's identity
    r = await api.client.get(f"{P}/users", headers=api.auth())
    assert r.status_code == route_status and r.json()["error"]["code"].startswith("dynamics_"), r.text


@pytest.mark.parametrize("etag", ["d4Gr\u00d2", "u\udaa5\u001a", "*", '"x"', "W/", "abc\r\nIf-Match: *"])
async def test_an_etag_that_is_no_table_etag_is_a_422(api: Api, etag: str) -> None:
    """It goes into If-Match: a control character made the storage client raise, '*' would skip the check."""
    await api.connect()
    entities = (await api.client.get(f"{P}/config", headers=api.auth())).json()["config"]["entities"]
    for method, path, body in (("PUT", f"{P}/config", {"config": {"entities": entities}, "etag": etag}),
                               ("POST", f"{P}/import", {"document": {"entities": entities}, "apply": True,
                                                        "etag": etag})):
        r = await api.client.request(method, path, content=json.dumps(body),  # lone surrogates as \u escapes
                                     headers={**api.auth(), "Content-Type": "application/json"})
        assert (r.status_code, r.json()["error"]["field"]) == (422, "etag"), r.text
    stale = 'W/"datetime\'2020-01-01T00%3A00%3A00.0000000Z\'"'
    r = await api.client.put(f"{P}/config", json={"config": {"entities": entities}, "etag": stale}, headers=api.auth())
    assert (r.status_code, r.json()["error"]["code"]) == (409, "conflict"), r.text


async def test_text_that_is_no_unicode_is_a_422_not_a_storage_error(api: Api) -> None:
    """JSON may carry an unpaired surrogate (\\udaa5); Table Storage cannot store it, so it is refused as input."""
    await api.connect()
    entities = (await api.client.get(f"{P}/config", headers=api.auth())).json()["config"]["entities"]
    entities["contacts"]["constants"] = {"lastname": "x\udaa5"}
    cases = [("PUT", f"{P}/config", {"config": {"entities": {}, "push": {"tag_contact": "D365 \udaa5"}}},
              "config.push.tag_contact"),
             ("PUT", f"{P}/config", {"config": {"entities": entities}}, "config.entities.contacts.constants"),
             ("PUT", f"{P}/connection", api.connect_body(display_name="Contoso \udc38"), "display_name"),
             ("POST", f"{P}/import", {"document": {"entities": {}, "push": {"tag_lead": "\ud800"}}},
              "document.push.tag_lead")]
    for method, path, body, field in cases:
        r = await api.client.request(method, path, content=json.dumps(body),
                                     headers={**api.auth(), "Content-Type": "application/json"})
        assert (r.status_code, r.json()["error"]["field"]) == (422, field), r.text
