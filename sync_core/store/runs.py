"""The runs table: one row per pass, newest first (RowKey = inverted start time + run id)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, cast

from azure.data.tables import UpdateMode
from azure.data.tables.aio import TableClient

from sync_core.model.state import RunRecord, RunStatus
from sync_core.store import _codec as codec
from sync_core.store._keys import enc, key, newest_first


def run_key(run: RunRecord) -> str:
    return key(newest_first(run.started_at), enc(run.run_id))


def _to_entity(cid: str, run: RunRecord) -> dict[str, Any]:
    e: dict[str, Any] = {
        "PartitionKey": cid,
        "RowKey": run_key(run),
        "run_id": run.run_id,
        "reason": run.reason,
        "status": run.status,
    }
    codec.put_dt(e, "started_at", run.started_at)
    codec.put_dt(e, "finished_at", run.finished_at)
    codec.put_json(e, "counts", run.counts)
    codec.put_json(e, "api_calls", run.api_calls)
    codec.put_text(e, "message", run.message)
    codec.check_size(e, f"run {run.run_id}")
    return e


def _from_entity(e: Mapping[str, Any]) -> RunRecord:
    started = codec.get_dt(e, "started_at")
    assert started is not None
    return RunRecord(
        run_id=str(e["run_id"]),
        started_at=started,
        reason=str(e.get("reason", "")),
        status=cast(RunStatus, e.get("status", "running")),
        finished_at=codec.get_dt(e, "finished_at"),
        counts=codec.get_json(e, "counts", {}),
        api_calls=codec.get_json(e, "api_calls", {}),
        message=codec.get_text(e, "message"),
    )


class RunRepository:
    def __init__(self, table: TableClient) -> None:
        self._t = table

    async def save(self, cid: str, run: RunRecord) -> None:
        """Upsert: the key depends only on the run's id and start, so every save hits one row."""
        await self._t.upsert_entity(_to_entity(cid, run), mode=UpdateMode.REPLACE)

    async def list(self, cid: str, limit: int) -> list[RunRecord]:
        out: list[RunRecord] = []
        if limit <= 0:
            return out
        async for e in self._t.query_entities(
            "PartitionKey eq @pk", parameters={"pk": cid}, results_per_page=min(limit, 1000)
        ):
            out.append(_from_entity(e))
            if len(out) >= limit:
                break
        return out
