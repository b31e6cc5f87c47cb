"""Where secrets live, what they are called, and what a secret value may be.

Never in the config document, a table entity, a log line or a URL. A secret's name is derived by
the server from what it is for — tenant, connection, purpose and the origin (and, for Dynamics,
the sign-in) it was stored with — so a stored secret is bound to its host by construction: a
connection whose host changes derives another name, which holds nothing until the new secret is
supplied. No request, file or stored document names a secret.
"""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING, Literal, Protocol, runtime_checkable
from urllib.parse import urlsplit

if TYPE_CHECKING:
    from sync_core.model.config import ConnectionConfig, DynamicsAuth

SecretPurpose = Literal["activecampaign_api_key", "dynamics_secret"]
PURPOSES: tuple[SecretPurpose, ...] = ("activecampaign_api_key", "dynamics_secret")
_SUFFIX: dict[SecretPurpose, str] = {"activecampaign_api_key": "ac-key", "dynamics_secret": "dv-secret"}
SECRET_KINDS = frozenset({"client_secret", "certificate", "static_token"})
"""Dynamics sign-ins that need a stored secret; the others use the app's own identity."""
IDENTITY_KINDS = frozenset({"managed_identity", "workload_identity", "default"})


@runtime_checkable
class SecretStore(Protocol):
    """A named-secret vault: Key Vault in Azure, a local file store otherwise."""

    async def get_secret(self, name: str) -> str | None:
        """The secret's value, or ``None`` when there is none."""
        ...

    async def has_secret(self, name: str) -> bool:
        """Whether the secret is set, read from its metadata where the store allows (not its value)."""
        ...

    async def set_secret(self, name: str, value: str) -> None:
        """Create or replace the secret."""
        ...

    async def delete_secret(self, name: str) -> None:
        """Remove the secret; succeeds when it is already gone."""
        ...


def mask(secret: str | None) -> str | None:
    """What an API may show of a secret: that it is set, and its last four characters at most."""
    if not secret:
        return None
    tail = secret[-4:] if len(secret) >= 16 else ""
    return "••••" + tail


def origin(url: str) -> str:
    """``scheme://host[:port]`` in lower case: what a secret is bound to."""
    parts = urlsplit(url.strip())
    host = (parts.hostname or "").rstrip(".")
    port = f":{parts.port}" if parts.port is not None else ""
    return f"{parts.scheme.lower()}://{host}{port}"


def derive_secret_name(purpose: SecretPurpose, *, tenant_id: str | None, connection_id: str, host: str,
                       binding: str = "") -> str:
    """``sync-<24 hex>-<purpose>``: a valid Key Vault name no caller can choose or predict without the inputs."""
    key = "|".join(((tenant_id or "").lower(), connection_id, purpose, host, binding))
    return f"sync-{hashlib.sha256(key.encode('utf-8')).hexdigest()[:24]}-{_SUFFIX[purpose]}"


def activecampaign_key_name(tenant_id: str | None, connection_id: str, api_url: str) -> str:
    return derive_secret_name("activecampaign_api_key", tenant_id=tenant_id, connection_id=connection_id,
                              host=origin(api_url))


def dynamics_secret_name(tenant_id: str | None, connection_id: str, environment_url: str,
                         auth: DynamicsAuth) -> str | None:
    """The name of the client secret, PEM or token; ``None`` for the app's own identity (no secret)."""
    if auth.kind not in SECRET_KINDS:
        return None
    binding = "|".join((auth.kind, (auth.tenant_id or "").lower(), (auth.client_id or "").lower()))
    return derive_secret_name("dynamics_secret", tenant_id=tenant_id, connection_id=connection_id,
                              host=origin(environment_url), binding=binding)


def secret_names(config: ConnectionConfig) -> dict[SecretPurpose, str]:
    """The names the connection's secrets have in the store, by purpose."""
    names: dict[SecretPurpose, str] = {
        "activecampaign_api_key": activecampaign_key_name(config.tenant_id, config.connection_id,
                                                          config.activecampaign.api_url)}
    dv = dynamics_secret_name(config.tenant_id, config.connection_id, config.dynamics.environment_url,
                              config.dynamics.auth)
    if dv is not None:
        names["dynamics_secret"] = dv
    return names


def header_safe_problem(value: str) -> str | None:
    """Why ``value`` cannot travel in an HTTP header (visible ASCII only), or ``None``."""
    if not value:
        return "must not be empty"
    for ch in value:
        if not ("!" <= ch <= "~"):
            return ("must be visible ASCII characters only (no spaces, line breaks, control or non-ASCII "
                    "characters): copy it again from its source")
    return None


def pem_problem(value: str) -> str | None:
    """Why ``value`` is not an unencrypted PEM with a private key and a certificate, or ``None``."""
    from cryptography import x509
    from cryptography.hazmat.primitives.serialization import load_pem_private_key

    if not value.isascii():
        return "must be PEM text (ASCII)"
    data = value.encode("ascii")
    try:
        load_pem_private_key(data, password=None)
    except TypeError:
        return "the PEM's private key is encrypted: export it without a password"
    except ValueError:
        return "must be a PEM holding the private key and the certificate"
    try:
        x509.load_pem_x509_certificate(data)
    except ValueError:
        return "the PEM holds no certificate: include the certificate with the private key"
    return None


def secret_problem(purpose: SecretPurpose, kind: str | None, value: str) -> str | None:
    """Why ``value`` cannot be the secret for ``purpose`` (and the Dynamics sign-in ``kind``), or ``None``."""
    if purpose == "dynamics_secret" and kind == "certificate":
        return pem_problem(value)
    return header_safe_problem(value)
