"""The progress display's pieces: percent and ETA of a full read, a delta read shown as changes, and the
waits the clients log (Retry-After, the budget's hold-off) shown as the display's note."""

from __future__ import annotations

import io
import logging
from datetime import UTC, datetime, timedelta

import pytest
from rich.console import Console

from sync_core.cli.progress import Progress, _RetryNotes, calls_line, progress_table
from sync_core.model.state import DynamicsCursor


def _render(table: object) -> str:
    out = io.StringIO()
    Console(file=out, width=120).print(table)
    return out.getvalue()


def test_a_full_read_shows_percent_and_eta_and_a_delta_read_shows_changes() -> None:
    now = datetime(2026, 12, 1, 12, tzinfo=UTC)
    initial = DynamicsCursor(entity="contact", phase="initial", done=50, total=200,
                             started_at=now - timedelta(seconds=10))
    delta = DynamicsCursor(entity="lead", phase="delta", done=7, total=40)
    text = _render(progress_table([initial, delta], {"contact": {"created": 45, "unchanged": 5}}, now))
    contact = next(line for line in text.splitlines() if "contact" in line)
    assert "initial read" in contact and "50/200" in contact and "25.0" in contact and "30s" in contact
    assert " 45" in contact  # written: created, not the unchanged ones
    lead = next(line for line in text.splitlines() if "lead" in line)
    assert "changes" in lead and "%" not in lead and "delta" not in lead


def test_waits_the_clients_log_become_the_note(caplog: pytest.LogCaptureFixture) -> None:
    progress = Progress(enabled=False)
    log = logging.getLogger("sync_core.store.budget")
    handler = _RetryNotes(progress)
    log.addHandler(handler)
    try:
        log.setLevel(logging.INFO)
        log.info("waiting %.1fs for the %s request budget (the service asked to slow down)", 12.0, "ac-x")
        assert "waiting 12.0s for the ac-x request budget" in progress._note
        logging.getLogger("sync_core.http").warning("GET /api/3/contacts -> 429; retrying in 3.0s (attempt 1)")
        assert "waiting 12.0s" in progress._note  # another logger: not this handler's
    finally:
        log.removeHandler(handler)
        log.setLevel(logging.NOTSET)


def test_the_calls_spent_so_far() -> None:
    assert calls_line({"activecampaign": 12, "dynamics": 3}, 2) == \
        "pass 3; calls spent by the 2 finished: ActiveCampaign 12, Dynamics 3"
