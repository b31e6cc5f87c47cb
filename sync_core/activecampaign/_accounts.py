"""Accounts, account-contact associations and account custom fields (reference §7)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from typing import Any

from sync_core.activecampaign._base import ClientBase
from sync_core.activecampaign._paging import iter_offset
from sync_core.activecampaign._shapes import one, seg


class AccountsApi(ClientBase):
    """``/accounts``, ``/accountContacts``, ``/accountCustomFieldMeta``, ``/accountCustomFieldData``."""

    def iter_accounts(self, *, search: str | None = None, offset: int = 0) -> AsyncIterator[dict[str, Any]]:
        """Accounts in AC's order (id order: no other is documented), from the ``offset``-th."""
        extra = {"search": search} if search else {}

        async def fetch(paging: dict[str, Any]) -> dict[str, Any]:
            return await self._get("accounts", kind="accounts.list", params={**extra, **paging})

        return iter_offset(fetch, "accounts", start=offset)

    async def get_account(self, account_id: str) -> dict[str, Any]:
        return one(await self._get(f"accounts/{seg(account_id)}", kind="account.get"), "account")

    async def create_account(self, account: dict[str, Any]) -> dict[str, Any]:
        """``POST accounts``; names are unique, a taken one raises :class:`DuplicateError`."""
        return one(await self._post("accounts", {"account": account}, kind="account.create"), "account")

    async def update_account(self, account_id: str, account: dict[str, Any]) -> dict[str, Any]:
        body = await self._put(f"accounts/{seg(account_id)}", {"account": account}, kind="account.update")
        return one(body, "account")

    async def delete_account(self, account_id: str) -> None:
        await self._delete(f"accounts/{seg(account_id)}", kind="account.delete")

    async def find_account_by_name(self, name: str) -> dict[str, Any] | None:
        """The account named exactly ``name`` (case-insensitive); AC's ``search`` is only a contains match."""
        wanted = name.strip().casefold()
        async for account in self.iter_accounts(search=name):
            if str(account.get("name") or "").strip().casefold() == wanted:
                return account
        return None

    # -- associations ------------------------------------------------------------------------

    def iter_account_contacts(self, *, account_id: str | None = None,
                              contact_id: str | None = None) -> AsyncIterator[dict[str, Any]]:
        extra: dict[str, Any] = {}
        if account_id is not None:
            extra["filters[account]"] = account_id
        if contact_id is not None:
            extra["filters[contact]"] = contact_id

        async def fetch(paging: dict[str, Any]) -> dict[str, Any]:
            return await self._get("accountContacts", kind="accountContacts.list", params={**extra, **paging})

        return iter_offset(fetch, "accountContacts")

    async def create_account_contact(self, account_id: str, contact_id: str, *,
                                     job_title: str | None = None) -> dict[str, Any]:
        """``POST accountContacts``; a contact already on an account raises :class:`ValidationError`."""
        item: dict[str, Any] = {"account": account_id, "contact": contact_id}
        if job_title is not None:
            item["jobTitle"] = job_title
        body = await self._post("accountContacts", {"accountContact": item}, kind="accountContact.create")
        return one(body, "accountContact")

    async def update_account_contact(self, account_contact_id: str, *, job_title: str | None) -> dict[str, Any]:
        body = await self._put(f"accountContacts/{seg(account_contact_id)}",
                               {"accountContact": {"jobTitle": job_title or ""}}, kind="accountContact.update")
        return one(body, "accountContact")

    async def delete_account_contact(self, account_contact_id: str) -> None:
        await self._delete(f"accountContacts/{seg(account_contact_id)}", kind="accountContact.delete")

    # -- custom fields -------------------------------------------------------------------------

    async def list_account_custom_fields(self) -> list[dict[str, Any]]:
        async def fetch(paging: dict[str, Any]) -> dict[str, Any]:
            return await self._get("accountCustomFieldMeta", kind="accountFields.list", params=paging)

        return [f async for f in iter_offset(fetch, "accountCustomFieldMeta")]

    async def create_account_custom_field(self, label: str, field_type: str, *,
                                          options: list[str] | None = None) -> dict[str, Any]:
        meta: dict[str, Any] = {"fieldLabel": label, "fieldType": field_type, "isFormVisible": True}
        if options is not None:
            meta["fieldOptions"] = options
        body = await self._post("accountCustomFieldMeta", {"accountCustomFieldMetum": meta},
                                kind="accountField.create")
        return one(body, "accountCustomFieldMetum")

    async def list_account_field_values(self, account_id: str) -> list[dict[str, Any]]:
        extra = {"filters[customerAccountId]": account_id}

        async def fetch(paging: dict[str, Any]) -> dict[str, Any]:
            return await self._get("accountCustomFieldData", kind="accountFieldData.list",
                                   params={**extra, **paging})

        return [v async for v in iter_offset(fetch, "accountCustomFieldData")]

    async def set_account_field_values(self, account_id: str, values: Mapping[str, Any], *,
                                       currencies: Mapping[str, str] | None = None) -> None:
        """Set custom field values of one account: values already stored go through ``bulkUpdate``
        (by their data id), the rest through ``bulkCreate``; one read plus at most two writes.

        Currency values are in cents (AC's rule); ``currencies`` gives a field's currency code.
        """
        if not values:
            return
        currencies = currencies or {}
        existing: dict[str, str] = {}
        for datum in await self.list_account_field_values(account_id):
            field_id = datum.get("customFieldId", datum.get("accountCustomFieldMetumId"))
            owner = datum.get("accountId", datum.get("customerAccountId"))
            if field_id is not None and datum.get("id") is not None and (owner is None or str(owner) == account_id):
                existing[str(field_id)] = str(datum["id"])
        updates: list[dict[str, Any]] = []
        creates: list[dict[str, Any]] = []
        for field_id, value in values.items():
            item: dict[str, Any] = {"fieldValue": value}
            if str(field_id) in currencies:
                item["fieldCurrency"] = currencies[str(field_id)]
            if str(field_id) in existing:
                updates.append({"id": existing[str(field_id)], **item})
            else:
                # The schema names the account "customerAccountId"; the example says "accountId".
                creates.append({"customerAccountId": account_id, "customFieldId": field_id, **item})
        if updates:
            await self._send("PATCH", "accountCustomFieldData/bulkUpdate", kind="accountFieldData.bulkUpdate",
                             json=updates)
        if creates:
            await self._post("accountCustomFieldData/bulkCreate", creates, kind="accountFieldData.bulkCreate")
