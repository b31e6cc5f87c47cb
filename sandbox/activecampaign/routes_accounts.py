"""Accounts, accountContacts, accountCustomFieldMeta/Data (plan-gated: ``ac.has_feature("accounts")``)."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.routing import Route

from . import attrs
from .errors import ACError, jsonapi, no_result
from .render import Renderer
from .state import ACState, as_int
from .web import Handler, api, body_json, page_meta, paging, require_feature, wrapped

ACF_TYPES = frozenset({"text", "textarea", "date", "datetime", "dropdown", "multiselect", "radio", "checkbox",
                       "hidden", "currency", "number"})


def gated(fn: Handler) -> Handler:
    async def run(request: Request, ac: ACState, r: Renderer) -> tuple[int, Any]:
        require_feature(ac, "accounts")
        return await fn(request, ac, r)

    run.__name__ = fn.__name__
    return run


def _account(ac: ACState, raw: object) -> dict[str, Any]:
    aid = as_int(raw)
    if aid is None or aid not in ac.accounts:
        raise no_result("Account", raw)
    return ac.accounts[aid]


def _store_value(value: Any) -> Any:
    return "||" + "||".join(str(v) for v in value) + "||" if isinstance(value, list) else value


def set_acf_value(ac: ACState, account: dict[str, Any], field_id: int, value: Any,
                  currency: str | None = None) -> dict[str, Any]:
    """Write one account custom-field value; the account's updatedTimestamp moves when it changed."""
    if field_id not in ac.acf_meta:
        raise no_result("AccountCustomFieldMetum", field_id)
    now, stored = ac.now(), _store_value(value)
    for datum in ac.acf_data_of_account(account["id"]):
        if datum["customFieldId"] == field_id:
            changed = datum["fieldValue"] != stored or (bool(currency) and datum.get("fieldCurrency") != currency)
            if changed:
                datum.update(fieldValue=stored, udate=now)
                if currency:
                    datum["fieldCurrency"] = currency
            ac.account_touched(account, changed)
            return datum
    did = ac.next_id("acfDatum")
    datum = {"id": did, "accountId": account["id"], "customFieldId": field_id, "fieldValue": stored,
             "fieldCurrency": currency, "cdate": now, "udate": now}
    ac.acf_data[did] = datum
    ac.acf_datum_added(did)
    ac.account_touched(account, True)
    return datum


def _checked_fields(ac: ACState, data: dict[str, Any]) -> list[tuple[int, Any, str | None]]:
    """``fields: [{customFieldId, fieldValue, fieldCurrency?}]`` checked before anything is written."""
    out = []
    for item in attrs.objects(data, "fields") or []:
        fid = attrs.integer(item, "customFieldId")
        if fid is None:
            raise jsonapi(422, "customFieldId is required", "field_missing", "/data/attributes/fields")
        if fid not in ac.acf_meta:
            raise no_result("AccountCustomFieldMetum", fid)
        out.append((fid, *_datum_value(item)))
    return out


def _apply_fields(ac: ACState, account: dict[str, Any], checked: list[tuple[int, Any, str | None]]) -> None:
    for fid, value, currency in checked:
        set_acf_value(ac, account, fid, value, currency)


async def list_accounts(request: Request, ac: ACState, r: Renderer) -> tuple[int, Any]:
    limit, offset = paging(request)
    ids = ac.account_ids.get()
    if search := request.query_params.get("search"):
        needle = search.lower()
        ids = [i for i in ids if needle in ac.accounts[i]["name"].lower()]
    # contactCount/dealCount are counted only with count_deals=true; otherwise "simply displayed as 0" (doc).
    counted = request.query_params.get("count_deals", "").lower() in ("true", "1")
    page = [r.account(ac.accounts[i], counted=counted) for i in ids[offset:offset + limit]]
    return 200, {"accounts": page, "meta": page_meta(len(ids))}


async def create_account(request: Request, ac: ACState, r: Renderer) -> tuple[int, Any]:
    data = await wrapped(request, "account")
    name = (attrs.text(data, "name") or "").strip()
    if not name:
        raise jsonapi(422, "The account name was not provided.", "field_missing", "/data/attributes/name")
    url, owner = attrs.text(data, "accountUrl"), attrs.integer(data, "owner", default=1)
    checked = _checked_fields(ac, data)
    account = ac.create_account(name, url, owner or 1)
    _apply_fields(ac, account, checked)
    return 201, {"account": r.account(account, with_fields=True)}


async def get_account(request: Request, ac: ACState, r: Renderer) -> tuple[int, Any]:
    return 200, {"account": r.account(_account(ac, request.path_params["id"]))}


async def update_account(request: Request, ac: ACState, r: Renderer) -> tuple[int, Any]:
    account = _account(ac, request.path_params["id"])
    data = await wrapped(request, "account")
    checked = _checked_fields(ac, data)
    url, owner = attrs.text(data, "accountUrl"), attrs.integer(data, "owner")
    if (name := attrs.text(data, "name")) is not None:
        name = name.strip()
        if not name:
            raise jsonapi(422, "The account name was not provided.", "field_missing", "/data/attributes/name")
        other = ac.account_named(name)
        if other is not None and other["id"] != account["id"]:
            raise jsonapi(422, f'An account named "{name}" already exists. Please choose a new name.', "duplicate",
                          "/data/attributes/name")
    changed = False
    for key, value, sent in (("name", name, name is not None), ("accountUrl", url, "accountUrl" in data),
                             ("owner", owner, owner is not None)):
        if sent and account.get(key) != value:
            account[key], changed = value, True
    if changed and name is not None:
        ac.account_renamed(account["id"])
    ac.account_touched(account, changed)
    _apply_fields(ac, account, checked)
    return 200, {"account": r.account(account, with_fields=True)}


def _drop_account(ac: ACState, account: dict[str, Any]) -> None:
    for link in ac.links_of_account(account["id"]):
        del ac.account_contacts[link["id"]]
    for datum in ac.acf_data_of_account(account["id"]):
        del ac.acf_data[datum["id"]]
    del ac.accounts[account["id"]]


async def delete_account(request: Request, ac: ACState, r: Renderer) -> tuple[int, Any]:
    _drop_account(ac, _account(ac, request.path_params["id"]))
    return 200, {}


async def bulk_delete_accounts(request: Request, ac: ACState, r: Renderer) -> tuple[int, Any]:
    raw = request.query_params.getlist("ids[]") + request.query_params.getlist("[]ids")
    ids = [as_int(x) for x in raw]
    for aid in ids:
        if aid in ac.accounts:
            _drop_account(ac, ac.accounts[aid])
    return 200, {"meta": {"success": True}}


# ------------------------------------------------------------------ accountContacts
def _link(ac: ACState, raw: object) -> dict[str, Any]:
    lid = as_int(raw)
    if lid is None or lid not in ac.account_contacts:
        raise no_result("AccountContact", raw)
    return ac.account_contacts[lid]


async def create_account_contact(request: Request, ac: ACState, r: Renderer) -> tuple[int, Any]:
    data = await wrapped(request, "accountContact")
    for key in ("account", "contact"):
        if data.get(key) in (None, ""):
            raise jsonapi(422, f"The {key} attribute was not provided", "field_missing", f"/data/attributes/{key}")
    contact = ac.get_contact(data["contact"])
    account = _account(ac, data["account"])
    link = ac.link_account(contact.id, account["id"], attrs.text(data, "jobTitle") or "")
    ac.link_touched_accounts(account["id"])
    return 201, {"accountContact": r.account_contact(link)}


async def list_account_contacts(request: Request, ac: ACState, r: Renderer) -> tuple[int, Any]:
    limit, offset = paging(request)
    contact = request.query_params.get("filters[contact]")
    account = request.query_params.get("filters[account]")
    if contact is not None:  # through the indexes: no scan of every link per page
        ids = sorted(x["id"] for x in ac.links_of_contact(_exact_int(contact)))
    elif account is not None:
        ids = sorted(x["id"] for x in ac.links_of_account(_exact_int(account)))
    else:
        ids = ac.account_contact_ids.get()
    if contact is not None and account is not None:
        ids = [i for i in ids if str(ac.account_contacts[i]["account"]) == account]
    page = [ac.account_contacts[i] for i in ids[offset:offset + limit]]
    return 200, {"accountContacts": [r.account_contact(x) for x in page], "meta": page_meta(len(ids))}


def _exact_int(text: str) -> int:
    """The id ``text`` names when it is written as AC writes ids (``str(id)``), else -1 (matches nothing)."""
    value = as_int(text)
    return value if value is not None and str(value) == text else -1


async def get_account_contact(request: Request, ac: ACState, r: Renderer) -> tuple[int, Any]:
    return 200, {"accountContact": r.account_contact(_link(ac, request.path_params["id"]))}


async def update_account_contact(request: Request, ac: ACState, r: Renderer) -> tuple[int, Any]:
    link = _link(ac, request.path_params["id"])
    data = await wrapped(request, "accountContact")
    title = attrs.text(data, "jobTitle")
    target = _account(ac, data["account"])["id"] if data.get("account") not in (None, "") else link["account"]
    before = link["account"]
    if "jobTitle" in data:
        link["jobTitle"] = title or ""
    if target != before:
        link["account"] = target
        ac.account_relinked(link["id"])
    link["udate"] = ac.now()
    ac.link_touched_accounts(before, target)
    return 200, {"accountContact": r.account_contact(link)}


async def delete_account_contact(request: Request, ac: ACState, r: Renderer) -> tuple[int, Any]:
    link = _link(ac, request.path_params["id"])
    del ac.account_contacts[link["id"]]
    ac.link_touched_accounts(link["account"])
    return 200, {}


# ------------------------------------------------------------------ account custom fields
def _meta(ac: ACState, raw: object) -> dict[str, Any]:
    mid = as_int(raw)
    if mid is None or mid not in ac.acf_meta:
        raise no_result("AccountCustomFieldMetum", raw)
    return ac.acf_meta[mid]


def _meta_attrs(data: dict[str, Any]) -> dict[str, Any]:
    """The settable attributes of an accountCustomFieldMetum, checked (only those sent)."""
    out: dict[str, Any] = {}
    if "fieldLabel" in data:
        out["fieldLabel"] = attrs.text(data, "fieldLabel")
    if "fieldOptions" in data:
        options = data["fieldOptions"]
        if options is not None and (not isinstance(options, list)
                                    or any(isinstance(o, bool) or not isinstance(o, str | int | float)
                                           for o in options)):
            raise attrs.invalid("fieldOptions", "must be an array of strings")
        out["fieldOptions"] = [o if isinstance(o, str) else attrs.number_text(o) for o in options or []] or None
    if "fieldDefault" in data:
        out["fieldDefault"] = attrs.scalar_or_list(data["fieldDefault"], "fieldDefault")
    if "fieldDefaultCurrency" in data:
        out["fieldDefaultCurrency"] = attrs.text(data, "fieldDefaultCurrency")
    for key in ("isFormVisible", "isRequired", "displayOrder"):
        if key in data:
            out[key] = attrs.integer(data, key, default=1 if key == "displayOrder" else 0, minimum=0)
    return out


def create_acf_meta_record(ac: ACState, data: dict[str, Any]) -> dict[str, Any]:
    if not isinstance(data.get("fieldType"), str) or data["fieldType"] not in ACF_TYPES:
        raise ACError(422, {"errors": [{"title": "The field type field is required.", "detail": "", "code": 422}]})
    checked = _meta_attrs(data)
    if not (checked.get("fieldLabel") or "").strip():
        raise ACError(422, {"errors": [{"title": "The field label field is required.", "detail": "", "code": 422}]})
    mid = ac.next_id("acfMeta")
    now = ac.now()
    record = {"id": mid, "fieldType": data["fieldType"], "fieldOptions": None, "fieldDefault": None,
              "fieldDefaultCurrency": None, "isFormVisible": 0, "isRequired": 0, "displayOrder": 1, **checked,
              "cdate": now, "udate": now}
    ac.acf_meta[mid] = record
    return record


async def create_acf_meta(request: Request, ac: ACState, r: Renderer) -> tuple[int, Any]:
    data = await wrapped(request, "accountCustomFieldMetum")
    return 200, {"accountCustomFieldMetum": r.acf_meta(create_acf_meta_record(ac, data))}


async def list_acf_meta(request: Request, ac: ACState, r: Renderer) -> tuple[int, Any]:
    limit, offset = paging(request, default=100)
    items = sorted(ac.acf_meta.values(), key=lambda m: m["id"])
    return 200, {"accountCustomFieldMeta": [r.acf_meta(m) for m in items[offset:offset + limit]],
                 "meta": page_meta(len(items))}


async def get_acf_meta(request: Request, ac: ACState, r: Renderer) -> tuple[int, Any]:
    return 200, {"accountCustomFieldMetum": r.acf_meta(_meta(ac, request.path_params["id"]))}


async def update_acf_meta(request: Request, ac: ACState, r: Renderer) -> tuple[int, Any]:
    record = _meta(ac, request.path_params["id"])
    data = await wrapped(request, "accountCustomFieldMetum")
    checked = _meta_attrs(data)
    if "fieldLabel" in checked and not (checked["fieldLabel"] or "").strip():
        raise ACError(422, {"errors": [{"title": "The field label field is required.", "detail": "", "code": 422}]})
    record.update(checked)
    record["udate"] = ac.now()
    return 200, {"accountCustomFieldMetum": r.acf_meta(record)}


async def delete_acf_meta(request: Request, ac: ACState, r: Renderer) -> tuple[int, Any]:
    record = _meta(ac, request.path_params["id"])
    for key in [k for k, v in ac.acf_data.items() if v["customFieldId"] == record["id"]]:
        del ac.acf_data[key]
    del ac.acf_meta[record["id"]]
    return 200, {}


def _datum(ac: ACState, raw: object) -> dict[str, Any]:
    did = as_int(raw)
    if did is None or did not in ac.acf_data:
        raise no_result("AccountCustomFieldDatum", raw)
    return ac.acf_data[did]


def _datum_account(ac: ACState, item: dict[str, Any]) -> dict[str, Any]:
    raw = item.get("customerAccountId", item.get("accountId"))
    if raw in (None, ""):
        raise jsonapi(422, "The customer account id field is required.", "field_missing",
                      "/data/attributes/customerAccountId")
    return _account(ac, raw)


def _datum_value(item: dict[str, Any]) -> tuple[Any, str | None]:
    if item.get("fieldValue") is None:  # required by the document
        raise attrs.missing("fieldValue")
    return attrs.scalar_or_list(item.get("fieldValue"), "fieldValue"), attrs.text(item, "fieldCurrency")


async def create_acf_datum(request: Request, ac: ACState, r: Renderer) -> tuple[int, Any]:
    data = await wrapped(request, "accountCustomFieldDatum")
    account = _datum_account(ac, data)
    fid = as_int(data.get("customFieldId"))
    if fid is None:
        raise no_result("AccountCustomFieldMetum", data.get("customFieldId"))
    datum = set_acf_value(ac, account, fid, *_datum_value(data))
    return 200, {"accountCustomFieldDatum": r.acf_datum(datum)}


async def list_acf_data(request: Request, ac: ACState, r: Renderer) -> tuple[int, Any]:
    limit, offset = paging(request)
    raw = request.query_params.get("filters[customerAccountId]") or request.query_params.get("filters[accountId]")
    if raw is not None:  # through the per-account index
        items = sorted(ac.acf_data_of_account(_exact_int(raw)), key=lambda d: d["id"])
    else:
        items = [ac.acf_data[i] for i in ac.acf_data_ids.get()]
    return 200, {"accountCustomFieldData": [r.acf_datum(d) for d in items[offset:offset + limit]],
                 "meta": page_meta(len(items))}


async def get_acf_datum(request: Request, ac: ACState, r: Renderer) -> tuple[int, Any]:
    return 200, {"accountCustomFieldDatum": r.acf_datum(_datum(ac, request.path_params["id"]))}


async def update_acf_datum(request: Request, ac: ACState, r: Renderer) -> tuple[int, Any]:
    datum = _datum(ac, request.path_params["id"])
    data = await wrapped(request, "accountCustomFieldDatum")
    account = ac.accounts[datum["accountId"]]
    datum = set_acf_value(ac, account, datum["customFieldId"], *_datum_value(data))
    return 200, {"accountCustomFieldDatum": r.acf_datum(datum)}


async def delete_acf_datum(request: Request, ac: ACState, r: Renderer) -> tuple[int, Any]:
    datum = _datum(ac, request.path_params["id"])
    del ac.acf_data[datum["id"]]
    if datum["accountId"] in ac.accounts:
        ac.account_touched(ac.accounts[datum["accountId"]], True)
    return 200, {}


async def _array_body(request: Request) -> list[dict[str, Any]]:
    body = await body_json(request)
    if not isinstance(body, list) or not all(isinstance(i, dict) for i in body):
        raise ACError(422, {"errors": "Bulk operation failed. Request must contain an array of objects."})
    return body


async def bulk_create_acf_data(request: Request, ac: ACState, r: Renderer) -> tuple[int, Any]:
    items = await _array_body(request)
    for item in items:  # validate everything first: all or nothing
        _datum_account(ac, item)
        _meta(ac, item.get("customFieldId"))
        _datum_value(item)
    for item in items:
        set_acf_value(ac, _datum_account(ac, item), _meta(ac, item.get("customFieldId"))["id"], *_datum_value(item))
    return 200, {"message": "the bulk insert was successful"}


async def bulk_update_acf_data(request: Request, ac: ACState, r: Renderer) -> tuple[int, Any]:
    items = await _array_body(request)
    data = [_datum(ac, item.get("id")) for item in items]
    values = [_datum_value(item) for item in items]
    for datum, (value, currency) in zip(data, values, strict=True):
        set_acf_value(ac, ac.accounts[datum["accountId"]], datum["customFieldId"], value, currency)
    ids = ", ".join(str(d["id"]) for d in data)
    return 200, {"message": f"AccountCustomFieldDatas with ID(s): {ids} successfully bulk updated."}


ROUTES: list[Route] = [
    api("/accounts", gated(list_accounts), ["GET"]),
    api("/accounts", gated(create_account), ["POST"]),
    api("/accounts/bulk_delete", gated(bulk_delete_accounts), ["DELETE"]),
    api("/accounts/{id}", gated(get_account), ["GET"]),
    api("/accounts/{id}", gated(update_account), ["PUT"]),
    api("/accounts/{id}", gated(delete_account), ["DELETE"]),
    api("/accountContacts", gated(create_account_contact), ["POST"]),
    api("/accountContacts", gated(list_account_contacts), ["GET"]),
    api("/accountContacts/{id}", gated(get_account_contact), ["GET"]),
    api("/accountContacts/{id}", gated(update_account_contact), ["PUT"]),
    api("/accountContacts/{id}", gated(delete_account_contact), ["DELETE"]),
    api("/accountCustomFieldMeta", gated(create_acf_meta), ["POST"]),
    api("/accountCustomFieldMeta", gated(list_acf_meta), ["GET"]),
    api("/accountCustomFieldMeta/{id}", gated(get_acf_meta), ["GET"]),
    api("/accountCustomFieldMeta/{id}", gated(update_acf_meta), ["PUT"]),
    api("/accountCustomFieldMeta/{id}", gated(delete_acf_meta), ["DELETE"]),
    api("/accountCustomFieldData", gated(create_acf_datum), ["POST"]),
    api("/accountCustomFieldData", gated(list_acf_data), ["GET"]),
    api("/accountCustomFieldData/bulkCreate", gated(bulk_create_acf_data), ["POST"]),
    api("/accountCustomFieldData/bulkUpdate", gated(bulk_update_acf_data), ["PATCH"]),
    api("/accountCustomFieldData/{id}", gated(get_acf_datum), ["GET"]),
    api("/accountCustomFieldData/{id}", gated(update_acf_datum), ["PUT"]),
    api("/accountCustomFieldData/{id}", gated(delete_acf_datum), ["DELETE"]),
]
