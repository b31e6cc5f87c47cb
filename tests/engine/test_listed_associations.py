"""A pass that reads on after its push completes rows whose imports AC processed after the pass listed the
associations (issue 23): that listing cannot hold what those imports linked, so such rows are read one by one
(``ac_reader._listed``); taken from the listing they looked unlinked, the create was refused (422 "already
associated", 234 contacts at 10,000 B2B in the bench) and the import's reading looked contradicted."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any, cast

from sync_core.engine.ac_reader import Pending, _listed
from sync_core.engine.pass_state import Pass, PassCaches
from sync_core.model.state import ImportRow

T = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)


def _pass(listed_at: datetime | None) -> Pass:
    caches = PassCaches()
    if listed_at is not None:
        caches.account_contacts, caches.account_contacts_at = {}, listed_at
    return cast(Pass, SimpleNamespace(caches=caches))


def _pending(*, completed: bool, checked_at: datetime | None) -> Pending:
    row = cast(ImportRow, cast(Any, SimpleNamespace(email="a@example.com")))
    return Pending(row, T - timedelta(minutes=5), completed=completed, batch_id="b1", checked_at=checked_at)


def test_an_import_confirmed_after_the_listing_is_not_in_it() -> None:
    assert not _listed(_pass(T), _pending(completed=True, checked_at=T + timedelta(seconds=1)))
    assert not _listed(_pass(T), _pending(completed=False, checked_at=None))


def test_an_import_confirmed_before_the_listing_is_in_it() -> None:
    assert _listed(_pass(T), _pending(completed=True, checked_at=T - timedelta(seconds=1)))


def test_with_nothing_listed_yet_a_listing_made_now_holds_it() -> None:
    assert _listed(_pass(None), _pending(completed=False, checked_at=None))
