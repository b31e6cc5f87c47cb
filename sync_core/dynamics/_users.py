"""Users, security roles and teams (reference §8)."""

from __future__ import annotations

from typing import Any

from sync_core.dynamics._errors import DuplicateRecordError
from sync_core.dynamics._odata import escape_like, normalize_guid, quote_string
from sync_core.dynamics._records import RecordsApi

_USER_SELECT = ("systemuserid,fullname,domainname,internalemailaddress,azureactivedirectoryobjectid,isdisabled,"
                "_businessunitid_value")


class UsersApi(RecordsApi):
    """Who the product's users are in Dynamics and which roles they hold."""

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

    async def principal_access(self, user_id: str, entity_set: str, record_id: str) -> frozenset[str] | None:
        """``RetrievePrincipalAccess`` bound to the user: the AccessRights that user holds on the record
        (``ReadAccess``, ``WriteAccess``, …), asked by our identity about *that* user, so what the answer
        grants is the user's own access; ``None`` when the record does not exist."""
        target = "{'@odata.id':'" + self.record_path(entity_set, record_id) + "'}"
        path = f"{self.record_path('systemusers', user_id)}/Microsoft.Dynamics.CRM.RetrievePrincipalAccess(Target=@t)"
        response, body = await self._get_json(self.url(path, [("@t", target)]), kind="principal_access",
                                              allow=(404,))
        if response.status_code == 404 or not isinstance(body, dict):
            return None
        rights = str(body.get("AccessRights") or "None")
        return frozenset(r.strip() for r in rights.split(",") if r.strip() and r.strip() != "None")

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
