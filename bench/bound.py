"""The bound the documented limits allow, for one workload under one reading of the register.

Limits (reference/activecampaign-api.md §2, §5; dynamics-webapi.md): 5 requests/s per AC
account, shared by every call that spends it; bulk import at most 250 contacts a call and
100 multi-contact calls a minute; Dataverse 6,000 requests per 300 s per user. The bound
counts the fewest calls of each kind the work needs and asks how long each limit takes to let
them through; the slowest limit sets the time, and records / that time is the bound.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

AC_RPS = 5.0
IMPORT_ROWS = 250
IMPORTS_PER_MINUTE = 100
AC_PAGE = 100
DV_PAGE = 5000
DV_REQUESTS, DV_WINDOW = 6000, 300.0


@dataclass(frozen=True)
class Workload:
    contacts: int
    accounts: int = 0
    """AC accounts to create (0: the engine syncs contacts only)."""
    linked: int = 0
    """Contacts that belong to an account (account-contact links to make)."""
    titled: int = 0
    """Linked contacts with a job title: AC keeps it on the association, which no import row sets."""

    @property
    def label(self) -> str:
        if not self.accounts:
            return f"{self.contacts:,} contacts"
        return (f"{self.contacts:,} contacts, {self.accounts:,} accounts, {self.linked:,} links "
                f"({self.titled:,} with a job title)")


@dataclass(frozen=True)
class Reading:
    bulk_spends_rps: bool
    """Register #1: does import/bulk_import also spend the 5/s budget?"""
    import_links_accounts: bool
    """Register #9: does customer_acct_name in an import row link the contact to its account?"""

    @property
    def label(self) -> str:
        spends = "import spends 5/s" if self.bulk_spends_rps else "import outside 5/s"
        links = "name links" if self.import_links_accounts else "name ignored"
        return f"{spends}, {links}"


READINGS: tuple[Reading, ...] = (
    Reading(True, True), Reading(False, True), Reading(True, False), Reading(False, False),
)


@dataclass(frozen=True)
class Bound:
    workload: Workload
    reading: Reading
    calls: dict[str, int]
    """Minimal calls of each kind."""
    rps_calls: int
    seconds_rps: float
    seconds_import: float
    seconds_dataverse: float

    @property
    def seconds(self) -> float:
        return max(self.seconds_rps, self.seconds_import, self.seconds_dataverse)

    @property
    def records_per_second(self) -> float:
        return self.workload.contacts / self.seconds if self.seconds else math.inf

    @property
    def limiting(self) -> str:
        times = {"5 req/s": self.seconds_rps, "100 imports/min": self.seconds_import,
                 "Dataverse 6000/300s": self.seconds_dataverse}
        return max(times, key=lambda k: times[k])

    def arithmetic(self) -> str:
        parts = " + ".join(f"{n:,} {kind}" for kind, n in self.calls.items() if kind != "dataverse reads"
                           and (kind != "bulk_import" or self.reading.bulk_spends_rps))
        return (f"5/s: ({parts}) = {self.rps_calls:,} calls / 5 = {self.seconds_rps:,.0f} s; "
                f"imports: {self.calls['bulk_import']:,} / 100 per min = {self.seconds_import:,.0f} s; "
                f"Dataverse: {self.calls['dataverse reads']:,} / 20 per s = {self.seconds_dataverse:,.1f} s "
                f"-> bound {self.workload.contacts:,} / {self.seconds:,.0f} s = {self.records_per_second:,.1f} rec/s "
                f"({self.limiting})")


def bulk_bound(w: Workload, r: Reading) -> Bound:
    """The bulk path: import, confirm each import, read contacts back for their ids; accounts are
    created one by one (an import cannot carry their fields), listed to match names, and linked
    either by the import row (free; not for a titled contact, whose title needs a call anyway) or
    one accountContacts call per linked contact."""
    imports = math.ceil(w.contacts / IMPORT_ROWS)
    calls = {
        "bulk_import": imports,
        "import.info": imports,
        "contacts.list": math.ceil(w.contacts / AC_PAGE),
    }
    if w.accounts:
        calls["accounts.list"] = math.ceil(w.accounts / AC_PAGE)
        calls["account.create"] = w.accounts
        if not r.import_links_accounts:
            calls["accountContact.create"] = w.linked  # the title rides on the create
        elif w.titled:
            # The import links the untitled contacts for free; a titled one costs a call either way
            # (AC keeps the title on the association): one create with its title, unnamed in the import.
            calls["accountContact.create"] = w.titled
    dv_reads = math.ceil(w.contacts / DV_PAGE) + math.ceil(w.accounts / DV_PAGE) + (2 if w.accounts else 1)
    calls["dataverse reads"] = dv_reads
    rps_calls = sum(n for kind, n in calls.items()
                    if kind != "dataverse reads" and (kind != "bulk_import" or r.bulk_spends_rps))
    return Bound(w, r, calls, rps_calls, seconds_rps=rps_calls / AC_RPS,
                 seconds_import=imports * 60.0 / IMPORTS_PER_MINUTE,
                 seconds_dataverse=dv_reads * DV_WINDOW / DV_REQUESTS)


def per_record_bound(contacts: int) -> float:
    """One contact/sync per contact: 5 records/s, whatever the reading (seconds for ``contacts``)."""
    return contacts / AC_RPS
