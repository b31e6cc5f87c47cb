"""Bulk import (reference §5): ``POST import/bulk_import`` and ``GET import/info``.

One call carries at most 250 rows and is asynchronous (AC answers a ``batchId``). It has its
own per-minute limits (100 calls/min with several rows, 20/min with one), and over them AC
answers **400** "Rate limit exceeded", not 429. One invalid row refuses the whole call and
``failureReasons`` names it by position: :meth:`BulkApi.import_contacts` drops the named rows
and sends the rest again.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from sync_core.activecampaign._base import ClientBase
from sync_core.activecampaign._errors import (
    BulkImportRejected,
    RowError,
    ValidationError,
)
from sync_core.activecampaign._models import BulkImportResult, ImportOutcome, ImportStatus, RejectedRow
from sync_core.activecampaign._paging import as_int
from sync_core.model.budget import RequestBudget

MAX_ROWS = 250
"""Rows per bulk-import call (documented maximum)."""


def _strings(value: Any) -> list[str]:
    if not isinstance(value, list):
        return []
    return [str(v) for v in value if v is not None]


_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def _plausible_email(value: Any) -> bool:
    return isinstance(value, str) and _EMAIL.match(value) is not None


class BulkApi(ClientBase):
    """Bulk contact import and its status."""

    def row_errors(self, rows: Sequence[dict[str, Any]], failure_reasons: list[Any]) -> list[RowError] | None:
        """Map ``failureReasons`` to rows; None if any reason cannot be tied to a row.

        A reason names its row by ``contact`` (its position in the ``contacts`` array, counted
        from :attr:`failure_reason_index_base`; the register has it unconfirmed, and ``None``
        means "unknown": the row at either reading that fails a plain email check is taken,
        else both candidates are, so the bad row is never resent and a good one dropped with
        it is retried on its own later). A reason that names an email instead is matched by
        email.
        """
        out: list[RowError] = []
        for reason in failure_reasons:
            if not isinstance(reason, dict):
                return None
            text = str(reason.get("failureReason") or reason.get("reason") or reason.get("message") or "")
            position = as_int(reason.get("contact"))
            indexes: list[int] = []
            if position is not None:
                base = self.failure_reason_index_base
                candidates = [position - b for b in ((base,) if base is not None else (0, 1))]
                indexes = [i for i in candidates if 0 <= i < len(rows)]
                if len(indexes) > 1:
                    suspicious = [i for i in indexes if not _plausible_email(rows[i].get("email"))]
                    indexes = suspicious if len(suspicious) == 1 else indexes
            else:
                email = str(reason.get("email") or "").casefold()
                matches = [i for i, r in enumerate(rows) if str(r.get("email") or "").casefold() == email]
                indexes = matches[:1] if email else []
            if not indexes:
                return None
            for index in indexes:
                email_value = rows[index].get("email")
                out.append(RowError(index=index, email=str(email_value) if email_value is not None else None,
                                    reason=text or "rejected"))
        return out

    async def bulk_import(self, rows: Sequence[dict[str, Any]], *, exclude_automations: bool = True,
                          callback: dict[str, Any] | None = None) -> BulkImportResult:
        """One ``import/bulk_import`` call with ≤ 250 rows (AC's snake_case import rows).

        Spends the per-minute import budget (single-row or multi-row) and, unless the client
        was built with ``bulk_import_spends_request_budget=False``, one of the 5/s requests. A
        400 "Rate limit exceeded" waits out the minute and retries. A 400 naming rows raises
        :class:`BulkImportRejected` (0-based ``row_errors``).
        """
        if not rows:
            raise ValueError("bulk_import needs at least one row")
        if len(rows) > MAX_ROWS:
            raise ValueError(f"bulk_import takes at most {MAX_ROWS} rows, got {len(rows)}")
        contacts = []
        for row in rows:
            if not row.get("email"):
                raise ValueError("every bulk_import row needs an email")
            contacts.append({**row, "exclude_automations": row.get("exclude_automations", exclude_automations)})
        body: dict[str, Any] = {"contacts": contacts}
        if callback is not None:
            body["callback"] = callback
        window: RequestBudget = self.single_import_budget if len(rows) == 1 else self.import_budget
        budgets = [window, self.budget] if self.bulk_import_spends_request_budget else [window]
        try:
            response = await self._send("POST", "import/bulk_import", kind="bulk_import", json=body,
                                        budgets=budgets, window_budget=window)
        except ValidationError as exc:
            reasons = exc.details.get("failureReasons") if isinstance(exc.details, dict) else None
            if isinstance(reasons, list) and reasons:
                errors = self.row_errors(rows, reasons)
                if errors:
                    raise BulkImportRejected(exc.message, row_errors=errors, status=exc.status,
                                             details=exc.details) from None
            raise
        data = self._json(response)
        batch_id = data.get("batchId") or data.get("batch_id")
        if not batch_id:
            raise ValidationError(f"ActiveCampaign bulk_import answered {response.status_code} without a batchId",
                                  status=response.status_code, details=data)
        return BulkImportResult(batch_id=str(batch_id), queued_contacts=as_int(data.get("queued_contacts")) or 0,
                                message=str(data.get("message") or ""))

    async def import_contacts(self, rows: Sequence[dict[str, Any]], *,
                              exclude_automations: bool = True) -> ImportOutcome:
        """Bulk-import any number of rows: chunks of ≤ 250; rows AC refuses are dropped (kept in
        ``outcome.rejected`` with AC's reason) and the rest of their chunk is sent again."""
        outcome = ImportOutcome()
        for start in range(0, len(rows), MAX_ROWS):
            pending = [dict(r) for r in rows[start:start + MAX_ROWS]]
            while pending:
                try:
                    result = await self.bulk_import(pending, exclude_automations=exclude_automations)
                except BulkImportRejected as exc:
                    bad = {e.index: e.reason for e in exc.row_errors}
                    outcome.rejected.extend(RejectedRow(row=pending[i], reason=r) for i, r in sorted(bad.items()))
                    pending = [r for i, r in enumerate(pending) if i not in bad]
                    continue
                outcome.batch_ids.append(result.batch_id)
                outcome.submitted.append((result.batch_id, pending))
                break
        return outcome

    async def import_info(self, batch_id: str) -> ImportStatus:
        """``import/info?batchId=``: ``success`` and ``failure`` as AC lists them."""
        data = await self._get("import/info", kind="import.info", params={"batchId": batch_id})
        return ImportStatus(batch_id=batch_id, status=str(data.get("status") or ""),
                            success=_strings(data.get("success")), failure=_strings(data.get("failure")), raw=data)

    async def list_imports(self) -> dict[str, Any]:
        """``GET import/bulk_import``: ``outstanding`` and ``recentlyCompleted`` batches."""
        return await self._get("import/bulk_import", kind="import.list")

