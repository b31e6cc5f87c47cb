"""Issue 23: import outcomes and new ids read between pages of the push; the follow-up pass comes
back when AC should have processed the open imports, not after a fixed delay."""

from __future__ import annotations

from typing import Any

import pytest

from sync_core.engine.scheduling import (
    IMPORTS_MIN_DELAY,
    IMPORTS_PENDING_DELAY,
    PassRequest,
    handle_request,
    imports_delay,
)
from tests.engine.conftest import HarnessFactory


class _Queue:
    def __init__(self) -> None:
        self.sent: list[tuple[PassRequest, int]] = []

    async def send(self, request: PassRequest, *, delay_seconds: int = 0) -> None:
        self.sent.append((request, delay_seconds))


async def test_ids_of_earlier_pages_are_read_while_later_pages_import(harness: HarnessFactory) -> None:
    # 5 pages of 100: one import each; AC processes at once, so every page but the last is
    # confirmed and linked by the next page's boundary, within the same pass.
    h = await harness(seed_contacts=500, page_size=100, ac_switches={"import_delay_seconds": 0})
    result = await h.run()
    assert result.outcome == "finished", result.message
    assert result.run is not None
    calls: dict[str, Any] = result.run.api_calls["activecampaign"]
    assert calls.get("bulk_import") == 5
    assert calls.get("import.info", 0) >= 4
    links = await h.links()
    assert len(links) == 500
    with_id = [link for link in links if link.ac_id is not None]
    assert len(with_id) >= 400, len(with_id)  # only the last page waits for the follow-up pass
    ac = h.ac_by_email()
    assert all(
        ac[link.email.lower()].id == int(link.ac_id) or str(ac[link.email.lower()].id) == link.ac_id for link in with_id
    )
    await h.until_idle()
    links = await h.links()
    assert all(link.ac_id is not None for link in links)
    assert len(h.ac_by_email()) == 500  # no duplicates


async def test_the_last_pages_ids_are_read_in_the_pass_that_imported_them(harness: HarnessFactory) -> None:
    # AC processes at once: after the last page the pass reads on (import confirmed, new ids read)
    # instead of leaving the last page's links to a follow-up pass.
    h = await harness(seed_contacts=300, page_size=100, ac_switches={"import_delay_seconds": 0})
    queue = _Queue()
    req = PassRequest(connection_id=h.cid, reason="initial", requested_at=h.clock.now())
    handled = await handle_request(h.engine(), queue, req, clock=h.clock)
    assert handled.result.outcome == "finished", handled.result.message
    assert handled.result.open_imports == 0
    assert handled.requeued is None
    links = await h.links()
    assert len(links) == 300 and all(link.ac_id is not None for link in links)
    ac = h.ac_by_email()
    assert len(ac) == 300
    assert {str(ac[link.email.lower()].id) for link in links} == {str(c.id) for c in ac.values()}


async def test_the_follow_up_pass_comes_when_the_imports_should_be_processed(harness: HarnessFactory) -> None:
    # The first two pages' imports are processed at once, the last page's an hour later: the pass
    # ends with it open and comes back by the processing time it saw, not after the fixed delay.
    saved: list[str] = []

    def slow_last_import(name: str, info: dict[str, Any]) -> None:
        saved.append(name)
        if name == "after_cursor_saved" and saved.count(name) == 2:
            h.ac.switches["import_delay_seconds"] = 3600

    async def checkpoint(name: str, info: dict[str, Any]) -> None:
        slow_last_import(name, info)

    h = await harness(seed_contacts=300, page_size=100, ac_switches={"import_delay_seconds": 0})
    queue = _Queue()
    req = PassRequest(connection_id=h.cid, reason="initial", requested_at=h.clock.now())
    handled = await handle_request(h.engine(checkpoint=checkpoint), queue, req, clock=h.clock)
    assert handled.result.open_imports
    assert handled.result.imports_due_in is not None  # learnt from the imports confirmed during the push
    assert handled.requeued is not None and handled.requeued.reason == "imports"
    assert handled.delay_seconds < IMPORTS_PENDING_DELAY
    links = await h.links()
    assert sum(1 for link in links if link.ac_id is not None) == 200  # the processed pages' ids, read


def test_imports_delay_follows_the_estimate_within_bounds() -> None:
    assert imports_delay(None) == IMPORTS_PENDING_DELAY
    assert imports_delay(0.0) == IMPORTS_MIN_DELAY
    assert imports_delay(17.2) == 18
    assert imports_delay(10_000.0) == IMPORTS_PENDING_DELAY


class Killed(Exception):
    pass


async def test_a_kill_inside_the_read_between_pages_resumes_without_duplicates(harness: HarnessFactory) -> None:
    seen: list[str] = []

    async def die_in_second_overlap(name: str, info: dict[str, Any]) -> None:
        seen.append(name)
        if name == "after_associations" and seen.count(name) == 2:
            raise Killed(name)  # ids read and links completed in memory, links not saved, AC cursor not moved

    h = await harness(seed_contacts=500, page_size=100, ac_switches={"import_delay_seconds": 0})
    with pytest.raises(Killed):
        await h.engine(checkpoint=die_in_second_overlap).run_pass(h.cid)
    assert seen.count("after_associations") == 2, seen  # the kill happened between pages of the push
    assert seen.count("after_cursor_saved") < 5
    h.clock.advance(3600)
    await h.until_idle()
    links = await h.links()
    assert len(links) == 500
    assert all(link.ac_id for link in links)
    ac = h.ac_by_email()  # asserts no duplicate AC contact
    assert len(ac) == 500
    assert {str(ac[link.email.lower()].id) for link in links} == {str(c.id) for c in ac.values()}


async def test_without_a_processing_time_seen_the_follow_up_comes_as_long_again_as_the_imports_are_open(
    harness: HarnessFactory,
) -> None:
    # One page: no read between pages, so the pass sees no import processed; it waited for nothing
    # either, so its imports have been open a moment: the follow-up comes at the minimum, not after 120 s.
    h = await harness(seed_contacts=300, page_size=5000)
    queue = _Queue()
    req = PassRequest(connection_id=h.cid, reason="initial", requested_at=h.clock.now())
    handled = await handle_request(h.engine(), queue, req, clock=h.clock)
    assert handled.result.open_imports
    assert handled.result.imports_due_in is not None and handled.result.imports_due_in < 60
    assert handled.requeued is not None and handled.requeued.reason == "imports"
    assert IMPORTS_MIN_DELAY <= handled.delay_seconds < IMPORTS_PENDING_DELAY
