"""Where secrets live: never in the config document, a table entity, a log line or a URL."""

from __future__ import annotations

from typing import Protocol, runtime_checkable


@runtime_checkable
class SecretStore(Protocol):
    """A named-secret vault: Key Vault in Azure, a local file store otherwise."""

    async def get_secret(self, name: str) -> str | None:
        """The secret's value, or ``None`` when there is none."""
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
