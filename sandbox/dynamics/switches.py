"""Switches for behaviours no primary source confirms (register: sandbox/dynamics/ASSUMPTIONS.md).

Each key is one register entry; the default is the stand-in's best reading, the alternatives are
the other plausible readings. Product scenario tests should pass under every value.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from sandbox import register_reads

from .errors import DataverseError

# key -> (default, allowed values)
SWITCHES: dict[str, tuple[Any, tuple[Any, ...]]] = {
    # String filters ignore accents (SQL collation *_CI_AI) vs. only case.
    "filter_accent_insensitive": (True, (True, False)),
    # `col ne 'x'` on a null column: SQL unknown (excluded) vs. included.
    "ne_matches_null": (False, (False, True)),
    # HTTP status of "Version stamp associated with the client has expired".
    "ct_expired_status": (400, (400, 410, 500)),
    # Delta token of a paged initial read: version when the first page was served (changes made
    # during the read show up in the next delta) vs. when the last page was served (they don't).
    "ct_token_from": ("first_page", ("first_page", "last_page")),
    # Row order of change-tracking pages: primary key vs. row version (updated rows move last).
    "ct_page_order": ("pk", ("pk", "version")),
    # $skiptoken shape: Dataverse-like XML paging cookie vs. an opaque base64 token.
    "skiptoken_format": ("cookie", ("cookie", "opaque")),
    # Organization.ExpireChangeTrackingInDays default: 7 (doc), 30 (observed, issue #3845), 90.
    "ct_expire_days": (7, (7, 30, 90)),
    # PATCH of lead/opportunity statecode: accepted vs. refused (use QualifyLead / Win / Lose).
    "state_patch": ("allow", ("allow", "refuse")),
    # Error code for assigning a role that belongs to another business unit.
    "role_other_bu_code": ("0x80040375", ("0x80040375", "0x80040220")),
    # Prefer: odata.track-changes on a table with change tracking off: ignored vs. refused.
    "ct_disabled": ("ignore", ("ignore", "error")),
    # GET <set>/$count capped at 5,000 like $count=true vs. exact.
    "count_endpoint_capped": (True, (True, False)),
    # Merge moves the loser's child records (lookups pointing at it) to the winner.
    "merge_reparents_children": (True, (True, False)),
    # A role created in the root business unit is copied into every child business unit.
    "role_copies_to_child_bus": (True, (True, False)),
    # Associating a role the user already has: 204 vs. duplicate-key error.
    "reassociate_duplicate": ("ok", ("ok", "error")),
    # Body of the 401 for a missing/unknown bearer token: empty vs. an OData error object.
    "auth_401_body": ("empty", ("empty", "error")),
    # Error code of the 412 for an If-Match version mismatch.
    "concurrency_code": ("0x80060882", ("0x80060882", "")),
    # $top together with Prefer: odata.maxpagesize: $top ignored (reference §3) vs. $top honoured.
    "top_with_maxpagesize": ("ignore_top", ("ignore_top", "top_wins")),
    # QualifyLead on a lead that is not open: refused vs. allowed.
    "qualify_closed_lead": ("error", ("error", "allow")),
    # _parentrootroleid_value of a root business unit's role: its own id vs. null.
    "root_role_parent_root": ("self", ("self", "null")),
    # Depth of a team's role (Local/Deep) counts from the team's business unit vs. the member's.
    "team_role_scope": ("team_bu", ("team_bu", "member_bu")),
    # Code of the 403 for a record the caller's privilege does not reach (owner/business unit/depth).
    "record_access_denied_code": ("0x80040220", ("0x80040220", "0x80048306")),
    # Status of impersonating (CallerObjectId / MSCRMCallerID) a disabled user.
    "impersonate_disabled_status": (403, (403, 400)),
    # Update of an inactive contact/account (other than reactivating it): accepted vs. refused (0x80040230).
    "inactive_update": ("allow", ("allow", "refuse")),
    # MaxLength counts UTF-16 code units (.NET string length, SQL nvarchar) vs. Unicode code points.
    "max_length_unit": ("utf16", ("utf16", "codepoints")),
    # Status of an @odata.bind to a record that does not exist (code 0x80040217 either way).
    "bind_missing_status": (404, (404, 400)),
    # Code of the 400 for creating or assigning a record with a disabled user as owner.
    "disabled_owner_code": ("0x8004022b", ("0x8004022b", "0x80040225")),
    # A record's new owner must hold the table's Read privilege (403 PrincipalPrivilegeDenied) vs. not checked.
    "owner_needs_read": (True, (True, False)),
    # ApplicationRequired columns on Web API writes: not enforced (forms only) vs. a create without one refused.
    "application_required": ("not_enforced", ("not_enforced", "enforced")),
}


class SwitchValues(dict[str, Any]):
    """The switches' current values; every read is noted for the readings sweep (``sandbox.register_reads``)."""

    def __getitem__(self, name: str) -> Any:
        register_reads.note("dataverse", name)
        return super().__getitem__(name)

    def get(self, name: str, default: Any = None) -> Any:
        register_reads.note("dataverse", name)
        return super().get(name, default)

    def __iter__(self) -> Iterator[str]:  # a copy (dict(values)) reads every switch: note them all
        for name in super().__iter__():
            register_reads.note("dataverse", name)
            yield name


def defaults() -> SwitchValues:
    return SwitchValues({key: default for key, (default, _) in SWITCHES.items()})


def validate(changes: dict[str, Any]) -> None:
    for key, value in changes.items():
        if key not in SWITCHES:
            raise DataverseError(400, "sandbox", f"unknown switch {key!r}")
        allowed = SWITCHES[key][1]
        if value not in allowed or type(value) is not type(SWITCHES[key][0]):
            raise DataverseError(400, "sandbox", f"switch {key!r} takes one of {list(allowed)}")
