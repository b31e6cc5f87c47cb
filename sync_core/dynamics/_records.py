"""Records: identity, change-tracking reads, queries, writes and ``$batch`` (reference §2-§4)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from typing import Any

from sync_core.dynamics import _batch
from sync_core.dynamics._base import MAX_PAGE_SIZE, DataverseBase
from sync_core.dynamics._errors import (
    ChangeTrackingDisabledError,
    DataverseError,
    NotExecutedError,
    error_for,
    error_from_response,
)
from sync_core.dynamics._models import BatchOperation, BatchResult, ChangePage, CountResult, QueryPage, WhoAmI
from sync_core.dynamics._odata import normalize_guid

_COUNT_ANNOTATIONS = ('odata.include-annotations="Microsoft.Dynamics.CRM.totalrecordcount,'
                      'Microsoft.Dynamics.CRM.totalrecordcountlimitexceeded"')


def _is_deleted(row: dict[str, Any]) -> bool:
    """§2.1: ``{"@odata.context": ".../$deletedEntity", "id": ..., "reason": "deleted"}``."""
    ctx = str(row.get("@odata.context") or "")
    return ctx.endswith("$deletedEntity") or (row.get("reason") == "deleted" and "id" in row)


class RecordsApi(DataverseBase):
    """Reads and writes of table rows."""

    async def who_am_i(self) -> WhoAmI:
        response, body = await self._get_json(self.url("WhoAmI"), kind="whoami")
        hint = response.headers.get("x-ms-dop-hint")
        return WhoAmI(
            user_id=str(body["UserId"]),
            business_unit_id=str(body["BusinessUnitId"]),
            organization_id=str(body["OrganizationId"]),
            dop_hint=int(hint) if hint and hint.isdigit() else None,
        )

    # ------------------------------------------------------------------ reads

    async def read_changes(self, entity_set: str, *, select: Sequence[str], resume_link: str | None = None,
                           page_size: int | None = None) -> AsyncIterator[ChangePage]:
        """A change-tracking read (§2.1): the full table first, or the changes since a saved link.

        Follow with a saved ``next_link`` (mid-read) or ``delta_link`` (next sync), in any client.
        No ``$filter``/``$orderby``/``$top`` is possible here; filter in memory.
        """
        size = max(1, min(page_size or self.page_size, MAX_PAGE_SIZE))
        if resume_link is not None:
            first = self._check_link(resume_link)
        else:
            if not select:
                raise ValueError("a change-tracking read needs $select (the delta link keeps it)")
            first = self.url(entity_set, [("$select", ",".join(select))])
        prefer = f"odata.track-changes,odata.maxpagesize={size}"
        initial = resume_link is None
        async for response, body in self._pages(first, kind="changes", prefer=prefer, change_read=True):
            applied = response.headers.get("Preference-Applied")
            if initial and applied is not None and "odata.track-changes" not in applied:
                # §2.1: the service echoes the preference it applied; refuse before any page is used
                raise ChangeTrackingDisabledError(
                    f"{entity_set}: change tracking was not applied; enable it on the table",
                    status=response.status_code)
            initial = False
            records: list[dict[str, Any]] = []
            deleted: list[str] = []
            for row in body.get("value") or []:
                if _is_deleted(row):
                    deleted.append(str(row["id"]))
                else:
                    records.append(row)
            next_link = body.get("@odata.nextLink")
            delta_link = body.get("@odata.deltaLink")
            if next_link is None and delta_link is None:
                raise ChangeTrackingDisabledError(
                    f"{entity_set}: no delta link returned; enable change tracking on the table",
                    status=response.status_code,
                )
            yield ChangePage(records=records, deleted_ids=deleted,
                             next_link=str(next_link) if next_link else None,
                             delta_link=str(delta_link) if delta_link and not next_link else None)

    async def query(self, entity_set: str, *, select: Sequence[str] | None = None, filter: str | None = None,
                    orderby: str | None = None, top: int | None = None, page_size: int | None = None,
                    resume_link: str | None = None) -> AsyncIterator[QueryPage]:
        """Pages of an OData query; ``filter`` is OData text (build literals with the ``_odata`` helpers)."""
        if resume_link is not None:
            first = self._check_link(resume_link)
        else:
            options: list[tuple[str, str]] = []
            if select:
                options.append(("$select", ",".join(select)))
            if filter:
                options.append(("$filter", filter))
            if orderby:
                options.append(("$orderby", orderby))
            if top is not None:
                options.append(("$top", str(top)))
            first = self.url(entity_set, options)
        # §3: $top and maxpagesize do not combine
        prefer = None if top is not None else f"odata.maxpagesize={max(1, min(page_size or self.page_size, 5000))}"
        async for _, body in self._pages(first, kind="query", prefer=prefer):
            nxt = body.get("@odata.nextLink")
            yield QueryPage(records=list(body.get("value") or []), next_link=str(nxt) if nxt else None)

    async def query_all(self, entity_set: str, **kwargs: Any) -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = []
        async for page in self.query(entity_set, **kwargs):
            rows.extend(page.records)
        return rows

    async def count(self, entity_set: str, *, filter: str | None = None) -> CountResult:
        """``$count=true`` with the limit annotations (§3: the count stops at 5,000)."""
        options = [("$count", "true")]
        if filter:
            options.append(("$filter", filter))
        _, body = await self._get_json(self.url(entity_set, options), kind="count",
                                       prefer=f"odata.maxpagesize=1,{_COUNT_ANNOTATIONS}")
        n = int(body.get("@odata.count", 0))
        exceeded = body.get("@Microsoft.Dynamics.CRM.totalrecordcountlimitexceeded")
        total = body.get("@Microsoft.Dynamics.CRM.totalrecordcount")
        if isinstance(total, int) and total > n and exceeded is not False:
            n = total
        limit = bool(exceeded) if exceeded is not None else n >= MAX_PAGE_SIZE
        return CountResult(count=n, limit_exceeded=limit)

    async def get(self, entity_set: str, record_id: str, *, select: Sequence[str] | None = None
                  ) -> dict[str, Any] | None:
        options = [("$select", ",".join(select))] if select else []
        response, body = await self._get_json(self.url(self.record_path(entity_set, record_id), options),
                                              kind="get", allow=(404,))
        if response.status_code == 404:
            return None
        return body if isinstance(body, dict) else None

    async def create(self, entity_set: str, body: dict[str, Any], *, return_representation: bool = False
                     ) -> str | dict[str, Any]:
        """POST (§4.1): the new id from ``OData-EntityId``, or the record with ``return_representation``."""
        headers = {"Prefer": "return=representation"} if return_representation else {}
        response = await self._send("POST", self.url(entity_set), kind="create", headers=headers,
                                    content=self._json(body))
        if return_representation and response.content:
            data = response.json()
            if isinstance(data, dict):
                return data
        entity_id = _batch.entity_id_from_header(response.headers.get("OData-EntityId"))
        if entity_id is None:
            raise DataverseError("create answered without OData-EntityId", status=response.status_code)
        return normalize_guid(entity_id) if len(entity_id) >= 32 else entity_id

    async def update(self, entity_set: str, record_id: str, body: dict[str, Any], *,
                     if_match: str | None = "*") -> None:
        """PATCH (§4.2). ``If-Match: *`` refuses to create (missing → NotFoundError); an ETag → 412 ConflictError."""
        headers = {"If-Match": if_match} if if_match else {}
        await self._send("PATCH", self.url(self.record_path(entity_set, record_id)), kind="update",
                         headers=headers, content=self._json(body))

    async def upsert(self, entity_set: str, record_id: str, body: dict[str, Any], *, prevent_create: bool = False,
                     prevent_update: bool = False) -> None:
        """PATCH without If-Match creates or updates (§4.2); ``record_id`` may be an alternate key."""
        if prevent_create and prevent_update:
            raise ValueError("an upsert cannot prevent both create and update")
        headers: dict[str, str] = {}
        if prevent_create:
            headers["If-Match"] = "*"
        if prevent_update:
            headers["If-None-Match"] = "*"
        await self._send("PATCH", self.url(self.record_path(entity_set, record_id)), kind="upsert",
                         headers=headers, content=self._json(body))

    async def delete(self, entity_set: str, record_id: str, *, if_match: str | None = None) -> None:
        """DELETE; a record that is already gone is fine. An ETag that no longer matches → ConflictError."""
        headers = {"If-Match": if_match} if if_match else {}
        await self._send("DELETE", self.url(self.record_path(entity_set, record_id)), kind="delete",
                         headers=headers, allow=(404,))

    # ------------------------------------------------------------------ $batch

    async def execute_batch(self, operations: Sequence[BatchOperation], *, continue_on_error: bool = True,
                            atomic: bool = False) -> list[BatchResult]:
        """Operations through ``$batch`` (§4.3), one result per operation, in order.

        More than 1,000 operations go in several calls. ``atomic`` puts them in one change set
        (all or nothing, so at most 1,000). Without ``continue_on_error`` Dataverse stops at the
        first failure; the operations it never ran (and later calls) come back as
        :class:`NotExecutedError` results with status 424.
        """
        ops = list(operations)
        if atomic and len(ops) > _batch.MAX_BATCH_OPERATIONS:
            raise ValueError(f"an atomic change set holds at most {_batch.MAX_BATCH_OPERATIONS} operations")
        results: list[BatchResult] = []
        stopped = False
        for start in range(0, len(ops), _batch.MAX_BATCH_OPERATIONS):
            chunk = ops[start:start + _batch.MAX_BATCH_OPERATIONS]
            if stopped:
                results.extend(_not_executed(len(chunk)))
                continue
            chunk_results = await self._batch_call(chunk, continue_on_error=continue_on_error, atomic=atomic)
            results.extend(chunk_results)
            if not continue_on_error and any(not r.ok for r in chunk_results):
                stopped = True
        return results

    async def _batch_call(self, ops: list[BatchOperation], *, continue_on_error: bool, atomic: bool
                          ) -> list[BatchResult]:
        content_type, payload = _batch.build_batch(ops, self.service_root, atomic=atomic)
        headers = {"Content-Type": content_type}
        if continue_on_error and not atomic:
            headers["Prefer"] = "odata.continue-on-error"
        response = await self._send("POST", self.url("$batch"), kind="$batch", headers=headers, content=payload,
                                    allow=(400, 500))
        ctype = response.headers.get("Content-Type", "")
        if not ctype.lower().startswith("multipart/"):
            if response.status_code >= 400:
                raise error_from_response(response)
            raise DataverseError("the $batch response is not multipart", status=response.status_code)
        parts = _batch.parse_batch_response(ctype, response.content)
        results = [_result_of(p) for p in parts]
        if atomic and len(results) != len(ops):
            # a failed change set answers once for all of its operations: all were rolled back
            failure = next((r for r in results if not r.ok), None)
            if failure is None:
                raise DataverseError(f"the change set answered {len(results)} of {len(ops)} operations",
                                     status=response.status_code)
            return [BatchResult(status=failure.status, body=failure.body, headers=failure.headers,
                                error=failure.error) for _ in ops]
        if len(results) > len(ops):
            raise DataverseError(f"the $batch answered {len(results)} parts for {len(ops)} operations",
                                 status=response.status_code)
        return results + _not_executed(len(ops) - len(results))



def _result_of(part: _batch.ResponsePart) -> BatchResult:
    body = _batch.part_json(part)
    error = error_for(part.status, body) if part.status >= 400 else None
    entity_id = _batch.entity_id_from_header(_batch.header(part.headers, "OData-EntityId"))
    return BatchResult(status=part.status, body=body, headers=part.headers, error=error, entity_id=entity_id)


def _not_executed(n: int) -> list[BatchResult]:
    return [BatchResult(status=424, body=None, headers={},
                        error=NotExecutedError("not run: the batch stopped at an earlier error", status=424))
            for _ in range(n)]
