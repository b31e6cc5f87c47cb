"""The suppressions table: people the sync must not push to ActiveCampaign, keyed by a salted hash.

An erasure (or an AC contact deleted on purpose) leaves a row here instead of the email: RowKey
``s|<HMAC-SHA256 of the normalised email under the connection's salt>``. The salt is a random row of the
partition (``~salt``), made on first use, so a hash cannot be looked up in a table made elsewhere and the
email is never stored in clear. An admin lifts a row by giving the email again.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import secrets
from datetime import datetime
from typing import Any

from azure.core.exceptions import ResourceExistsError, ResourceNotFoundError
from azure.data.tables.aio import TableClient

from sync_core.store import _codec as codec

SALT_KEY = "~salt"


def normal_email(email: str) -> str:
    return email.strip().lower()


class SuppressionRepository:
    def __init__(self, table: TableClient) -> None:
        self._t = table
        self._salts: dict[str, bytes] = {}

    async def _salt(self, cid: str) -> bytes:
        if cid in self._salts:
            return self._salts[cid]
        try:
            e = await self._t.get_entity(cid, SALT_KEY)
        except ResourceNotFoundError:
            with contextlib.suppress(ResourceExistsError):  # made by a concurrent caller: read theirs
                await self._t.create_entity({"PartitionKey": cid, "RowKey": SALT_KEY, "salt": secrets.token_hex(32)})
            e = await self._t.get_entity(cid, SALT_KEY)
        self._salts[cid] = bytes.fromhex(str(e["salt"]))
        return self._salts[cid]

    async def hash_of(self, cid: str, email: str) -> str:
        return hmac.new(await self._salt(cid), normal_email(email).encode(), hashlib.sha256).hexdigest()

    async def add(self, cid: str, email: str, *, reason: str, at: datetime) -> str:
        digest = await self.hash_of(cid, email)
        e: dict[str, Any] = {"PartitionKey": cid, "RowKey": f"s|{digest}", "reason": reason}
        codec.put_dt(e, "at", at)
        await self._t.upsert_entity(e)
        return digest

    async def remove(self, cid: str, email: str) -> bool:
        digest = await self.hash_of(cid, email)
        try:
            await self._t.get_entity(cid, f"s|{digest}")
        except ResourceNotFoundError:
            return False
        await self._t.delete_entity(cid, f"s|{digest}")  # a delete of a missing row succeeds too
        return True

    async def hashes(self, cid: str) -> set[str]:
        out: set[str] = set()
        async for e in self._t.query_entities(
            "PartitionKey eq @pk and RowKey ge @lo and RowKey lt @hi",
            parameters={"pk": cid, "lo": "s|", "hi": "s}"}, select=["RowKey"], results_per_page=1000,
        ):
            out.add(str(e["RowKey"])[2:])
        return out
