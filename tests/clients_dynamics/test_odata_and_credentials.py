"""OData literal helpers, log scrubbing and the credential factory (no network)."""

from __future__ import annotations

import datetime as dt
import logging
from decimal import Decimal
from uuid import UUID

import pytest
from azure.identity import aio

from sync_core.dynamics import (
    StaticTokenCredential,
    alternate_key,
    credential_from_settings,
    escape_like,
    format_literal,
    quote_string,
)
from sync_core.http import RedactFilter, scrub


def test_quote_string_doubles_single_quotes() -> None:
    assert quote_string("O'Brien") == "'O''Brien'"
    assert quote_string("") == "''"
    assert quote_string("''") == "''''''"


def test_escape_like_brackets_the_wildcards() -> None:
    assert escape_like("50%_off [a]") == "50[%][_]off [[]a]"
    assert escape_like("plain ü") == "plain ü"


@pytest.mark.parametrize(
    ("value", "literal"),
    [
        (None, "null"),
        (True, "true"),
        (False, "false"),
        (42, "42"),
        (-1.5, "-1.5"),
        (Decimal("1000000000000.25"), "1000000000000.25"),
        (dt.datetime(2024, 1, 1, tzinfo=dt.UTC), "2024-01-01T00:00:00Z"),
        (dt.datetime(2024, 1, 1, 2, 30, tzinfo=dt.timezone(dt.timedelta(hours=2))), "2024-01-01T00:30:00Z"),
        (dt.datetime(2024, 1, 1, 0, 0, 0, 250000), "2024-01-01T00:00:00.25Z"),
        (dt.date(2024, 2, 29), "2024-02-29"),
        (UUID("7E1B2C3D-0000-0000-0000-000000000001"), "7e1b2c3d-0000-0000-0000-000000000001"),
        ("it's", "'it''s'"),
    ],
)
def test_format_literal(value: object, literal: str) -> None:
    assert format_literal(value) == literal


def test_format_literal_refuses_what_has_no_literal() -> None:
    with pytest.raises(ValueError):
        format_literal(float("nan"))
    with pytest.raises(TypeError):
        format_literal(object())


def test_alternate_key() -> None:
    assert alternate_key(emailaddress1="a'b@c.d", age=3) == "emailaddress1='a''b@c.d',age=3"


def test_scrub_removes_queries_and_bearer_tokens() -> None:
    line = 'HTTP Request: GET https://o.crm.dynamics.com/api/data/v9.2/contacts?$filter=x%20eq%201 "HTTP/1.1 200 OK"'
    assert scrub(line) == 'HTTP Request: GET https://o.crm.dynamics.com/api/data/v9.2/contacts "HTTP/1.1 200 OK"'
    assert scrub("Authorization: Bearer eyJ0.abc-def_g==") == "Authorization: Bearer <redacted>"
    record = logging.LogRecord("httpx", logging.INFO, __file__, 1, "HTTP Request: %s %s", ("GET", "/a?b=c"), None)
    assert RedactFilter().filter(record)
    assert record.getMessage() == "HTTP Request: GET /a"


async def test_static_token_credential() -> None:
    cred = StaticTokenCredential("secret-token")
    token = await cred.get_token("https://x/.default")
    assert token.token == "secret-token" and token.expires_on > 0
    assert "secret-token" not in repr(cred)


def _self_signed_pem() -> str:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.x509.oid import NameOID

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "sync-test")])
    now = dt.datetime.now(dt.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now)
            .not_valid_after(now + dt.timedelta(days=1)).sign(key, hashes.SHA256()))
    pem_key = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
    return (pem_key + cert.public_bytes(serialization.Encoding.PEM)).decode()


async def test_credential_factory_builds_each_kind(monkeypatch: pytest.MonkeyPatch) -> None:
    tenant, client = "00000000-0000-0000-0000-0000000000aa", "00000000-0000-0000-0000-0000000000bb"
    monkeypatch.setenv("AZURE_FEDERATED_TOKEN_FILE", "/tmp/does-not-matter")
    made = [
        credential_from_settings("client_secret", tenant_id=tenant, client_id=client, secret="s3cret"),
        credential_from_settings("certificate", tenant_id=tenant, client_id=client, secret=_self_signed_pem()),
        credential_from_settings("managed_identity", tenant_id=None, client_id=client),
        credential_from_settings("workload_identity", tenant_id=tenant, client_id=client),
        credential_from_settings("default", tenant_id=None, client_id=None),
    ]
    kinds = (aio.ClientSecretCredential, aio.CertificateCredential, aio.ManagedIdentityCredential,
             aio.WorkloadIdentityCredential, aio.DefaultAzureCredential)
    for cred, kind in zip(made, kinds, strict=True):
        assert isinstance(cred, kind)
        await cred.close()
    with pytest.raises(ValueError):
        credential_from_settings("client_secret", tenant_id=tenant, client_id=client, secret=None)
    with pytest.raises(ValueError):
        credential_from_settings("kerberos", tenant_id=tenant, client_id=client)
