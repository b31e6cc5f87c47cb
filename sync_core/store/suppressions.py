"""The suppressions table: people the sync must not push to ActiveCampaign, keyed by a salted hash.

An erasure (or an AC contact deleted on purpose) leaves a row here instead of the email: RowKey
``s|<HMAC-SHA256 of the normalised email under the connection's salt>``. The salt is a random row of the
partition (``~salt``), made on first use, so a hash cannot be looked up in a table made elsewhere and the
email is never stored in clear. An admin lifts a row by giving the email again.

An AC delete also names the Dynamics record(s) it suppresses (column ``records``, ``entity:id`` separated by
spaces), so a record whose email changes in Dynamics after its AC contact was deleted is not pushed back under
its new email either; lifting any row of such a record lifts every row that names it.
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

    async def add(self, cid: str, email: str, *, reason: str, at: datetime, records: tuple[str, ...] = ()) -> str:
        digest = await self.hash_of(cid, email)
        e: dict[str, Any] = {"PartitionKey": cid, "RowKey": f"s|{digest}", "reason": reason}
        if records:
            try:
                old = str((await self._t.get_entity(cid, f"s|{digest}")).get("records") or "").split()
            except ResourceNotFoundError:
                old = []
            e["records"] = " ".join(sorted({*old, *records}))
        codec.put_dt(e, "at", at)
        await self._t.upsert_entity(e)
        return digest

    async def remove(self, cid: str, email: str) -> bool:
        digest = await self.hash_of(cid, email)
        try:
            row = await self._t.get_entity(cid, f"s|{digest}")
        except ResourceNotFoundError:
            return False
        records = set(str(row.get("records") or "").split())
        keys = {f"s|{digest}"} | {k for k, named in (await self._rows(cid)).items() if named & records}
        for key in keys:
            await self._t.delete_entity(cid, key)  # a delete of a missing row succeeds too
        return True

    async def hashes(self, cid: str) -> set[str]:
        """The suppressed email hashes, and the ``entity:id`` of every Dynamics record a row names."""
        out: set[str] = set()
        for key, records in (await self._rows(cid)).items():
            out |= {key[2:], *records}
        return out

    async def _rows(self, cid: str) -> dict[str, set[str]]:
        out: dict[str, set[str]] = {}
        async for e in self._t.query_entities(
            "PartitionKey eq @pk and RowKey ge @lo and RowKey lt @hi",
            parameters={"pk": cid, "lo": "s|", "hi": "s}"},
            select=["RowKey", "records"],
            results_per_page=1000,
        ):
            out[str(e["RowKey"])] = set(str(e.get("records") or "").split())
        return out
