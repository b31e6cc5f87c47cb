"""Custom objects: schemas and records (reference §8). Enterprise plans only: see PlanLimitError."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from sync_core.activecampaign._base import ClientBase
from sync_core.activecampaign._paging import iter_offset
from sync_core.activecampaign._shapes import one, seg


class CustomObjectsApi(ClientBase):
    """``/customObjects/schemas`` and ``/customObjects/records/{schemaId}``."""

    async def list_schemas(self) -> list[dict[str, Any]]:
        async def fetch(paging: dict[str, Any]) -> dict[str, Any]:
            return await self._get("customObjects/schemas", kind="schemas.list",
                                   params={"showFields": "all", **paging})

        return [s async for s in iter_offset(fetch, "schemas")]

    async def create_schema(self, schema: dict[str, Any]) -> dict[str, Any]:
        return one(await self._post("customObjects/schemas", {"schema": schema}, kind="schema.create"), "schema")

    async def get_schema(self, schema_id: str) -> dict[str, Any]:
        body = await self._get(f"customObjects/schemas/{seg(schema_id)}", kind="schema.get",
                               params={"showFields": "all"})
        return one(body, "schema")

    async def update_schema(self, schema_id: str, schema: dict[str, Any]) -> dict[str, Any]:
        """``PUT customObjects/schemas/{id}``: adds fields/relationships (existing ones cannot change type)."""
        body = await self._put(f"customObjects/schemas/{seg(schema_id)}", {"schema": schema}, kind="schema.update")
        return one(body, "schema")

    async def upsert_record(self, schema_id: str, record: dict[str, Any]) -> dict[str, Any]:
        """``POST customObjects/records/{schemaId}``: create, or update the record with this ``externalId``."""
        body = await self._post(f"customObjects/records/{seg(schema_id)}", {"record": record}, kind="record.upsert")
        return one(body, "record")

    def iter_records(self, schema_id: str, *, contact_id: str | None = None,
                     relationship: str = "primary-contact") -> AsyncIterator[dict[str, Any]]:
        """Records of a schema; with ``contact_id`` only those related to that contact through ``relationship``."""
        extra: dict[str, Any] = {}
        if contact_id is not None:
            extra[f"filters[relationships.{relationship}][eq]"] = contact_id

        async def fetch(paging: dict[str, Any]) -> dict[str, Any]:
            return await self._get(f"customObjects/records/{seg(schema_id)}", kind="records.list",
                                   params={**extra, **paging})

        return iter_offset(fetch, "records")

    async def get_record(self, schema_id: str, record_id: str) -> dict[str, Any]:
        body = await self._get(f"customObjects/records/{seg(schema_id)}/{seg(record_id)}", kind="record.get")
        return one(body, "record")

    async def delete_record(self, schema_id: str, record_id: str) -> None:
        await self._delete(f"customObjects/records/{seg(schema_id)}/{seg(record_id)}", kind="record.delete")

    async def delete_record_by_external_id(self, schema_id: str, external_id: str) -> None:
        """``DELETE .../external/{externalId}`` (AC answers 202)."""
        await self._delete(f"customObjects/records/{seg(schema_id)}/external/{seg(external_id)}",
                           kind="record.delete")

