"""Every column dynamics-webapi.md §7 lists exists, with its metadata, and the seed fills it sensibly."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from sandbox.dynamics import Dataverse

from .conftest import API, values

# (table, column, AttributeTypeName, RequiredLevel or None when the reference does not state it) — Ref. §7
SECTION_7: list[tuple[str, str, str, str | None]] = [
    ("lead", "subject", "StringType", "ApplicationRequired"),
    ("lead", "lastname", "StringType", "ApplicationRequired"),
    ("lead", "firstname", "StringType", "Recommended"),
    ("lead", "companyname", "StringType", "Recommended"),
    ("lead", "emailaddress1", "StringType", "None"),
    ("lead", "emailaddress2", "StringType", "None"),
    ("lead", "emailaddress3", "StringType", "None"),
    ("lead", "jobtitle", "StringType", "None"),
    ("lead", "telephone1", "StringType", "None"),
    ("lead", "mobilephone", "StringType", "None"),
    ("lead", "leadsourcecode", "PicklistType", "None"),
    ("lead", "statecode", "StateType", "SystemRequired"),
    ("lead", "statuscode", "StatusType", "None"),
    ("lead", "parentaccountid", "LookupType", "None"),
    ("lead", "parentcontactid", "LookupType", "None"),
    ("lead", "customerid", "CustomerType", "None"),
    ("lead", "salesstage", "PicklistType", None),
    ("contact", "lastname", "StringType", "ApplicationRequired"),
    ("contact", "firstname", "StringType", None),
    ("contact", "emailaddress1", "StringType", None),
    ("contact", "jobtitle", "StringType", None),
    ("contact", "telephone1", "StringType", None),
    ("contact", "mobilephone", "StringType", None),
    ("contact", "parentcustomerid", "CustomerType", None),
    ("account", "name", "StringType", "ApplicationRequired"),
    ("account", "websiteurl", "StringType", "None"),
    ("account", "telephone1", "StringType", "None"),
    ("opportunity", "name", "StringType", "ApplicationRequired"),
    ("opportunity", "customerid", "CustomerType", "ApplicationRequired"),
    ("opportunity", "estimatedvalue", "MoneyType", "None"),
    ("opportunity", "actualvalue", "MoneyType", "None"),
    ("opportunity", "estimatedclosedate", "DateTimeType", "None"),
    ("opportunity", "actualclosedate", "DateTimeType", "None"),
    ("opportunity", "stepname", "StringType", "None"),
    ("opportunity", "salesstagecode", "PicklistType", "None"),
    ("opportunity", "salesstage", "PicklistType", "None"),
    ("opportunity", "parentaccountid", "LookupType", "None"),
    ("opportunity", "parentcontactid", "LookupType", "None"),
    ("opportunity", "transactioncurrencyid", "LookupType", "ApplicationRequired"),
    ("opportunity", "statecode", "StateType", "SystemRequired"),
    ("opportunity", "statuscode", "StatusType", None),
    ("systemuser", "azureactivedirectoryobjectid", "UniqueidentifierType", None),
    ("systemuser", "fullname", "StringType", None),
    ("systemuser", "domainname", "StringType", None),
    ("systemuser", "isdisabled", "BooleanType", None),
    ("systemuser", "applicationid", "UniqueidentifierType", None),
    ("systemuser", "businessunitid", "LookupType", None),
    ("systemuser", "lastname", "StringType", "ApplicationRequired"),
    ("role", "name", "StringType", None),
    ("role", "businessunitid", "LookupType", None),
]
ADDRESS = ["address1_line1", "address1_line2", "address1_line3", "address1_city", "address1_stateorprovince"]
ADDRESS += ["address1_postalcode", "address1_country"]
SECTION_7 += [(t, c, "StringType", "None") for t in ("lead", "contact", "account") for c in ADDRESS]
SETS = {"lead": "leads", "contact": "contacts", "account": "accounts", "opportunity": "opportunities"}
SETS |= {"systemuser": "systemusers", "role": "roles"}


def _read_name(column: str, type_name: str) -> str:
    return f"_{column}_value" if type_name in ("LookupType", "CustomerType") else column


@pytest.mark.parametrize(("table", "column", "type_name", "required"), SECTION_7)
async def test_section_7_column_exists_with_metadata(
    client: httpx.AsyncClient, table: str, column: str, type_name: str, required: str | None
) -> None:
    r = await client.get(API + f"EntityDefinitions(LogicalName='{table}')/Attributes(LogicalName='{column}')")
    assert r.status_code == 200, r.text
    meta = r.json()
    assert meta["AttributeTypeName"] == {"Value": type_name}
    if required is not None:
        assert meta["RequiredLevel"]["Value"] == required
    # $select by the column (lookups by their _x_value read name) answers 200, not "Could not find a property"
    got = await client.get(API + SETS[table], params={"$select": _read_name(column, type_name), "$top": "1"})
    assert got.status_code == 200, got.text


async def test_string_lengths_follow_section_7(client: httpx.AsyncClient) -> None:
    expected = {
        ("lead", "subject"): 300,
        ("lead", "mobilephone"): 20,
        ("lead", "address1_line1"): 250,
        ("account", "name"): 160,
        ("account", "address1_postalcode"): 20,
        ("account", "address1_country"): 80,
        ("opportunity", "stepname"): 200,
        ("opportunity", "name"): 300,
        ("systemuser", "lastname"): 256,
    }
    for (table, column), length in expected.items():
        r = await client.get(
            API + f"EntityDefinitions(LogicalName='{table}')/Attributes(LogicalName='{column}')"
            "/Microsoft.Dynamics.CRM.StringAttributeMetadata",
            params={"$select": "LogicalName,MaxLength"},
        )
        assert r.json()["MaxLength"] == length, (table, column)


async def test_money_and_date_only_metadata(client: httpx.AsyncClient) -> None:
    base = API + "EntityDefinitions(LogicalName='opportunity')/Attributes"
    money = (
        await client.get(base + "(LogicalName='actualvalue')/Microsoft.Dynamics.CRM.MoneyAttributeMetadata")
    ).json()
    assert (money["MinValue"], money["MaxValue"], money["Precision"]) == (-1e12, 1e12, 2)
    date = (await client.get(base + "(LogicalName='actualclosedate')")).json()
    assert date["Format"] == "DateOnly" and date["DateTimeBehavior"] == {"Value": "DateOnly"}
    lookup = (await client.get(base + "(LogicalName='transactioncurrencyid')")).json()
    assert lookup["Targets"] == ["transactioncurrency"]


async def test_opportunity_option_sets(client: httpx.AsyncClient) -> None:
    r = await client.get(
        API
        + "EntityDefinitions(LogicalName='opportunity')/Attributes/Microsoft.Dynamics.CRM.PicklistAttributeMetadata",
        params={"$select": "LogicalName", "$expand": "OptionSet"},
    )
    options = {
        a["LogicalName"]: {o["Value"]: o["Label"]["UserLocalizedLabel"]["Label"] for o in a["OptionSet"]["Options"]}
        for a in values(r)
    }
    assert options["salesstagecode"] == {1: "Default Value"}
    assert options["salesstage"] == {0: "Qualify", 1: "Develop", 2: "Propose", 3: "Close"}
    for cast, name, wanted in (
        ("StateAttributeMetadata", "statecode", {0: "Open", 1: "Won", 2: "Lost"}),
        (
            "StatusAttributeMetadata",
            "statuscode",
            {1: "In Progress", 2: "On Hold", 3: "Won", 4: "Canceled", 5: "Out-Sold"},
        ),
    ):
        r = await client.get(
            API + f"EntityDefinitions(LogicalName='opportunity')/Attributes(LogicalName='{name}')"
            f"/Microsoft.Dynamics.CRM.{cast}",
            params={"$expand": "OptionSet"},
        )
        got = {o["Value"]: o["Label"]["UserLocalizedLabel"]["Label"] for o in r.json()["OptionSet"]["Options"]}
        assert got == wanted


async def test_seeded_opportunities_have_actual_values_and_close_dates(client: httpx.AsyncClient) -> None:
    select = (
        "actualvalue,actualclosedate,estimatedvalue,statecode,statuscode,salesstagecode,_transactioncurrencyid_value"
    )
    rows = values(await client.get(API + "opportunities", params={"$select": select}))
    won = [r for r in rows if r["statecode"] == 1]
    lost = [r for r in rows if r["statecode"] == 2]
    open_ = [r for r in rows if r["statecode"] == 0]
    assert won and lost and open_
    assert all(r["statuscode"] == 3 and r["actualvalue"] > 0 for r in won)
    assert all(r["statuscode"] in (4, 5) and r["actualvalue"] is None for r in lost)
    assert all(r["actualvalue"] is None and r["actualclosedate"] is None for r in open_)
    for r in won + lost:  # DateOnly → Edm.Date yyyy-MM-dd (§7)
        assert len(r["actualclosedate"]) == 10 and r["actualclosedate"][4] == "-"
    assert {r["salesstagecode"] for r in rows} == {1}
    currencies = values(await client.get(API + "transactioncurrencies", params={"$select": "isocurrencycode"}))
    assert [c["isocurrencycode"] for c in currencies] == ["USD"]
    assert {r["_transactioncurrencyid_value"] for r in rows} == {currencies[0]["transactioncurrencyid"]}
    closed = values(
        await client.get(API + "opportunities", params={"$filter": "actualvalue ne null", "$select": "name"})
    )
    assert len(closed) == len(won)


async def test_seeded_addresses(client: httpx.AsyncClient) -> None:
    select = "address1_line1,address1_postalcode,address1_city,address1_stateorprovince"
    for entity_set in ("contacts", "accounts"):
        rows = values(await client.get(API + entity_set, params={"$select": select}))
        with_city = [r for r in rows if r["address1_city"]]
        assert with_city and all(r["address1_line1"] and r["address1_postalcode"] for r in with_city)
    austin = values(
        await client.get(API + "contacts", params={"$filter": "address1_city eq 'Austin'", "$select": select})
    )
    assert austin and {r["address1_stateorprovince"] for r in austin} == {"TX"}


async def test_create_opportunity_with_money_date_and_currency(client: httpx.AsyncClient) -> None:
    account = values(await client.get(API + "accounts", params={"$select": "name", "$top": "1"}))[0]["accountid"]
    currency = values(await client.get(API + "transactioncurrencies"))[0]["transactioncurrencyid"]
    body: dict[str, Any] = {
        "name": "Won deal",
        "customerid_account@odata.bind": f"/accounts({account})",
        "transactioncurrencyid@odata.bind": f"/transactioncurrencies({currency})",
        "estimatedvalue": 1200.5,
        "actualvalue": 1100.25,
        "actualclosedate": "2026-05-01",
        "salesstagecode": 1,
    }
    r = await client.post(
        API + "opportunities?$select=actualvalue,actualclosedate,_transactioncurrencyid_value",
        json=body,
        headers={"Prefer": "return=representation"},
    )
    assert r.status_code == 201, r.text
    got = r.json()
    assert (got["actualvalue"], got["actualclosedate"], got["_transactioncurrencyid_value"]) == (
        1100.25,
        "2026-05-01",
        currency,
    )
    too_big = await client.patch(
        API + f"opportunities({got['opportunityid']})", json={"actualvalue": 2e12}, headers={"If-Match": "*"}
    )
    assert too_big.status_code == 400 and too_big.json()["error"]["code"] == "0x80044331"
    assert "outside the valid range" in too_big.json()["error"]["message"]


async def test_disabling_a_user(client: httpx.AsyncClient, dv: Dataverse) -> None:
    # isdisabled is not valid for update: a PATCH and dv.update ignore it (§4.2); set_user_disabled / the
    # /_sandbox/users control route are the documented way for tests.
    user = next(u for u in dv.rows["systemuser"].values() if u["lastname"] == "Seller")
    uid = user["systemuserid"]
    r = await client.patch(API + f"systemusers({uid})", json={"isdisabled": True}, headers={"If-Match": "*"})
    assert r.status_code == 204
    dv.update("systemuser", uid, {"isdisabled": True})
    assert dv.require("systemuser", uid)["isdisabled"] is False
    before = dv.require("systemuser", uid)["versionnumber"]
    dv.set_user_disabled(uid)
    row = (await client.get(API + f"systemusers({uid})", params={"$select": "isdisabled"})).json()
    assert row["isdisabled"] is True and dv.require("systemuser", uid)["versionnumber"] > before
    r = await client.post("/_sandbox/users", json={"id": uid, "isdisabled": False})
    assert r.status_code == 200 and r.json() == {"systemuserid": uid, "isdisabled": False}
    assert (await client.get(API + f"systemusers({uid})?$select=isdisabled")).json()["isdisabled"] is False
    missing = await client.post("/_sandbox/users", json={"id": "00000000-0000-4000-8000-000000000000"})
    assert missing.status_code == 404


async def test_consent_flags_on_contact_and_lead(client: httpx.AsyncClient, dv: Dataverse) -> None:
    """DoNotBulkEMail / DoNotEMail: Boolean, RequiredLevel None, DefaultValue False, 1 "Do Not Allow" / 0 "Allow"
    (reference/entities/contact.md; ce/developer/entities/lead.md)."""
    for table, body in (("contact", {"lastname": "Flag"}), ("lead", {"lastname": "Flag", "subject": "s"})):
        meta = (await client.get(API + f"EntityDefinitions(LogicalName='{table}')/Attributes(LogicalName='donotemail')"
                                 "/Microsoft.Dynamics.CRM.BooleanAttributeMetadata")).json()
        assert (meta["AttributeTypeName"], meta["RequiredLevel"]["Value"], meta["DefaultValue"]) == (
            {"Value": "BooleanType"}, "None", False)
        r = await client.post(API + f"{table}s", json=body, headers={"Prefer": "return=representation"})
        assert r.status_code == 201 and (r.json()["donotbulkemail"], r.json()["donotemail"]) == (False, False)
        url = API + f"{table}s({r.json()[table + 'id']})"
        assert (await client.patch(url, json={"donotbulkemail": True, "donotemail": True})).status_code == 204
        got = (await client.get(url + "?$select=donotbulkemail,donotemail", headers={
            "Prefer": 'odata.include-annotations="OData.Community.Display.V1.FormattedValue"'})).json()
        assert (got["donotbulkemail"], got["donotemail"]) == (True, True)
        assert got["donotbulkemail@OData.Community.Display.V1.FormattedValue"] == "Do Not Allow"
        r = await client.patch(url, json={"donotemail": "yes"})
        assert r.status_code == 400 and "Edm.Boolean" in r.json()["error"]["message"]
        flagged = values(await client.get(API + f"{table}s", params={"$filter": "donotbulkemail eq true",
                                                                      "$select": "donotbulkemail"}))
        assert len(flagged) == sum(1 for row in dv.rows[table].values() if row.get("donotbulkemail"))
        assert all(row.get("donotemail") in (True, False) for row in dv.rows[table].values())
