"""Contacts, their custom fields, tags and list memberships (reference §4, §6)."""

from __future__ import annotations

from collections.abc import AsyncGenerator, AsyncIterator, Sequence
from datetime import UTC, datetime
from typing import Any

from sync_core.activecampaign._base import ClientBase
from sync_core.activecampaign._errors import DuplicateError, PaginationLoopError
from sync_core.activecampaign._models import ContactPage
from sync_core.activecampaign._paging import MAX_LIMIT, as_int, iter_id_greater, iter_new_in_flight, iter_offset
from sync_core.activecampaign._shapes import many, one, seg


def ac_datetime(when: datetime) -> str:
    """A filter timestamp: ISO 8601 with offset, seconds precision (naive means UTC)."""
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return when.isoformat(timespec="seconds")


class ContactsApi(ClientBase):
    """``/contacts``, ``/contact/sync``, ``/fields``, ``/fieldValues``, ``/tags``, ``/contactTags``, ``/lists``."""

    async def get_me(self) -> dict[str, Any]:
        """``users/me``: the connection check. A 403 here is :class:`AuthenticationError`."""
        return one(await self._get("users/me", kind="users.me"), "user")

    # -- contacts ----------------------------------------------------------------------------

    def iter_contacts(self, *, updated_after: datetime | None = None, email: str | None = None,
                      tag_id: str | None = None, list_id: str | None = None, status: int | None = None,
                      ids: Sequence[str] | None = None, page_size: int = 100,
                      after_id: str | None = None) -> AsyncIterator[dict[str, Any]]:
        """Contacts in id order, paged with ``id_greater`` (fast on large accounts); ``after_id``
        reads only contacts created after that one (ids only grow)."""
        base: list[tuple[str, Any]] = []
        if updated_after is not None:
            base.append(("filters[updated_after]", ac_datetime(updated_after)))
        if email is not None:
            base.append(("email", email))
        if tag_id is not None:
            base.append(("tagid", tag_id))
        if list_id is not None:
            base.append(("listid", list_id))
        if status is not None:
            base.append(("status", status))
        for contact_id in ids or ():
            base.append(("ids[]", contact_id))

        async def fetch(paging: dict[str, Any]) -> dict[str, Any]:
            return await self._get("contacts", kind="contacts.list", params=base + list(paging.items()))

        return iter_id_greater(fetch, "contacts", page_size=page_size,
                               start_after=int(after_id) if after_id is not None else None)

    def iter_new_contacts(self, after_id: str, *, in_flight: int) -> AsyncGenerator[dict[str, Any], None]:
        """Contacts created after ``after_id``, in id order, up to ``in_flight`` pages asked at once
        (``_paging.iter_new_in_flight``: id ranges instead of one ``id_greater`` page after another)."""
        async def fetch(paging: dict[str, Any]) -> dict[str, Any]:
            return await self._get("contacts", kind="contacts.list", params=list(paging.items()))

        return iter_new_in_flight(fetch, "contacts", after=int(after_id), in_flight=in_flight)

    async def contact_pages(self, *, updated_after: datetime, after_id: str | None = None,
                            include_field_values: bool = False, page_size: int = 100
                            ) -> AsyncIterator[ContactPage]:
        """Contacts updated since ``updated_after`` in id order, a page at a time with the page's ``meta.total``.

        With ``include_field_values`` the call asks ``include=fieldValues``: the document does not list
        ``include`` for this list (register: ``contacts_list_include``), so ``field_values`` is ``None``
        when the answer side-loads nothing — the caller then reads them another way.
        """
        last = int(after_id) if after_id is not None else None
        limit = max(1, min(page_size, MAX_LIMIT))
        while True:
            params: list[tuple[str, Any]] = [("filters[updated_after]", ac_datetime(updated_after)),
                                             ("orders[id]", "ASC"), ("limit", limit)]
            if last is not None:
                params.append(("id_greater", last))
            if include_field_values:
                params.append(("include", "fieldValues"))
            body = await self._get("contacts", kind="contacts.list", params=params)
            rows = many(body, "contacts")
            ids = [as_int(r.get("id")) for r in rows]
            if any(i is None for i in ids) or (rows and last is not None and max(i or 0 for i in ids) <= last):
                raise PaginationLoopError("paging changed contacts: id_greater did not advance")
            side = body.get("fieldValues") if include_field_values else None
            yield ContactPage(rows, [v for v in side if isinstance(v, dict)] if isinstance(side, list) else None,
                              as_int((body.get("meta") or {}).get("total")) if isinstance(body.get("meta"), dict)
                              else None)
            if len(rows) < limit:
                return
            last = max(i or 0 for i in ids)

    async def count_field_values(self, field_id: str) -> int | None:
        """How many contacts hold a value of this custom field (``meta.total`` of one row)."""
        body = await self._get("fieldValues", kind="fieldValues.list",
                               params={"filters[fieldid]": field_id, "limit": 1})
        meta = body.get("meta")
        return as_int(meta.get("total")) if isinstance(meta, dict) else None

    def iter_field_values(self, field_id: str) -> AsyncIterator[dict[str, Any]]:
        """Every contact's value of one custom field, 100 a call."""
        async def fetch(paging: dict[str, Any]) -> dict[str, Any]:
            return await self._get("fieldValues", kind="fieldValues.list",
                                   params={"filters[fieldid]": field_id, **paging})

        return iter_offset(fetch, "fieldValues")

    async def latest_contact_id(self) -> str | None:
        """The highest contact id now (``orders[id]=DESC``, one contact), or None when there are none."""
        body = await self._get("contacts", kind="contacts.list", params={"orders[id]": "DESC", "limit": 1})
        rows = many(body, "contacts")
        return str(rows[0]["id"]) if rows else None

    async def get_contact(self, contact_id: str) -> dict[str, Any]:
        return one(await self._get(f"contacts/{seg(contact_id)}", kind="contact.get"), "contact")

    async def find_contact_by_email(self, email: str) -> dict[str, Any] | None:
        """The contact with this email (AC's ``email`` filter is exact; compared case-insensitively here)."""
        body = await self._get("contacts", kind="contacts.list", params={"email": email, "limit": 20})
        wanted = email.strip().casefold()
        for contact in many(body, "contacts"):
            if str(contact.get("email") or "").strip().casefold() == wanted:
                return contact
        return None

    async def create_contact(self, contact: dict[str, Any]) -> dict[str, Any]:
        """``POST contacts``; a taken email raises :class:`DuplicateError`."""
        return one(await self._post("contacts", {"contact": contact}, kind="contact.create"), "contact")

    async def update_contact(self, contact_id: str, contact: dict[str, Any]) -> dict[str, Any]:
        """``PUT contacts/{id}`` (partial update; the way to change an email)."""
        body = await self._put(f"contacts/{seg(contact_id)}", {"contact": contact}, kind="contact.update")
        return one(body, "contact")

    async def sync_contact(self, contact: dict[str, Any]) -> dict[str, Any]:
        """``POST contact/sync``: upsert keyed on email."""
        return one(await self._post("contact/sync", {"contact": contact}, kind="contact.sync"), "contact")

    async def delete_contact(self, contact_id: str) -> None:
        await self._delete(f"contacts/{seg(contact_id)}", kind="contact.delete")

    # -- custom fields -------------------------------------------------------------------------

    async def list_fields(self) -> list[dict[str, Any]]:
        async def fetch(paging: dict[str, Any]) -> dict[str, Any]:
            return await self._get("fields", kind="fields.list", params=paging)

        return [f async for f in iter_offset(fetch, "fields")]

    async def create_field(self, title: str, type: str, *, perstag: str | None = None,
                           description: str | None = None, default: str | None = None,
                           all_lists: bool = True) -> dict[str, Any]:
        """``POST fields``; with ``all_lists`` also ``POST fieldRels`` (relid 0) so every list shows it."""
        field: dict[str, Any] = {"title": title, "type": type, "visible": 1}
        if perstag is not None:
            field["perstag"] = perstag
        if description is not None:
            field["descript"] = description
        if default is not None:
            field["defval"] = default
        body = await self._post("fields", {"field": field}, kind="field.create")
        created = one(body, "field")
        if not created:  # the documented 201 lists the account's fields under "fields"
            same = [f for f in many(body, "fields") if str(f.get("title")) == title]
            created = same[-1] if same else {}
        if all_lists and created.get("id") is not None:
            await self._post("fieldRels", {"fieldRel": {"field": created["id"], "relid": 0}},
                             kind="fieldRel.create")
        return created

    async def list_field_options(self, field_id: str) -> list[dict[str, Any]]:
        """Options of a dropdown/radio/listbox/checkbox field: the ``fieldOptions`` that ``GET fields/{id}``
        side-loads; if that answer carries none, the ``fieldOptions`` side-load of ``GET fields`` (both
        documented; ``fields/{id}/options`` is only a link)."""
        body = await self._get(f"fields/{seg(field_id)}", kind="field.get")
        if "fieldOptions" not in body:
            return (await self.list_all_field_options()).get(str(field_id), [])
        return [o for o in many(body, "fieldOptions") if str(o.get("field", field_id)) == str(field_id)]

    async def list_all_field_options(self) -> dict[str, list[dict[str, Any]]]:
        """Every field's options (field id → options), from the side-load of ``GET fields``."""
        out: dict[str, list[dict[str, Any]]] = {}
        offset = 0
        previous: list[Any] | None = None
        while True:
            body = await self._get("fields", kind="fields.list", params={"limit": 100, "offset": offset})
            fields = many(body, "fields")
            ids = [f.get("id") for f in fields]
            if fields and ids == previous:
                raise PaginationLoopError("paging fields: offset served the previous page again")
            previous = ids
            for option in many(body, "fieldOptions"):
                out.setdefault(str(option.get("field")), []).append(option)
            offset += len(fields)
            if len(fields) < 100:
                return out

    async def create_field_options(self, field_id: str,
                                   options: Sequence[str | dict[str, Any]]) -> list[dict[str, Any]]:
        """``POST fieldOption/bulk``: strings become label = value; dicts are sent as given (field filled in)."""
        items: list[dict[str, Any]] = []
        for n, option in enumerate(options, start=1):
            if isinstance(option, str):
                items.append({"field": field_id, "label": option, "value": option, "orderid": n, "isdefault": False})
            else:
                items.append({"field": field_id, **option})
        body = await self._post("fieldOption/bulk", {"fieldOptions": items}, kind="fieldOptions.create")
        return many(body, "fieldOptions")

    async def list_contact_field_values(self, contact_id: str) -> list[dict[str, Any]]:
        body = await self._get(f"contacts/{seg(contact_id)}/fieldValues", kind="contact.fieldValues")
        return many(body, "fieldValues")

    # -- tags ------------------------------------------------------------------------------

    async def list_tags(self, *, search: str | None = None) -> list[dict[str, Any]]:
        extra = {"search": search} if search else {}

        async def fetch(paging: dict[str, Any]) -> dict[str, Any]:
            return await self._get("tags", kind="tags.list", params={**extra, **paging})

        return [t async for t in iter_offset(fetch, "tags")]

    async def ensure_tag(self, name: str) -> str:
        """The id of the contact tag called ``name`` (case-insensitive), created if missing; cached."""
        key = name.strip().casefold()
        cached = self._tag_ids.get(key)
        if cached is not None:
            return cached
        found = await self._find_tag(name)
        if found is None:
            try:
                body = await self._post("tags", {"tag": {"tag": name, "tagType": "contact", "description": ""}},
                                        kind="tag.create")
                found = str(one(body, "tag").get("id"))
            except DuplicateError:  # created meanwhile by someone else
                found = await self._find_tag(name)
                if found is None:
                    raise
        self._tag_ids[key] = found
        return found

    async def _find_tag(self, name: str) -> str | None:
        key = name.strip().casefold()
        for tag in await self.list_tags(search=name):
            if str(tag.get("tag") or "").strip().casefold() == key and tag.get("id") is not None:
                return str(tag["id"])
        return None

    async def add_contact_tag(self, contact_id: str, tag_id: str) -> str:
        """``POST contactTags``; returns the contactTag id (what :meth:`remove_contact_tag` takes)."""
        body = await self._post("contactTags", {"contactTag": {"contact": contact_id, "tag": tag_id}},
                                kind="contactTag.create")
        return str(one(body, "contactTag").get("id"))

    async def remove_contact_tag(self, contact_tag_id: str) -> None:
        await self._delete(f"contactTags/{seg(contact_tag_id)}", kind="contactTag.delete")

    async def list_contact_tags(self, contact_id: str) -> list[dict[str, Any]]:
        body = await self._get(f"contacts/{seg(contact_id)}/contactTags", kind="contact.contactTags")
        return many(body, "contactTags")

    # -- lists -----------------------------------------------------------------------------

    async def list_lists(self) -> list[dict[str, Any]]:
        async def fetch(paging: dict[str, Any]) -> dict[str, Any]:
            return await self._get("lists", kind="lists.list", params=paging)

        return [x async for x in iter_offset(fetch, "lists")]

    async def set_contact_list_status(self, contact_id: str, list_id: str, status: int, *,
                                      resubscribe: bool = False) -> None:
        """``POST contactLists``: 1 subscribes, 2 unsubscribes. ``resubscribe`` sends ``sourceid: 4``
        (AC's documented marker for deliberately re-subscribing someone who opted out)."""
        item: dict[str, Any] = {"list": list_id, "contact": contact_id, "status": status}
        if resubscribe:
            item["sourceid"] = 4
        await self._post("contactLists", {"contactList": item}, kind="contactList.set")

    async def list_contact_lists(self, contact_id: str) -> list[dict[str, Any]]:
        body = await self._get(f"contacts/{seg(contact_id)}/contactLists", kind="contact.contactLists")
        return many(body, "contactLists")
