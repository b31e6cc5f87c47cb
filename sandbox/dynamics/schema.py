"""Tables, columns and navigation properties the stand-in serves (dynamics-webapi.md §7, §8).

Only what a sync touches. Column types follow ``AttributeTypeName``; lookups are stored as
``_<name>_value`` plus the target table in ``_<name>_value@lookuplogicalname``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .odata_filter import Kind


@dataclass(frozen=True)
class Column:
    name: str
    type: str  # AttributeTypeName without "Type": String, Memo, Lookup, Customer, Owner, Picklist, State, ...
    max_length: int | None = None
    required: str = "None"  # None | SystemRequired | ApplicationRequired | Recommended
    writable: bool = True  # IsValidForCreate/Update
    create_only_ignored: bool = False  # IsValidForCreate = False (statecode)
    updatable: bool = True  # IsValidForUpdate (False: set on create only, e.g. role businessunitid)
    derived: bool = False  # computed from ownerid when read (owninguser, owningteam, owningbusinessunit)
    targets: tuple[str, ...] = ()  # lookup targets (logical names)
    options: tuple[tuple[int, str], ...] = ()  # picklist/state/status labels
    default: bool | None = None  # DefaultValue of a Boolean column, set on create when not sent

    @property
    def is_lookup(self) -> bool:
        return self.type in ("Lookup", "Customer", "Owner")

    @property
    def filter_kind(self) -> str:
        return {
            "String": Kind.STRING,
            "Memo": Kind.STRING,
            "Uniqueidentifier": Kind.GUID,
            "Lookup": Kind.GUID,
            "Customer": Kind.GUID,
            "Owner": Kind.GUID,
            "DateTime": Kind.DATETIME,
            "DateOnly": Kind.DATE,
            "Boolean": Kind.BOOL,
        }.get(self.type, Kind.NUMBER)


@dataclass
class Table:
    logical: str
    entity_set: str
    pk: str
    primary_name: str
    columns: dict[str, Column]
    nav: dict[str, tuple[str, str]] = field(default_factory=dict)  # nav prop -> (lookup column, target table)
    change_tracking: bool = True
    can_change_tracking: bool = True
    alternate_keys: tuple[tuple[str, ...], ...] = ()  # each key: the columns named in <set>(a=..,b=..)
    object_type_code: int = 0

    def column(self, name: str) -> Column | None:
        return self.columns.get(name)


def _s(name: str, length: int = 100, required: str = "None") -> Column:
    return Column(name, "String", max_length=length, required=required)


# Consent flags of contact and lead: Boolean, RequiredLevel None, DefaultValue False, options 1 "Do Not Allow" /
# 0 "Allow" (MicrosoftDocs powerapps-docs reference/entities/contact.md and account.md DoNotBulkEMail, DoNotEMail;
# dynamics-365-customer-engagement ce/developer/entities/lead.md lists both on lead with the same metadata).
_CONSENT = (
    Column("donotbulkemail", "Boolean", default=False, options=((1, "Do Not Allow"), (0, "Allow"))),
    Column("donotemail", "Boolean", default=False, options=((1, "Do Not Allow"), (0, "Allow"))),
)
_OWNER = Column("ownerid", "Owner", required="SystemRequired", targets=("systemuser", "team"))
# Read-only owner columns of user/team-owned tables (reference/entities/contact.md and the others).
_OWNING = (
    _OWNER,
    Column("owninguser", "Lookup", writable=False, targets=("systemuser",), derived=True),
    Column("owningteam", "Lookup", writable=False, targets=("team",), derived=True),
    Column("owningbusinessunit", "Lookup", writable=False, targets=("businessunit",), derived=True),
)
_OWNING_NAV = {
    "ownerid": ("ownerid", "systemuser"),
    "owninguser": ("owninguser", "systemuser"),
    "owningteam": ("owningteam", "team"),
    "owningbusinessunit": ("owningbusinessunit", "businessunit"),
}
_SYSTEM = [
    Column("createdon", "DateTime", writable=False),
    Column("modifiedon", "DateTime", writable=False),
    Column("versionnumber", "BigInt", writable=False),
]
_MERGE = [Column("merged", "Boolean", writable=False), Column("masterid", "Lookup", writable=False)]
_ACTIVE_STATE = (  # StateCode IsValidForCreate False (reference/entities/account.md)
    Column(
        "statecode",
        "State",
        required="SystemRequired",
        create_only_ignored=True,
        options=((0, "Active"), (1, "Inactive")),
    ),
    Column("statuscode", "Status", options=((1, "Active"), (2, "Inactive"))),
)


def _address() -> tuple[Column, ...]:
    """address1_* columns (dynamics-webapi.md §7; stateorprovince length not in the reference, 50 as on contact)."""
    return (
        _s("address1_line1", 250),
        _s("address1_line2", 250),
        _s("address1_line3", 250),
        _s("address1_city", 80),
        _s("address1_stateorprovince", 50),
        _s("address1_postalcode", 20),
        _s("address1_country", 80),
    )


def _cols(*cols: Column) -> dict[str, Column]:
    return {c.name: c for c in cols}


def build_tables() -> dict[str, Table]:
    """Fresh table definitions (change-tracking flags are mutable per sandbox)."""
    contact = Table(
        "contact",
        "contacts",
        "contactid",
        "fullname",
        _cols(
            Column("contactid", "Uniqueidentifier"),
            _s("firstname", 50, "Recommended"),
            _s("lastname", 50, "ApplicationRequired"),
            Column("fullname", "String", max_length=160, writable=False),
            _s("emailaddress1"),
            _s("emailaddress2"),
            _s("emailaddress3"),
            _s("jobtitle"),
            _s("telephone1", 50),
            _s("mobilephone", 50),
            *_address(),
            *_CONSENT,
            Column("parentcustomerid", "Customer", targets=("account", "contact")),
            Column("originatingleadid", "Lookup", targets=("lead",)),
            *_OWNING,
            *_ACTIVE_STATE,
            *_MERGE,
            *_SYSTEM,
        ),
        nav={
            "parentcustomerid_account": ("parentcustomerid", "account"),
            "parentcustomerid_contact": ("parentcustomerid", "contact"),
            "originatingleadid": ("originatingleadid", "lead"),
            **_OWNING_NAV,
        },
        object_type_code=2,
    )
    lead = Table(
        "lead",
        "leads",
        "leadid",
        "fullname",
        _cols(
            Column("leadid", "Uniqueidentifier"),
            _s("subject", 300, "ApplicationRequired"),
            _s("firstname", 50, "Recommended"),
            _s("lastname", 50, "ApplicationRequired"),
            Column("fullname", "String", max_length=160, writable=False),
            _s("companyname", 100, "Recommended"),
            _s("emailaddress1"),
            _s("emailaddress2"),
            _s("emailaddress3"),
            _s("jobtitle"),
            _s("telephone1", 50),
            _s("mobilephone", 20),
            *_address(),
            *_CONSENT,
            Column("salesstage", "Picklist", options=((0, "Qualify"),)),
            Column(
                "leadsourcecode",
                "Picklist",
                options=(
                    (1, "Advertisement"),
                    (2, "Employee Referral"),
                    (3, "External Referral"),
                    (4, "Partner"),
                    (5, "Public Relations"),
                    (6, "Seminar"),
                    (7, "Trade Show"),
                    (8, "Web"),
                    (9, "Word of Mouth"),
                    (10, "Other"),
                ),
            ),
            Column(
                "statecode",
                "State",
                required="SystemRequired",
                create_only_ignored=True,
                options=((0, "Open"), (1, "Qualified"), (2, "Disqualified")),
            ),
            Column(
                "statuscode",
                "Status",
                options=(
                    (1, "New"),
                    (2, "Contacted"),
                    (3, "Qualified"),
                    (4, "Lost"),
                    (5, "Cannot Contact"),
                    (6, "No Longer Interested"),
                    (7, "Canceled"),
                ),
            ),
            Column("parentaccountid", "Lookup", targets=("account",)),
            Column("parentcontactid", "Lookup", targets=("contact",)),
            Column("customerid", "Customer", targets=("account", "contact")),
            *_OWNING,
            *_MERGE,
            *_SYSTEM,
        ),
        nav={
            "parentaccountid": ("parentaccountid", "account"),
            "parentcontactid": ("parentcontactid", "contact"),
            "customerid_account": ("customerid", "account"),
            "customerid_contact": ("customerid", "contact"),
            **_OWNING_NAV,
        },
        object_type_code=4,
    )
    account = Table(
        "account",
        "accounts",
        "accountid",
        "name",
        _cols(
            Column("accountid", "Uniqueidentifier"),
            _s("name", 160, "ApplicationRequired"),
            _s("accountnumber", 20),
            _s("websiteurl", 200),
            _s("telephone1", 50),
            *_address(),
            Column("primarycontactid", "Lookup", targets=("contact",)),
            Column("parentaccountid", "Lookup", targets=("account",)),
            Column("originatingleadid", "Lookup", targets=("lead",)),
            *_OWNING,
            *_ACTIVE_STATE,
            *_MERGE,
            *_SYSTEM,
        ),
        nav={
            "primarycontactid": ("primarycontactid", "contact"),
            "originatingleadid": ("originatingleadid", "lead"),
            "parentaccountid": ("parentaccountid", "account"),
            **_OWNING_NAV,
        },
        object_type_code=1,
    )
    opportunity = Table(
        "opportunity",
        "opportunities",
        "opportunityid",
        "name",
        _cols(
            Column("opportunityid", "Uniqueidentifier"),
            _s("name", 300, "ApplicationRequired"),
            Column("customerid", "Customer", required="ApplicationRequired", targets=("account", "contact")),
            Column("parentaccountid", "Lookup", targets=("account",)),
            Column("parentcontactid", "Lookup", targets=("contact",)),
            Column("originatingleadid", "Lookup", targets=("lead",)),
            Column("estimatedvalue", "Money"),
            Column("actualvalue", "Money"),
            Column("estimatedclosedate", "DateOnly"),
            Column("actualclosedate", "DateOnly"),
            _s("stepname", 200),
            Column("salesstagecode", "Picklist", options=((1, "Default Value"),)),
            Column("salesstage", "Picklist", options=((0, "Qualify"), (1, "Develop"), (2, "Propose"), (3, "Close"))),
            Column("transactioncurrencyid", "Lookup", required="ApplicationRequired", targets=("transactioncurrency",)),
            Column(
                "statecode",
                "State",
                required="SystemRequired",
                create_only_ignored=True,
                options=((0, "Open"), (1, "Won"), (2, "Lost")),
            ),
            Column(
                "statuscode",
                "Status",
                options=((1, "In Progress"), (2, "On Hold"), (3, "Won"), (4, "Canceled"), (5, "Out-Sold")),
            ),
            *_OWNING,
            *_SYSTEM,
        ),
        nav={
            "customerid_account": ("customerid", "account"),
            "customerid_contact": ("customerid", "contact"),
            "parentaccountid": ("parentaccountid", "account"),
            "parentcontactid": ("parentcontactid", "contact"),
            "originatingleadid": ("originatingleadid", "lead"),
            "transactioncurrencyid": ("transactioncurrencyid", "transactioncurrency"),
            **_OWNING_NAV,
        },
        object_type_code=3,
    )
    systemuser = Table(
        "systemuser",
        "systemusers",
        "systemuserid",
        "fullname",
        _cols(
            Column("systemuserid", "Uniqueidentifier"),
            _s("firstname", 256),
            _s("lastname", 256, "ApplicationRequired"),
            Column("fullname", "String", max_length=200, writable=False),
            _s("domainname", 1024, "SystemRequired"),
            _s("internalemailaddress", 100),
            Column("azureactivedirectoryobjectid", "Uniqueidentifier"),
            Column("applicationid", "Uniqueidentifier"),
            Column("isdisabled", "Boolean", writable=False),
            Column(
                "accessmode",
                "Picklist",
                required="SystemRequired",
                options=(
                    (0, "Read-Write"),
                    (1, "Administrative"),
                    (2, "Read"),
                    (3, "Support User"),
                    (4, "Non-interactive"),
                    (5, "Delegated Admin"),
                ),
            ),
            Column("businessunitid", "Lookup", required="SystemRequired", targets=("businessunit",)),
            *_SYSTEM,
        ),
        nav={"businessunitid": ("businessunitid", "businessunit")},
        alternate_keys=(("azureactivedirectoryobjectid",),),
        object_type_code=8,
        change_tracking=False,
    )
    role = Table(
        "role",
        "roles",
        "roleid",
        "name",
        _cols(
            Column("roleid", "Uniqueidentifier"),
            _s("name", 100, "SystemRequired"),
            # reference/entities/role.md: BusinessUnitId IsValidForUpdate False; ParentRootRoleId
            # (SystemRequired), ParentRoleId and RoleTemplateId (lookup to roletemplate) read-only.
            Column("businessunitid", "Lookup", required="SystemRequired", targets=("businessunit",), updatable=False),
            Column("parentrootroleid", "Lookup", required="SystemRequired", writable=False, targets=("role",)),
            Column("parentroleid", "Lookup", writable=False, targets=("role",)),
            Column("roletemplateid", "Lookup", writable=False, targets=("roletemplate",)),
            Column(
                "isinherited",
                "Picklist",
                required="SystemRequired",
                options=((0, "Team privileges only"), (1, "Direct User (Basic) access level and Team privileges")),
            ),
            Column(
                "componentstate",
                "Picklist",
                writable=False,
                options=((0, "Published"), (1, "Unpublished"), (2, "Deleted"), (3, "Deleted Unpublished")),
            ),
            Column("overwritetime", "DateTime", writable=False),
            Column("ismanaged", "Boolean", writable=False),
            *_SYSTEM,
        ),
        nav={
            "businessunitid": ("businessunitid", "businessunit"),
            "parentrootroleid": ("parentrootroleid", "role"),
            "parentroleid": ("parentroleid", "role"),
            "roletemplateid": ("roletemplateid", "roletemplate"),
        },
        # security-roles.md addresses a role by these two alternate keys.
        alternate_keys=(
            ("_roletemplateid_value", "_businessunitid_value", "componentstate", "overwritetime"),
            ("_parentrootroleid_value", "_businessunitid_value", "componentstate", "overwritetime"),
        ),
        object_type_code=1036,
        change_tracking=False,
    )
    roletemplate = Table(
        "roletemplate",
        "roletemplates",
        "roletemplateid",
        "name",
        _cols(Column("roletemplateid", "Uniqueidentifier"), _s("name", 100, "SystemRequired")),
        object_type_code=1037,
        change_tracking=False,
        can_change_tracking=False,
    )
    team = Table(
        "team",
        "teams",
        "teamid",
        "name",
        _cols(
            Column("teamid", "Uniqueidentifier"),
            _s("name", 160, "SystemRequired"),
            Column(
                "teamtype",
                "Picklist",
                options=((0, "Owner"), (1, "Access"), (2, "Security Group"), (3, "Office Group")),
            ),
            Column("isdefault", "Boolean", writable=False),
            Column(
                "membershiptype",
                "Picklist",
                required="SystemRequired",
                updatable=False,
                options=((0, "Members and guests"), (1, "Members"), (2, "Owners"), (3, "Guests")),
            ),
            Column("azureactivedirectoryobjectid", "Uniqueidentifier"),
            Column("businessunitid", "Lookup", required="SystemRequired", targets=("businessunit",)),
            *_SYSTEM,
        ),
        nav={"businessunitid": ("businessunitid", "businessunit")},
        object_type_code=9,
        change_tracking=False,
    )
    businessunit = Table(
        "businessunit",
        "businessunits",
        "businessunitid",
        "name",
        _cols(
            Column("businessunitid", "Uniqueidentifier"),
            _s("name", 160, "SystemRequired"),
            Column("parentbusinessunitid", "Lookup", targets=("businessunit",)),
            *_SYSTEM,
        ),
        nav={"parentbusinessunitid": ("parentbusinessunitid", "businessunit")},
        object_type_code=10,
        change_tracking=False,
        can_change_tracking=False,
    )
    organization = Table(
        "organization",
        "organizations",
        "organizationid",
        "name",
        _cols(
            Column("organizationid", "Uniqueidentifier"),
            _s("name", 160),
            Column("expirechangetrackingindays", "Integer"),
            *_SYSTEM,
        ),
        object_type_code=1019,
        change_tracking=False,
        can_change_tracking=False,
    )
    transactioncurrency = Table(
        "transactioncurrency",
        "transactioncurrencies",
        "transactioncurrencyid",
        "currencyname",
        _cols(
            Column("transactioncurrencyid", "Uniqueidentifier"),
            _s("currencyname", 100, "ApplicationRequired"),
            _s("isocurrencycode", 5, "ApplicationRequired"),
            _s("currencysymbol", 10, "ApplicationRequired"),
            *_ACTIVE_STATE,
            *_SYSTEM,
        ),
        object_type_code=9105,
        change_tracking=False,
    )
    privilege = Table(
        "privilege",
        "privileges",
        "privilegeid",
        "name",
        _cols(
            Column("privilegeid", "Uniqueidentifier", writable=False),
            Column("name", "String", max_length=100, writable=False),
            Column("accessright", "Integer", writable=False),
            Column("canbebasic", "Boolean", writable=False),
            Column("canbelocal", "Boolean", writable=False),
            Column("canbedeep", "Boolean", writable=False),
            Column("canbeglobal", "Boolean", writable=False),
            *_SYSTEM,
        ),
        object_type_code=1023,
        change_tracking=False,
        can_change_tracking=False,
    )
    tables = [
        contact,
        lead,
        account,
        opportunity,
        systemuser,
        role,
        roletemplate,
        privilege,
        team,
        businessunit,
        organization,
        transactioncurrency,
    ]
    return {t.logical: t for t in tables}


# N:N relationships: name -> (table A, table B). Navigable from either side under the same name.
RELATIONSHIPS: dict[str, tuple[str, str]] = {
    "systemuserroles_association": ("systemuser", "role"),
    "teammembership_association": ("systemuser", "team"),
    "teamroles_association": ("team", "role"),
}
