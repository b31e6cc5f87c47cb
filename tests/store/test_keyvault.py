"""The Key Vault secret store's behaviour around soft delete and metadata reads.

Key Vault is not reachable from here, so the SDK's ``SecretClient`` is replaced by a stand-in that
answers as the service does for the calls the store makes (errors built as the SDK raises them):
a set on a name that is deleted but recoverable answers 409 ``ObjectIsDeletedButRecoverable``;
a deletion still in progress answers 409 ``ObjectIsBeingDeleted``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from azure.core.exceptions import HttpResponseError, ResourceExistsError, ResourceNotFoundError

from sync_core.keyvault import KeyVaultSecretStore


@dataclass
class _Version:
    enabled: bool = True


@dataclass
class _Secret:
    value: str


def _error(cls: type[HttpResponseError], status: int, code: str) -> HttpResponseError:
    e = cls(message=f"({code}) conflict")
    e.status_code = status
    e.error = type("ODataV4Format", (), {"code": code})()
    return e


@dataclass
class VaultStandIn:
    live: dict[str, list[str]] = field(default_factory=dict)
    deleted: dict[str, list[str]] = field(default_factory=dict)
    deleting: int = 0
    """How many more sets answer ``ObjectIsBeingDeleted`` after a delete."""
    value_reads: int = 0
    calls: list[str] = field(default_factory=list)

    async def get_secret(self, name: str) -> _Secret:
        self.calls.append(f"get {name}")
        self.value_reads += 1
        if name not in self.live:
            raise ResourceNotFoundError("SecretNotFound")
        return _Secret(self.live[name][-1])

    def list_properties_of_secret_versions(self, name: str) -> AsyncIterator[_Version]:
        self.calls.append(f"versions {name}")

        async def versions() -> AsyncIterator[_Version]:
            if name not in self.live:
                raise ResourceNotFoundError("SecretNotFound")
            for _ in self.live[name]:
                yield _Version()
        return versions()

    async def set_secret(self, name: str, value: str, **_: Any) -> None:
        self.calls.append(f"set {name}")
        if self.deleting:
            self.deleting -= 1
            raise _error(ResourceExistsError, 409, "ObjectIsBeingDeleted")
        if name in self.deleted:
            raise _error(ResourceExistsError, 409, "ObjectIsDeletedButRecoverable")
        self.live.setdefault(name, []).append(value)

    async def recover_deleted_secret(self, name: str) -> None:
        self.calls.append(f"recover {name}")
        if name not in self.deleted:
            raise ResourceNotFoundError("DeletedSecretNotFound")
        self.live[name] = self.deleted.pop(name)

    async def delete_secret(self, name: str) -> None:
        self.calls.append(f"delete {name}")
        if name not in self.live:
            raise ResourceNotFoundError("SecretNotFound")
        self.deleted[name] = self.live.pop(name)


@pytest.fixture
def vault() -> VaultStandIn:
    return VaultStandIn()


def store(vault: VaultStandIn, slept: list[float] | None = None) -> KeyVaultSecretStore:
    async def sleep(seconds: float) -> None:
        (slept if slept is not None else []).append(seconds)

    return KeyVaultSecretStore("https://vault.example", credential=None, client=vault, sleep=sleep)  # type: ignore[arg-type]


async def test_reconnect_after_disconnect_recovers_then_writes_the_new_value(vault: VaultStandIn) -> None:
    s = store(vault)
    await s.set_secret("sync-ac-key.contoso", "old-key")
    await s.delete_secret("sync-ac-key.contoso")
    assert await s.get_secret("sync-ac-key.contoso") is None
    await s.set_secret("sync-ac-key.contoso", "new-key")
    assert await s.get_secret("sync-ac-key.contoso") == "new-key"
    assert vault.calls[-4:-1] == ["set sync-ac-key-contoso", "recover sync-ac-key-contoso", "set sync-ac-key-contoso"]


async def test_a_deletion_in_progress_is_waited_out_and_then_fails_loudly(vault: VaultStandIn) -> None:
    slept: list[float] = []
    s = store(vault, slept)
    vault.deleting = 2
    await s.set_secret("k", "v")
    assert slept == [1.0, 2.0] and vault.live["k"] == ["v"]
    vault.deleting = 99
    with pytest.raises(HttpResponseError):
        await s.set_secret("k", "v2")


async def test_presence_is_read_from_metadata_never_from_the_value(vault: VaultStandIn) -> None:
    s = store(vault)
    assert not await s.has_secret("k")
    await s.set_secret("k", "v")
    assert await s.has_secret("k")
    await s.delete_secret("k")
    assert not await s.has_secret("k")
    assert vault.value_reads == 0
    await s.delete_secret("k")  # already gone: fine
