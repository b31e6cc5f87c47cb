"""Result records of the bulk-import calls."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class BulkImportResult:
    """One accepted ``import/bulk_import`` call: AC queued it under ``batch_id``."""

    batch_id: str
    queued_contacts: int
    message: str = ""


@dataclass(frozen=True)
class RejectedRow:
    """A row bulk import refused (named in ``failureReasons``), with AC's reason."""

    row: dict[str, Any]
    reason: str


@dataclass
class ImportOutcome:
    """What :meth:`ActiveCampaignClient.import_contacts` sent and what AC refused up front."""

    batch_ids: list[str] = field(default_factory=list)
    submitted: list[tuple[str, list[dict[str, Any]]]] = field(default_factory=list)
    rejected: list[RejectedRow] = field(default_factory=list)

    @property
    def submitted_rows(self) -> int:
        return sum(len(rows) for _, rows in self.submitted)


@dataclass(frozen=True)
class ImportStatus:
    """``import/info``: ``success`` and ``failure`` exactly as AC lists them (ids, emails)."""

    batch_id: str
    status: str
    success: list[str]
    failure: list[str]
    raw: dict[str, Any] = field(default_factory=dict)

    @property
    def finished(self) -> bool:
        return self.status.lower() in ("completed", "complete", "finished", "done")


@dataclass(frozen=True)
class ContactPage:
    """One page of a contacts list: the contacts, their side-loaded field values when the answer carried
    them (``None``: it did not), and ``meta.total`` (the contacts the whole filter matches)."""

    contacts: list[dict[str, Any]]
    field_values: list[dict[str, Any]] | None
    total: int | None
