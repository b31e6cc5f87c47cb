"""Deterministic seed data: a small B2B organisation plus plain (account-less) contacts.

Rows are built directly (not through ``Dataverse.create``) so 100,000 contacts take about a
second. Everything derives from the seed: same seed, same GUIDs, names and emails.
"""

from __future__ import annotations

import random
import unicodedata
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

from .dataverse import LLN, Dataverse, random_guid
from .odata_filter import epoch_to_iso
from .roles import ROLE_TEMPLATES, SYSTEM_ADMINISTRATOR_TEMPLATE, role_system_columns, root_reference
from .seed_security import seed_base_privileges, seed_security

FIRST = [
    "Anna", "Ben", "Chloé", "Dmitri", "Eva", "Farid", "Greta", "Hiro", "Ines", "Jonas", "Kai", "Léa", "Mateo",
    "Nora", "Oscar", "Priya", "Quinn", "Rosa", "Søren", "Tomás", "Uma", "Viktor", "Wen", "Ximena", "Yusuf",
    "Zoë", "Björn", "Agnès", "Łukasz", "José",
]  # fmt: skip
LAST = [
    "Müller", "Smith", "O'Brien", "García", "Nguyen", "Kowalski", "Johansson", "Rossi", "Dubois", "Schmidt",
    "Tanaka", "Özdemir", "Novák", "Brown", "Silva", "Jensen", "Fischer", "D'Angelo", "Hernández", "Clarke",
]  # fmt: skip
TITLES = ["CEO", "CTO", "Buyer", "Head of Marketing", "Engineer", "Office Manager", None]
CITIES = [("Berlin", "Germany"), ("Paris", "France"), ("Austin", "United States"), ("Kraków", "Poland"), (None, None)]
STATES = {"Austin": "TX", "Kraków": "Małopolskie"}
STREETS = ["Main Street", "Hauptstraße", "Rue de la Paix", "ul. Floriańska", "Elm Road"]
COMPANY = ["Contoso", "Fabrikam", "Northwind", "Adventure Works", "Tailspin", "Wingtip", "Litware", "Proseware"]
SUFFIX = ["Ltd", "GmbH", "Inc.", "S.A.", "AG", "& Co"]
DOMAINS = ["example.com", "example.org", "mail.example.net", "EXAMPLE.io"]
ROLE_NAMES = ("System Administrator", "ActiveCampaign Admin", "ActiveCampaign User")
YEAR = 365 * 86400


@lru_cache(maxsize=4096)
def _ascii(text: str) -> str:
    flat = unicodedata.normalize("NFKD", text)
    return "".join(c for c in flat if c.isascii() and (c.isalnum() or c in "'")).replace("Ł", "L")


def email_for(i: int, first: str, last: str) -> str:
    """Unique (by ``i``) and deliberately awkward: case mix, ``_``, ``%``, ``'``."""
    f, lname = _ascii(first) or "x", _ascii(last) or "y"
    domain = DOMAINS[i % len(DOMAINS)]
    if i % 11 == 3:
        local = f"{f}_{lname}{i}"
    elif i % 17 == 5:
        local = f"{f.lower()}%{i}"
    elif i % 7 == 2:
        local = f"{lname}.{i}"  # keeps the apostrophe of O'Brien / D'Angelo
    elif i % 5 == 1:
        local = f"{f.upper()}.{lname}{i}"
    else:
        local = f"{f.lower()}.{lname.lower()}{i}".replace("'", "")
    return f"{local}@{domain}"


def seed_base(dv: Dataverse) -> dict[str, Any]:
    """Organisation row, two business units, app user, teams and the three roles per business unit."""
    now = dv.clock.time()
    stamp = epoch_to_iso(now - YEAR)
    org = {
        "organizationid": dv.org_id,
        "name": "sandbox",
        "expirechangetrackingindays": dv.switches["ct_expire_days"],
    }
    _system_row(dv, "organization", org, stamp)
    root = _system_row(dv, "businessunit", {"businessunitid": dv.new_id(), "name": "sandbox"}, stamp)
    child = _system_row(
        dv,
        "businessunit",
        {"businessunitid": dv.new_id(), "name": "Sales EU", "_parentbusinessunitid_value": root["businessunitid"]},
        stamp,
    )
    dv.root_bu = root["businessunitid"]
    for template_id, template_name in ROLE_TEMPLATES.items():
        _system_row(dv, "roletemplate", {"roletemplateid": template_id, "name": template_name}, stamp)
    roles: dict[tuple[str, str], str] = {}
    for name in ROLE_NAMES:
        template = SYSTEM_ADMINISTRATOR_TEMPLATE if name == "System Administrator" else None
        parent_id = dv.new_id()
        parent = _system_row(
            dv,
            "role",
            {
                "roleid": parent_id,
                "name": name,
                "_businessunitid_value": dv.root_bu,
                "_parentrootroleid_value": root_reference(dv, parent_id),
                "_parentroleid_value": None,
                "isinherited": 1,
                **role_system_columns(template, managed=template is not None),
            },
            stamp,
        )
        roles[(name, dv.root_bu)] = parent["roleid"]
        copy = _system_row(
            dv,
            "role",
            {
                "roleid": dv.new_id(),
                "name": name,
                "_businessunitid_value": child["businessunitid"],
                "_parentrootroleid_value": parent_id,
                "_parentroleid_value": parent_id,
                "isinherited": 1,
                **role_system_columns(template, managed=template is not None),
            },
            stamp,
        )
        roles[(name, child["businessunitid"])] = copy["roleid"]
    app = _user(dv, "# ActiveCampaign Sync", "", dv.root_bu, stamp, application=True)
    dv.app_user = app["systemuserid"]
    dv.links["systemuserroles_association"].add((dv.app_user, roles[("System Administrator", dv.root_bu)]))
    teams = {}
    for bu in (root, child):
        team = _system_row(
            dv,
            "team",
            {
                "teamid": dv.new_id(),
                "name": bu["name"],
                "teamtype": 0,
                "membershiptype": 0,
                "isdefault": True,
                "_businessunitid_value": bu["businessunitid"],
            },
            stamp,
        )
        teams[bu["businessunitid"]] = team["teamid"]
    # The base currency; its id comes from its own generator so adding it moved no other seeded GUID.
    currency_id = random_guid(random.Random(f"currency-{dv.seed_value}"))
    currency: dict[str, Any] = {
        "transactioncurrencyid": currency_id,
        "currencyname": "US Dollar",
        "isocurrencycode": "USD",
        "currencysymbol": "$",
        "statecode": 0,
        "statuscode": 1,
    }
    _system_row(dv, "transactioncurrency", currency, stamp)
    dv.base_currency = currency_id
    seed_base_privileges(dv, roles, stamp)
    return {"root": root, "child": child, "roles": roles, "teams": teams}


def seed_org(dv: Dataverse, contacts: int) -> dict[str, int]:
    base = seed_base(dv)
    rng = random.Random(dv.seed_value)
    now = dv.clock.time()
    stamp = epoch_to_iso(now - YEAR)
    root, child = base["root"]["businessunitid"], base["child"]["businessunitid"]
    roles, teams = base["roles"], base["teams"]

    # Users: admins, AC admins/users, one without roles, one in the child BU reached through a team.
    people = [
        ("Alex", "Admin", root, "System Administrator"),
        ("Marie", "Müller", root, "ActiveCampaign Admin"),
        ("Sam", "Seller", root, "ActiveCampaign User"),
        ("Nina", "Norole", root, None),
        ("Émile", "Dubois", child, "ActiveCampaign User"),
        ("Tom", "Teamonly", child, None),
    ]
    owners = [dv.app_user]
    for first, last, bu, role in people:
        user = _user(dv, first, last, bu, stamp, rng=rng)
        owners.append(user["systemuserid"])
        dv.links["teammembership_association"].add((user["systemuserid"], teams[bu]))
        if role:
            dv.links["systemuserroles_association"].add((user["systemuserid"], roles[(role, bu)]))
    sales_team = _system_row(
        dv,
        "team",
        {
            "teamid": dv.new_id(),
            "name": "EU Sales (AAD group)",
            "teamtype": 2,
            "membershiptype": 0,
            "isdefault": False,
            "azureactivedirectoryobjectid": _guid(rng),
            "_businessunitid_value": child,
        },
        stamp,
    )
    dv.links["teamroles_association"].add((sales_team["teamid"], roles[("ActiveCampaign User", child)]))
    dv.links["teammembership_association"].add((owners[-1], sales_team["teamid"]))

    counts = {"contacts": contacts}
    accounts = _seed_accounts(dv, rng, contacts // 10, owners, now)
    contact_rows = _seed_contacts(dv, rng, contacts, accounts, owners, now)
    counts["accounts"] = len(accounts)
    counts["leads"] = _seed_leads(dv, rng, contacts // 5 if contacts else 0, contact_rows, owners, now)
    counts["opportunities"] = _seed_opportunities(dv, rng, contacts // 8, contact_rows, owners, now)
    seed_security(dv, base, stamp)
    dv.build_indexes()  # the sort of 10^6 ids belongs to the seed, not to the first request after it
    return counts


def _guid(rng: random.Random) -> str:
    return random_guid(rng)


@lru_cache(maxsize=2048)
def _day(day: int) -> str:
    return datetime.fromtimestamp(day * 86400, UTC).strftime("%Y-%m-%dT")


def _iso(epoch: float) -> str:
    """epoch_to_iso, fast enough for 100,000-row seeds."""
    seconds = int(epoch)
    day, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    return f"{_day(day)}{hours:02d}:{rest // 60:02d}:{rest % 60:02d}Z"


def _system_row(dv: Dataverse, logical: str, row: dict[str, Any], stamp: str) -> dict[str, Any]:
    row.update(createdon=stamp, modifiedon=stamp, versionnumber=dv.next_version())
    pk = dv.tables[logical].pk
    dv.rows[logical][row[pk]] = row
    return row


def _user(
    dv: Dataverse,
    first: str,
    last: str,
    bu: str,
    stamp: str,
    application: bool = False,
    rng: random.Random | None = None,
) -> dict[str, Any]:
    r = rng or dv.id_rng
    slug = _ascii(f"{first}.{last}").lower().strip(".") or "app"
    row: dict[str, Any] = {
        "systemuserid": dv.new_id(),
        "firstname": first or None,
        "lastname": last or first,
        "fullname": f"{first} {last}".strip(),
        "domainname": f"{slug}@sandbox.onmicrosoft.com",
        "internalemailaddress": f"{slug}@sandbox.example.com",
        "azureactivedirectoryobjectid": _guid(r),
        "applicationid": _guid(r) if application else None,
        "isdisabled": False,
        "accessmode": 4 if application else 0,  # application users are non-interactive
        "_businessunitid_value": bu,
    }
    return _system_row(dv, "systemuser", row, stamp)


def _address(i: int, city: str | None, country: str | None) -> dict[str, Any]:
    if city is None:
        return {"address1_city": None, "address1_country": country}
    out: dict[str, Any] = {
        "address1_line1": f"{1 + i % 120} {STREETS[i % len(STREETS)]}",
        "address1_city": city,
        "address1_postalcode": f"{10000 + (i * 37) % 89999}",
        "address1_country": country,
    }
    state = STATES.get(city)
    if state:
        out["address1_stateorprovince"] = state
    return out


def _times(rng: random.Random, now: float) -> tuple[str, str]:
    created = now - YEAR + rng.random() * (YEAR - 86400)
    modified = created + rng.random() * (now - created - 60)
    return _iso(created), _iso(modified)


def _seed_accounts(dv: Dataverse, rng: random.Random, n: int, owners: list[str], now: float) -> list[str]:
    ids = []
    rows = dv.rows["account"]
    for i in range(n):
        city, country = CITIES[i % len(CITIES)]
        created, modified = _times(rng, now)
        aid = dv.new_id()
        rows[aid] = {
            "accountid": aid,
            "name": f"{COMPANY[i % len(COMPANY)]} {SUFFIX[i % len(SUFFIX)]} {i}",
            "accountnumber": f"A{i:06d}",
            "websiteurl": f"https://www.company{i}.example.com",
            "telephone1": f"+49 30 {1000000 + i}",
            **_address(i, city, country),
            "_ownerid_value": owners[i % len(owners)],
            "_ownerid_value" + LLN: "systemuser",
            "statecode": 0,
            "statuscode": 1,
            "merged": False,
            "createdon": created,
            "modifiedon": modified,
            "versionnumber": dv.next_version(),
        }
        ids.append(aid)
    return ids


def _seed_contacts(
    dv: Dataverse, rng: random.Random, n: int, accounts: list[str], owners: list[str], now: float
) -> list[dict[str, Any]]:
    rows = dv.rows["contact"]
    out = []
    n_accounts = len(accounts)
    for i in range(n):
        first, last = FIRST[i % len(FIRST)], LAST[(i * 7 + i // len(FIRST)) % len(LAST)]
        title = TITLES[i % len(TITLES)]
        city, country = CITIES[(i // 3) % len(CITIES)]
        created, modified = _times(rng, now)
        cid = dv.new_id()
        row: dict[str, Any] = {
            "contactid": cid,
            "firstname": first,
            "lastname": last,
            "fullname": f"{first} {last}",
            "emailaddress1": email_for(i, first, last),
            "jobtitle": title,
            "telephone1": f"+1 512 555 {i:04d}" if i % 4 else None,
            **_address(i, city, country),
            "donotbulkemail": i % 23 == 0,
            "donotemail": False,  # the seed's opt-outs are donotbulkemail only (tests set the rest)
            "_ownerid_value": owners[i % len(owners)],
            "_ownerid_value" + LLN: "systemuser",
            "statecode": 0,
            "statuscode": 1,
            "merged": False,
            "createdon": created,
            "modifiedon": modified,
            "versionnumber": dv.next_version(),
        }
        if n_accounts and i % 10 < 7:  # ~70 % B2B; the rest are plain contacts
            row["_parentcustomerid_value"] = accounts[rng.randrange(n_accounts)]
            row["_parentcustomerid_value" + LLN] = "account"
        rows[cid] = row
        out.append(row)
    return out


def _seed_leads(
    dv: Dataverse, rng: random.Random, n: int, contacts: list[dict[str, Any]], owners: list[str], now: float
) -> int:
    rows = dv.rows["lead"]
    for i in range(n):
        first, last = FIRST[(i * 3) % len(FIRST)], LAST[(i * 5 + 1) % len(LAST)]
        created, modified = _times(rng, now)
        if i % 4 == 0 and contacts:  # a lead for someone who is already a contact
            email = contacts[rng.randrange(len(contacts))]["emailaddress1"]
        else:
            email = f"lead{i}.{_ascii(last).lower().replace(chr(39), '')}@prospects.example.com"
        state, status = (0, 1 + i % 2) if i % 9 else (2, 4)
        lid = dv.new_id()
        rows[lid] = {
            "leadid": lid,
            "subject": f"Interest from {first} {last}",
            "firstname": first,
            "lastname": last,
            "fullname": f"{first} {last}",
            "companyname": f"{COMPANY[i % len(COMPANY)]} {SUFFIX[(i + 2) % len(SUFFIX)]}",
            "emailaddress1": email,
            "leadsourcecode": 1 + i % 10,
            "donotbulkemail": False,
            "donotemail": False,
            "address1_city": CITIES[i % len(CITIES)][0],
            "address1_country": CITIES[i % len(CITIES)][1],
            "_ownerid_value": owners[i % len(owners)],
            "_ownerid_value" + LLN: "systemuser",
            "statecode": state,
            "statuscode": status,
            "merged": False,
            "createdon": created,
            "modifiedon": modified,
            "versionnumber": dv.next_version(),
        }
    return n


def _seed_opportunities(
    dv: Dataverse, rng: random.Random, n: int, contacts: list[dict[str, Any]], owners: list[str], now: float
) -> int:
    rows = dv.rows["opportunity"]
    for i in range(n):
        contact = contacts[rng.randrange(len(contacts))]
        created, modified = _times(rng, now)
        oid = dv.new_id()
        estimated = float(1000 + (i * 137) % 50000)
        row: dict[str, Any] = {
            "opportunityid": oid,
            "name": f"Deal {i}: {contact['fullname']}",
            "_parentcontactid_value": contact["contactid"],
            "_transactioncurrencyid_value": dv.base_currency,
            "estimatedvalue": estimated,
            "estimatedclosedate": epoch_to_iso(now + (i % 90) * 86400)[:10],
            "salesstagecode": 1,
            "salesstage": i % 4,
            "stepname": ["Qualify", "Develop", "Propose", "Close"][i % 4],
            "_ownerid_value": owners[i % len(owners)],
            "_ownerid_value" + LLN: "systemuser",
            "statecode": 0,
            "statuscode": 1,
            "createdon": created,
            "modifiedon": modified,
            "versionnumber": dv.next_version(),
        }
        if i % 10 in (3, 7):  # won: actual value (sometimes off the estimate) and a past close date
            closed = epoch_to_iso(now - (1 + i % 60) * 86400)[:10]
            actual = round(estimated * (0.8 + (i % 5) * 0.1), 2)
            row.update(statecode=1, statuscode=3, actualvalue=actual, actualclosedate=closed, salesstage=3)
            row["stepname"] = "Close"
        elif i % 10 == 5:  # lost (canceled / out-sold): closed, no revenue
            closed = epoch_to_iso(now - (1 + i % 45) * 86400)[:10]
            row.update(statecode=2, statuscode=4 + (i // 10) % 2, actualclosedate=closed)
        account = contact.get("_parentcustomerid_value")
        if account:
            row["_customerid_value"] = account
            row["_customerid_value" + LLN] = "account"
            row["_parentaccountid_value"] = account
        else:
            row["_customerid_value"] = contact["contactid"]
            row["_customerid_value" + LLN] = "contact"
        rows[oid] = row
    return n
