"""The requests table: creates asked for by ActiveCampaign, one row per (table, AC contact)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, cast

from azure.core.exceptions import ResourceNotFoundError
from azure.data.tables import TransactionOperation, UpdateMode
from azure.data.tables.aio import TableClient

from sync_core.model.state import CreateRequest, EntityName, RequestSource, RequestStatus
from sync_core.store import _codec as codec
from sync_core.store._keys import enc
from sync_core.store.fence import Fence, is_fence_row

_TIMES = ("requested_at", "updated_at", "next_attempt")


def _key(entity: str, ac_id: str) -> str:
    return enc(f"{entity}|{ac_id}")


def _to_entity(cid: str, r: CreateRequest) -> dict[str, Any]:
    e: dict[str, Any] = {"PartitionKey": cid, "RowKey": _key(r.entity, r.ac_id), "entity": r.entity,
                         "ac_id": r.ac_id, "dynamics_id": r.dynamics_id, "source": r.source, "status": r.status,
                         "email": r.email or "", "attempts": r.attempts, "outcome": r.outcome[:1000]}
    for name in _TIMES:
        codec.put_dt(e, name, getattr(r, name))
    return e


def _from_entity(e: Mapping[str, Any]) -> CreateRequest:
    return CreateRequest(
        entity=cast(EntityName, e["entity"]), ac_id=str(e["ac_id"]), dynamics_id=str(e["dynamics_id"]),
        source=cast(RequestSource, e.get("source", "tag")), status=cast(RequestStatus, e.get("status", "pending")),
        email=str(e.get("email") or "") or None, attempts=int(e.get("attempts") or 0),
        outcome=str(e.get("outcome") or ""), requested_at=codec.get_dt(e, "requested_at"),
        updated_at=codec.get_dt(e, "updated_at"), next_attempt=codec.get_dt(e, "next_attempt"))


class RequestRepository:
    def __init__(self, table: TableClient) -> None:
        self._t = table

    async def save(self, cid: str, request: CreateRequest, fence: Fence | None = None) -> None:
        """Fenced (a pass's writes): the row and the fence in one transaction, so a pass that lost its lease
        writes no request row. Unfenced: the webhook route queueing a request."""
        e = _to_entity(cid, request)
        if fence is None:
            await self._t.upsert_entity(e, mode=UpdateMode.REPLACE)
        else:
            await fence.submit("requests", [(TransactionOperation.UPSERT, e, {"mode": UpdateMode.REPLACE})])

    async def get(self, cid: str, entity: EntityName, ac_id: str) -> CreateRequest | None:
        try:
            return _from_entity(await self._t.get_entity(cid, _key(entity, ac_id)))
        except ResourceNotFoundError:
            return None

    async def list(self, cid: str, *, status: RequestStatus | None = None, limit: int = 1000
                   ) -> list[CreateRequest]:
        query, params = "PartitionKey eq @pk", {"pk": cid}
        if status is not None:
            query += " and status eq @st"
            params["st"] = status
        out: list[CreateRequest] = []
        async for e in self._t.query_entities(query, parameters=params):
            if is_fence_row(str(e["RowKey"])):
                continue
            out.append(_from_entity(e))
            if len(out) >= limit:
                break
        return out

    async def counts(self, cid: str) -> dict[str, int]:
        """Requests by status (pending, done, failed)."""
        out = {"pending": 0, "done": 0, "failed": 0}
        async for e in self._t.query_entities("PartitionKey eq @pk", parameters={"pk": cid},
                                              select=["RowKey", "status"]):
            if is_fence_row(str(e["RowKey"])):
                continue
            out[str(e.get("status"))] = out.get(str(e.get("status")), 0) + 1
        return out
