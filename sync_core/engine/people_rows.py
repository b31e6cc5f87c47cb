"""What the people handler plans for one record, and the account facts its plan and writes share."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from sync_core.engine.associations import ACCOUNT as ASSOC_ACCOUNT
from sync_core.engine.associations import Association
from sync_core.engine.consent import Decision
from sync_core.engine.pass_state import Pass
from sync_core.model.config import FieldMapping
from sync_core.model.state import RecordLink

EMAIL = "emailaddress1"
ACCOUNT_COLUMN = "parentcustomerid"
TITLE_COLUMN = "jobtitle"


@dataclass(slots=True)
class EmailMove:
    """Where a linked record whose email changed goes (see :func:`email_move`)."""

    action: Literal["update", "move", "duplicate"]
    """update: the AC contact takes the email; move: the record goes to the AC contact of its new email."""
    joined_ac_id: str | None = None
    twin: str | None = None


@dataclass(slots=True)
class Planned:
    record: Mapping[str, Any]
    dynamics_id: str
    values: dict[str, Any]
    link: RecordLink | None
    changed: list[str]
    shared_ac_id: str | None = None  # an AC contact already linked to the other table (lead ↔ contact)
    ac_account_id: str | None = None
    ac_account_name: str | None = None
    move: EmailMove | None = None
    """Set for a linked record whose email changed."""
    opt_out: bool = False
    """The record's Dynamics opt-out columns are set (``engine.consent``)."""
    consent: Decision | None = None
    """What the record's consent asks of AC's list statuses."""

    @property
    def account_changed(self) -> bool:
        return ACCOUNT_COLUMN in self.changed or TITLE_COLUMN in self.changed

    @property
    def email(self) -> str:
        return str(self.values[EMAIL])

    @property
    def is_new(self) -> bool:
        return self.link is None

    @property
    def kind(self) -> str:
        if self.move is not None:
            return self.move.action
        if not self.is_new and not self.changed:
            return "consent"
        if self.is_new:
            return "create" if self.shared_ac_id is None else "link"
        return "update"


def accounts_on(p: Pass, fields: Sequence[FieldMapping]) -> bool:
    """Contacts carry their account only when accounts sync to AC and the plan has them."""
    return (p.connection.entities.of("account").pushes and "account" not in p.outcome.unavailable
            and any(f.dynamics == ACCOUNT_COLUMN for f in fields))


def title_on_association(fields: Sequence[FieldMapping]) -> bool:
    return any(f.dynamics == TITLE_COLUMN and f.activecampaign == "accountContact.jobTitle" for f in fields)


def association_for(p: Pass, fields: Sequence[FieldMapping], x: Planned, link: RecordLink) -> Association | None:
    if not accounts_on(p, fields) or not (x.is_new or x.account_changed):
        return None
    if x.ac_account_id is None and not link.ac_values.get(ASSOC_ACCOUNT):
        return None
    title = x.values.get(TITLE_COLUMN)
    return Association(link, x.ac_account_id, str(title) if title else None, title_on_association(fields))


def titled(fields: Sequence[FieldMapping], x: Planned) -> bool:
    return title_on_association(fields) and bool(x.values.get(TITLE_COLUMN))
