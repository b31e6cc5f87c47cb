"""A local secret store for runs outside Azure: one JSON file, readable by its owner only.

In Azure the secrets live in Key Vault; this file stands in for it on a developer machine or in
tests. It is never a table entity, and its values never appear in errors or logs.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import tempfile
from pathlib import Path


class LocalSecretStore:
    """Implements :class:`sync_core.model.secrets.SecretStore` with a mode-0600 JSON file."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._lock = asyncio.Lock()

    def __repr__(self) -> str:
        return f"LocalSecretStore({str(self.path)!r})"

    def _read(self) -> dict[str, str]:
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return {}
        data = json.loads(text) if text.strip() else {}
        if not isinstance(data, dict):
            raise ValueError(f"{self.path} is not a secret store (expected a JSON object)")
        return {str(k): str(v) for k, v in data.items()}

    def _write(self, data: dict[str, str]) -> None:
        """Write a new file beside the old one (created 0600), then swap it in atomically."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".secrets-", dir=self.path.parent)  # mkstemp creates it 0600
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                json.dump(data, f, indent=1, sort_keys=True)
            os.chmod(tmp, 0o600)
            os.replace(tmp, self.path)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
            raise

    async def get_secret(self, name: str) -> str | None:
        async with self._lock:
            data = await asyncio.to_thread(self._read)
        return data.get(name)

    async def has_secret(self, name: str) -> bool:
        return bool(await self.get_secret(name))

    async def set_secret(self, name: str, value: str) -> None:
        async with self._lock:
            data = await asyncio.to_thread(self._read)
            data[name] = value
            await asyncio.to_thread(self._write, data)

    async def delete_secret(self, name: str) -> None:
        async with self._lock:
            data = await asyncio.to_thread(self._read)
            if data.pop(name, None) is not None:
                await asyncio.to_thread(self._write, data)
