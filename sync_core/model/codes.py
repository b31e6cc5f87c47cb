"""Stable error codes, one enum, each with what happened and the remedy beside it.

A record error (``RecordError.code``), an API error about an upstream failure and every
:class:`~sync_core.model.errors.SyncError` (``error_code``) use these names. They are part of the
API: renaming a Python class never changes them. README's "Record errors" table is checked against
:data:`REMEDIES` by a test.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Literal


class Service(StrEnum):
    """Which system an error came from: set by the client that raised it, never guessed."""

    ACTIVECAMPAIGN = "activecampaign"
    DYNAMICS = "dynamics"
    STORAGE = "storage"


class ErrorCode(StrEnum):
    # What the sync itself decides about a record.
    DUPLICATE_EMAIL = "duplicate_email"
    DUPLICATE_NAME = "duplicate_name"
    EMAIL_TAKEN = "email_taken"
    CONTACT_NOT_SYNCED = "contact_not_synced"
    IMPORT_REJECTED = "import_rejected"
    IMPORT_ROW_FAILED = "import_row_failed"
    ACCOUNT_CONTACT = "account_contact"
    PENDING = "pending"
    MERGE_PENDING = "merge_pending"
    EXISTS_AS_OTHER_KIND = "exists_as_other_kind"
    RECORD_INACTIVE = "record_inactive"
    CHANGED_IN_ACTIVECAMPAIGN = "changed_in_activecampaign"
    # What a service answered (the error tree's codes).
    REFUSED = "refused"
    DUPLICATE = "duplicate"
    CONFLICT = "conflict"
    NOT_FOUND = "not_found"
    RATE_LIMITED = "rate_limited"
    UNAVAILABLE = "unavailable"
    AUTH_FAILED = "auth_failed"
    PERMISSION_DENIED = "permission_denied"
    PLAN_LIMIT = "plan_limit"
    PAYMENT_REQUIRED = "payment_required"
    CONFIGURATION = "configuration"
    ERROR = "error"


Retried = Literal["yes", "on change", "no"]


@dataclass(frozen=True)
class Remedy:
    what: str
    remedy: str
    retried: Retried


REMEDIES: dict[ErrorCode, Remedy] = {
    ErrorCode.DUPLICATE_EMAIL: Remedy(
        "another record of the same table already syncs this email (one AC contact per email; the oldest keeps it)",
        "merge the two in Dynamics (the report clears), or change one email", "on change"),
    ErrorCode.DUPLICATE_NAME: Remedy(
        "another Dynamics account already has this name (AC account names are unique)",
        "merge or rename one", "on change"),
    ErrorCode.EMAIL_TAKEN: Remedy(
        "the email was changed to one an AC contact no record syncs already has",
        "merge the two contacts in AC, or change the email", "yes"),
    ErrorCode.CONTACT_NOT_SYNCED: Remedy(
        "the opportunity's contact does not sync", "sync the contact (criteria, email)", "yes"),
    ErrorCode.IMPORT_REJECTED: Remedy(
        "bulk import refused the row (`failureReasons`)", "fix the value in Dynamics", "yes"),
    ErrorCode.IMPORT_ROW_FAILED: Remedy(
        "bulk import accepted the row but failed it inside AC", "fix the value in Dynamics", "yes"),
    ErrorCode.ACCOUNT_CONTACT: Remedy(
        "the contact's account association (job title) could not be written", "usually transient", "yes"),
    ErrorCode.PENDING: Remedy(
        "waits for AC to finish an import whose id it needs", "none", "yes"),
    ErrorCode.MERGE_PENDING: Remedy(
        "a merged-away record waits for its AC contact's import before its link follows the winner", "none", "yes"),
    ErrorCode.EXISTS_AS_OTHER_KIND: Remedy(
        "a create request for a lead (contact) whose email is already a Dynamics contact (lead), while "
        "`create_requests.other_kind` is `refuse`", "qualify or remove the existing record, or set `other_kind` "
        "to `create`; the request tag stays, so the request is tried again", "yes"),
    ErrorCode.RECORD_INACTIVE: Remedy(
        "Dynamics refused to update the record because it is inactive (`0x80040230`): an AC edit waits for it",
        "reactivate the record in Dynamics or unlink it; it is retried once a read sees it active", "on change"),
    ErrorCode.CHANGED_IN_ACTIVECAMPAIGN: Remedy(
        "the AC contact was edited while the pass ran (after the sync read AC, before it wrote there): not "
        "written over", "none: the next pass reads the edit and settles both sides by the conflict rule", "yes"),
    ErrorCode.REFUSED: Remedy(
        "the service refused the data (validation); the cause holds its message", "fix the value the message names",
        "yes"),
    ErrorCode.DUPLICATE: Remedy(
        "the service refused a value that must be unique", "change or merge the duplicate", "yes"),
    ErrorCode.CONFLICT: Remedy(
        "the record changed on the service while the sync wrote it", "none: the next pass reads it again", "yes"),
    ErrorCode.NOT_FOUND: Remedy(
        "the record is gone on the service", "none, or restore it", "yes"),
    ErrorCode.RATE_LIMITED: Remedy(
        "the service kept throttling after every retry", "none: retried later", "yes"),
    ErrorCode.UNAVAILABLE: Remedy(
        "the service failed or could not be reached after every retry", "none: retried later", "yes"),
    ErrorCode.AUTH_FAILED: Remedy(
        "the service refused the credentials", "reconnect with a valid key or sign-in", "yes"),
    ErrorCode.PERMISSION_DENIED: Remedy(
        "the credentials lack a right the call needs", "grant the right (AC user, Dynamics security role)", "yes"),
    ErrorCode.PLAN_LIMIT: Remedy(
        "the ActiveCampaign plan lacks the feature", "upgrade the plan or turn the entity off", "yes"),
    ErrorCode.PAYMENT_REQUIRED: Remedy(
        "ActiveCampaign answered 402: the account has a payment issue (suspended)",
        "settle the account's payment in ActiveCampaign", "yes"),
    ErrorCode.CONFIGURATION: Remedy(
        "the connection's configuration cannot work as written", "fix the configuration the message names", "yes"),
    ErrorCode.ERROR: Remedy("an unexpected failure", "see the cause", "yes"),
}

LEGACY_CODES: dict[str, ErrorCode] = {
    "ValidationError": ErrorCode.REFUSED,
    "DuplicateError": ErrorCode.DUPLICATE,
    "NotFoundError": ErrorCode.NOT_FOUND,
    "RateLimitedError": ErrorCode.RATE_LIMITED,
    "TransientError": ErrorCode.UNAVAILABLE,
    "ConflictError": ErrorCode.CONFLICT,
    "DuplicateRecordError": ErrorCode.DUPLICATE,
    "BulkImportRejected": ErrorCode.REFUSED,
    "ValueTooLargeError": ErrorCode.REFUSED,
}
"""Codes stored before the enum (Python class names): read as their enum member."""


def code_of(stored: str) -> str:
    """A stored code as the API shows it (legacy class-name codes mapped, unknown ones kept)."""
    if stored in LEGACY_CODES:
        return LEGACY_CODES[stored].value
    return stored
