"""The typed async client for the Dataverse Web API (OData v4), over httpx.

Facts it relies on are in shared/reference/dynamics-webapi.md (section numbers in comments).
Every HTTP attempt is counted in :attr:`DataverseClient.calls` by kind and logged with method,
path and status only.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator, Sequence
from dataclasses import replace
from types import TracebackType
from typing import Any
from urllib.parse import quote

import httpx
from azure.core.credentials_async import AsyncTokenCredential

from sync_core.clock import SYSTEM_CLOCK, Clock
from sync_core.dynamics import _batch, _metadata
from sync_core.dynamics._errors import (
    ChangeTrackingDisabledError,
    DataverseError,
    DuplicateRecordError,
    NotExecutedError,
    PagingLoopError,
    UnsafeLinkError,
    ValidationError,
    error_for,
    error_from_response,
)
from sync_core.dynamics._models import (
    AttributeMetadata,
    BatchOperation,
    BatchResult,
    ChangePage,
    CountResult,
    EntityMetadata,
    QueryPage,
    WhoAmI,
)
from sync_core.dynamics._odata import encode_query, escape_like, key_segment, normalize_guid, quote_string
from sync_core.dynamics._policy import DataverseCallPolicy
from sync_core.http import Backoff, Pipeline
from sync_core.model.budget import RequestBudget
from sync_core.model.guard import CallGuard

logger = logging.getLogger("sync_core.dynamics")

MAX_PAGE_SIZE = 5000  # §3: default and maximum odata.maxpagesize
BACKOFF_CAP = 60.0
_PATH_SAFE = "()'=,@:$!*+-._~"
_USER_SELECT = ("systemuserid,fullname,domainname,internalemailaddress,azureactivedirectoryobjectid,isdisabled,"
                "_businessunitid_value")
_COUNT_ANNOTATIONS = ('odata.include-annotations="Microsoft.Dynamics.CRM.totalrecordcount,'
                      'Microsoft.Dynamics.CRM.totalrecordcountlimitexceeded"')


def _is_deleted(row: dict[str, Any]) -> bool:
    """§2.1: ``{"@odata.context": ".../$deletedEntity", "id": ..., "reason": "deleted"}``."""
    ctx = str(row.get("@odata.context") or "")
    return ctx.endswith("$deletedEntity") or (row.get("reason") == "deleted" and "id" in row)


class DataverseClient:
    """One Dataverse environment, one credential. Safe to share between coroutines of one loop."""

    def __init__(self, environment_url: str, credential: AsyncTokenCredential, *, clock: Clock | None = None,
                 transport: httpx.AsyncBaseTransport | None = None, api_version: str = "v9.2",
                 page_size: int = MAX_PAGE_SIZE, max_retries: int = 8, timeout: float = 60.0,
                 budget: RequestBudget | None = None, guard: CallGuard | None = None,
                 in_flight: asyncio.Semaphore | None = None) -> None:
        env = httpx.URL(environment_url.rstrip("/"))
        if env.scheme not in ("http", "https") or not env.host:
            raise ValueError("environment_url must be an absolute http(s) URL")
        self.environment_url = str(env).rstrip("/")
        self.service_root = f"{self.environment_url}/api/data/{api_version}/"
        self._origin = (env.scheme, env.host, env.port)
        self._scope = f"{self.environment_url}/.default"  # §1.1 confidential-client scope
        self._credential = credential
        self._clock: Clock = clock or SYSTEM_CLOCK
        self._pipeline = Pipeline(logger=logger, clock=self._clock, budget=budget, guard=guard, in_flight=in_flight,
                                  backoff=Backoff(base=1.0, cap=BACKOFF_CAP, jitter=True), max_retries=max_retries,
                                  timeout=timeout, transport=transport)
        self.page_size = max(1, min(page_size, MAX_PAGE_SIZE))
        self.calls = self._pipeline.calls
        """Every attempt, by kind."""
        self._metadata: dict[str, EntityMetadata] = {}
        self._metadata_locks: dict[str, asyncio.Lock] = {}

    # ------------------------------------------------------------------ lifecycle

    async def aclose(self) -> None:
        """Closes the HTTP pool; the credential belongs to the caller."""
        await self._pipeline.aclose()

    async def __aenter__(self) -> DataverseClient:
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                        tb: TracebackType | None) -> None:
        await self.aclose()

    # ------------------------------------------------------------------ URLs

    def url(self, path: str, options: Sequence[tuple[str, str]] = ()) -> str:
        """Absolute URL for a path relative to the service root, with encoded query options."""
        query = encode_query(list(options))
        return self.service_root + path.lstrip("/") + (f"?{query}" if query else "")

    def record_path(self, entity_set: str, record_id: str) -> str:
        return f"{entity_set}({quote(key_segment(record_id), safe=_PATH_SAFE)})"

    def _check_link(self, link: str) -> str:
        """A saved link is followed verbatim, but only inside this environment (it gets our token)."""
        url = httpx.URL(link)
        if not url.is_absolute_url:
            return self.service_root + link.lstrip("/")
        if (url.scheme, url.host, url.port) != self._origin:
            raise UnsafeLinkError("a paging/delta link points outside the Dataverse environment")
        return link

    # ------------------------------------------------------------------ transport

    async def _send(self, method: str, url: str, *, kind: str, headers: dict[str, str] | None = None,
                    content: bytes | None = None, allow: Sequence[int] = (), change_read: bool = False
                    ) -> httpx.Response:
        """One logical request through the pipeline; what is retried is in ``_policy``.

        Statuses in ``allow`` come back as responses; every other failure raises the typed error.
        """
        hdrs = {"Accept": "application/json", "OData-MaxVersion": "4.0", "OData-Version": "4.0"}
        if content is not None:
            hdrs["Content-Type"] = "application/json"
        hdrs.update(headers or {})
        policy = DataverseCallPolicy(self._pipeline.http, self._credential, self._scope, clock=self._clock,
                                     method=method, allow=allow, change_read=change_read)
        return await self._pipeline.send(method.upper(), url, kind=kind, policy=policy, headers=hdrs, content=content)

    async def _get_json(self, url: str, *, kind: str, prefer: str | None = None, allow: Sequence[int] = (),
                        change_read: bool = False) -> tuple[httpx.Response, Any]:
        headers = {"If-None-Match": "null"}  # §1.3: no cached expanded collections
        if prefer:
            headers["Prefer"] = prefer
        response = await self._send("GET", url, kind=kind, headers=headers, allow=allow, change_read=change_read)
        if response.status_code >= 400 or not response.content:
            return response, None
        return response, response.json()

    async def _pages(self, first_url: str, *, kind: str, prefer: str | None,
                     change_read: bool = False) -> AsyncIterator[tuple[httpx.Response, dict[str, Any]]]:
        """Follows ``@odata.nextLink`` verbatim with the same Prefer on every page (§3)."""
        url: str | None = first_url
        seen: set[str] = set()
        while url is not None:
            seen.add(url)
            response, body = await self._get_json(url, kind=kind, prefer=prefer, change_read=change_read)
            if not isinstance(body, dict):
                raise ValidationError("the service answered a collection read without a JSON object",
                                      status=response.status_code)
            nxt = body.get("@odata.nextLink")
            if nxt is not None:
                nxt = self._check_link(str(nxt))
                if nxt in seen:
                    raise PagingLoopError("the service repeated an @odata.nextLink", status=response.status_code)
            yield response, body
            url = nxt

    async def _collect(self, url: str, *, kind: str) -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = []
        async for _, body in self._pages(url, kind=kind, prefer=f"odata.maxpagesize={self.page_size}"):
            rows.extend(body.get("value") or [])
        return rows

    # ------------------------------------------------------------------ identity

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

    # ------------------------------------------------------------------ writes

    @staticmethod
    def _json(body: dict[str, Any]) -> bytes:
        return json.dumps(body, ensure_ascii=False).encode("utf-8")

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

    # ------------------------------------------------------------------ metadata

    async def entity_metadata(self, logical_name: str) -> EntityMetadata:
        """Table and column metadata (§6), fetched once per client and table."""
        cached = self._metadata.get(logical_name)
        if cached is not None:
            return cached
        lock = self._metadata_locks.setdefault(logical_name, asyncio.Lock())
        async with lock:
            cached = self._metadata.get(logical_name)
            if cached is None:
                cached = await self._load_metadata(logical_name)
                self._metadata[logical_name] = cached
            return cached

    async def _metadata_rows(self, path: str, options: list[tuple[str, str]]) -> list[dict[str, Any]]:
        _, body = await self._get_json(self.url(path, options), kind="metadata")
        return list(body.get("value") or []) if isinstance(body, dict) else []

    async def _load_metadata(self, logical_name: str) -> EntityMetadata:
        entity_path = f"EntityDefinitions(LogicalName={quote(quote_string(logical_name), safe=_PATH_SAFE)})"
        _, entity = await self._get_json(self.url(entity_path, [("$select", _metadata.ENTITY_SELECT)]),
                                         kind="metadata")
        rows = await self._metadata_rows(f"{entity_path}/Attributes", [("$select", _metadata.ATTRIBUTE_SELECT)])
        attrs = {a.logical_name: a for a in map(_metadata.parse_attribute, rows)}
        extra: dict[str, dict[str, Any]] = {name: {} for name in attrs}
        for cast in _metadata.STRING_CASTS:
            for row in await self._metadata_rows(f"{entity_path}/Attributes/Microsoft.Dynamics.CRM.{cast}",
                                                 [("$select", "LogicalName,MaxLength")]):
                if row.get("LogicalName") in extra and row.get("MaxLength") is not None:
                    extra[row["LogicalName"]]["max_length"] = int(row["MaxLength"])
        for row in await self._metadata_rows(f"{entity_path}/Attributes/Microsoft.Dynamics.CRM.{_metadata.LOOKUP_CAST}",
                                             [("$select", "LogicalName,Targets")]):
            if row.get("LogicalName") in extra:
                extra[row["LogicalName"]]["targets"] = tuple(row.get("Targets") or ())
        for cast in _metadata.OPTION_CASTS:
            expand = "OptionSet($select=Options),GlobalOptionSet($select=Options)"
            if cast in ("StateAttributeMetadata", "StatusAttributeMetadata"):
                expand = "OptionSet($select=Options)"
            for row in await self._metadata_rows(f"{entity_path}/Attributes/Microsoft.Dynamics.CRM.{cast}",
                                                 [("$select", "LogicalName"), ("$expand", expand)]):
                if row.get("LogicalName") in extra:
                    extra[row["LogicalName"]]["options"] = _metadata.parse_options(row)
        merged = {name: _with(attr, extra[name]) for name, attr in attrs.items()}
        return _metadata.build_entity(entity, merged)

    async def entity_set_name(self, logical_name: str) -> str:
        return (await self.entity_metadata(logical_name)).entity_set_name

    # ------------------------------------------------------------------ users, roles, teams (§8)

    async def search_users(self, text: str, *, top: int = 10) -> list[dict[str, Any]]:
        """Enabled users whose name, e-mail or UPN contains ``text`` (wildcards escaped)."""
        needle = quote_string(escape_like(text.strip()))
        flt = (f"isdisabled eq false and (contains(fullname,{needle}) or contains(internalemailaddress,{needle})"
               f" or contains(domainname,{needle}))")
        return await self.query_all("systemusers", select=_USER_SELECT.split(","), filter=flt,
                                    orderby="fullname asc", top=top)

    async def get_user(self, user_id: str) -> dict[str, Any] | None:
        return await self.get("systemusers", user_id, select=_USER_SELECT.split(","))

    async def get_user_by_object_id(self, aad_object_id: str) -> dict[str, Any] | None:
        rows = await self.query_all("systemusers", select=_USER_SELECT.split(","),
                                    filter=f"azureactivedirectoryobjectid eq {normalize_guid(aad_object_id)}", top=1)
        return rows[0] if rows else None

    async def user_roles(self, user_id: str) -> list[dict[str, Any]]:
        path = f"{self.record_path('systemusers', user_id)}/systemuserroles_association"
        return await self._collect(self.url(path, [("$select", "roleid,name,_businessunitid_value")]), kind="query")

    async def user_teams(self, user_id: str) -> list[dict[str, Any]]:
        path = f"{self.record_path('systemusers', user_id)}/teammembership_association"
        return await self._collect(self.url(path, [("$select", "teamid,name,_businessunitid_value")]), kind="query")

    async def team_roles(self, team_id: str) -> list[dict[str, Any]]:
        path = f"{self.record_path('teams', team_id)}/teamroles_association"
        return await self._collect(self.url(path, [("$select", "roleid,name,_businessunitid_value")]), kind="query")

    async def find_roles(self, name: str, *, business_unit_id: str | None = None) -> list[dict[str, Any]]:
        """Roles by exact name; every business unit has its own copy of a role."""
        flt = f"name eq {quote_string(name)}"
        if business_unit_id:
            flt += f" and _businessunitid_value eq {normalize_guid(business_unit_id)}"
        return await self.query_all("roles", select=["roleid", "name", "_businessunitid_value"], filter=flt)

    async def create_role(self, name: str, business_unit_id: str) -> str:
        body = {"name": name, "businessunitid@odata.bind": f"/businessunits({normalize_guid(business_unit_id)})"}
        result = await self.create("roles", body)
        assert isinstance(result, str)
        return result

    async def associate_role(self, user_id: str, role_id: str) -> None:
        """A user can only get a role of its own business unit; the service refuses others.

        Idempotent: a user who already holds the role is fine (the service may answer 204 or a
        duplicate-key error for that).
        """
        path = f"{self.record_path('systemusers', user_id)}/systemuserroles_association/$ref"
        body = {"@odata.id": self.service_root + self.record_path("roles", role_id)}
        try:
            await self._send("POST", self.url(path), kind="associate", content=self._json(body))
        except DuplicateRecordError:
            return

    async def disassociate_role(self, user_id: str, role_id: str) -> None:
        path = (f"{self.record_path('systemusers', user_id)}/systemuserroles_association"
                f"({normalize_guid(role_id)})/$ref")
        await self._send("DELETE", self.url(path), kind="disassociate", allow=(404,))

    # ------------------------------------------------------------------ messages

    async def qualify_lead(self, lead_id: str, *, create_account: bool = False, create_contact: bool = True,
                           create_opportunity: bool = False, status: int = 3) -> list[dict[str, Any]]:
        """The ``QualifyLead`` action (§7); returns the records it created (entity references)."""
        path = f"{self.record_path('leads', lead_id)}/Microsoft.Dynamics.CRM.QualifyLead"
        body = {"CreateAccount": create_account, "CreateContact": create_contact,
                "CreateOpportunity": create_opportunity, "Status": status}
        response = await self._send("POST", self.url(path), kind="qualifylead", content=self._json(body))
        data = response.json() if response.content else {}
        return list(data.get("value") or []) if isinstance(data, dict) else []

    async def merge(self, logical_name: str, target_id: str, subordinate_id: str, *,
                    update_content: dict[str, Any] | None = None, perform_parenting_checks: bool = False) -> None:
        """The ``Merge`` action: the subordinate is deactivated (``merged``, ``masterid``), the target kept."""
        meta = await self.entity_metadata(logical_name)
        odata_type = f"Microsoft.Dynamics.CRM.{logical_name}"
        pk = meta.primary_id_attribute
        body: dict[str, Any] = {
            "Target": {"@odata.type": odata_type, pk: normalize_guid(target_id)},
            "Subordinate": {"@odata.type": odata_type, pk: normalize_guid(subordinate_id)},
            "UpdateContent": {"@odata.type": odata_type, **(update_content or {})},
            "PerformParentingChecks": perform_parenting_checks,
        }
        await self._send("POST", self.url("Merge"), kind="merge", content=self._json(body))


def _with(attr: AttributeMetadata, extra: dict[str, Any]) -> AttributeMetadata:
    return replace(attr, **extra) if extra else attr


def _result_of(part: _batch.ResponsePart) -> BatchResult:
    body = _batch.part_json(part)
    error = error_for(part.status, body) if part.status >= 400 else None
    entity_id = _batch.entity_id_from_header(_batch.header(part.headers, "OData-EntityId"))
    return BatchResult(status=part.status, body=body, headers=part.headers, error=error, entity_id=entity_id)


def _not_executed(n: int) -> list[BatchResult]:
    return [BatchResult(status=424, body=None, headers={},
                        error=NotExecutedError("not run: the batch stopped at an earlier error", status=424))
            for _ in range(n)]
