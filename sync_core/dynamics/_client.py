"""The typed async client for the Dataverse Web API (OData v4): every API group on one object.

Facts it relies on are in shared/reference/dynamics-webapi.md (section numbers in comments).
Every HTTP attempt is counted in :attr:`DataverseClient.calls` by kind and logged with method,
path and status only.
"""

from __future__ import annotations

from typing import Any

from sync_core.dynamics._metadata import MetadataApi
from sync_core.dynamics._odata import normalize_guid
from sync_core.dynamics._users import UsersApi


class DataverseClient(UsersApi, MetadataApi):
    """One Dataverse environment, one credential. Safe to share between coroutines of one loop.

    ``DataverseClient(environment_url, credential, clock=..., transport=..., budget=..., guard=...,
    in_flight=...)``; use ``async with`` or :meth:`aclose`.
    """

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
