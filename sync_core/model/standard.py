"""The standard mappings of each entity, as the seed's Data Configuration page lists them.

AC field keys: standard contact fields by their v3 names (``email``, ``firstName``,
``lastName``, ``phone``); ``accountContact.jobTitle`` is the job title kept on the
account-contact association (AC contacts have none); ``account`` is the contact's account;
custom fields are ``field:<id>``; account fields ``name``, ``accountUrl``, ``field:<id>``;
opportunity fields are the field ids of the "D365 Opportunity" custom-object schema.
"""

from __future__ import annotations

from dataclasses import dataclass

from sync_core.model.state import EntityName


@dataclass(frozen=True, slots=True)
class StandardField:
    key: str
    dynamics: str
    activecampaign: str
    locked: bool = False  # Email and Account cannot be turned off; opportunity fields cannot change


STANDARD_FIELDS: dict[EntityName, tuple[StandardField, ...]] = {
    "contact": (
        StandardField("email", "emailaddress1", "email", locked=True),
        StandardField("account", "parentcustomerid", "account", locked=True),
        StandardField("firstName", "firstname", "firstName"),
        StandardField("lastName", "lastname", "lastName"),
        StandardField("phone", "telephone1", "phone"),
        StandardField("jobTitle", "jobtitle", "accountContact.jobTitle"),
    ),
    "lead": (
        StandardField("email", "emailaddress1", "email", locked=True),
        StandardField("firstName", "firstname", "firstName"),
        StandardField("lastName", "lastname", "lastName"),
        StandardField("phone", "telephone1", "phone"),
    ),
    "account": (
        StandardField("name", "name", "name", locked=True),
        StandardField("accountUrl", "websiteurl", "accountUrl"),
    ),
    "opportunity": (
        StandardField("name", "name", "name", locked=True),
        StandardField("estimatedvalue", "estimatedvalue", "estimated-revenue", locked=True),
        StandardField("estimatedclosedate", "estimatedclosedate", "estimated-close-date", locked=True),
        StandardField("actualvalue", "actualvalue", "actual-revenue", locked=True),
        StandardField("stepname", "stepname", "stage", locked=True),
    ),
}

OPPORTUNITY_SCHEMA_SLUG = "d365-opportunity"
OPPORTUNITY_SCHEMA_LABEL = "D365 Opportunity"

LOOKUP_COLUMNS = frozenset({
    "parentcustomerid", "parentaccountid", "parentcontactid", "customerid", "transactioncurrencyid",
    "originatingleadid", "ownerid",
})
"""Lookup columns: read as ``_<name>_value``, written through ``<nav>@odata.bind``."""


def read_column(column: str) -> str:
    """The property a Dynamics read returns for ``column``."""
    return f"_{column}_value" if column in LOOKUP_COLUMNS else column
