"""New contacts read by id ranges, several pages in flight (``_paging.iter_new_in_flight``, issue 23).

A fake ``contacts`` list over a set of ids answers ``id_greater``/``id_less``/``orders[id]``/``limit`` and
``meta.total`` as AC documents them, a few event-loop turns a call (on the wire), and counts the calls in
flight at once."""

from __future__ import annotations

import asyncio
from contextlib import aclosing
from typing import Any

from sync_core.activecampaign._paging import MAX_LIMIT, iter_id_greater, iter_new_in_flight


class Contacts:
    def __init__(self, ids: list[int], *, total: bool = True, order: bool = True, less: bool = True) -> None:
        self.ids = sorted(ids)
        self.total = total
        self.order = order  # False: orders[id] ignored (always ascending)
        self.less = less  # False: id_less ignored
        self.calls: list[dict[str, Any]] = []
        self.now = 0
        self.peak = 0

    async def fetch(self, params: dict[str, Any]) -> dict[str, Any]:
        self.calls.append(params)
        self.now += 1
        self.peak = max(self.peak, self.now)
        try:
            for _ in range(3):
                await asyncio.sleep(0)
            less = int(params.get("id_less", 1 << 62)) if self.less else 1 << 62
            ids = [i for i in self.ids if int(params.get("id_greater", -1)) < i < less]
            if params.get("orders[id]") == "DESC" and self.order:
                ids.reverse()
            body: dict[str, Any] = {"contacts": [{"id": str(i)} for i in ids[:int(params["limit"])]]}
            if self.total:
                body["meta"] = {"total": str(len(ids))}
            return body
        finally:
            self.now -= 1


async def _read(ac: Contacts, after: int, in_flight: int = 4) -> list[int]:
    return [int(c["id"]) async for c in iter_new_in_flight(ac.fetch, "contacts", after=after, in_flight=in_flight)]


async def test_dense_ids_are_read_in_ranges_several_at_once_in_order() -> None:
    ac = Contacts(list(range(1, 1_251)))
    assert await _read(ac, after=250) == list(range(251, 1_251))
    assert len(ac.calls) == 10  # as many calls as paging: 1,000 contacts, 100 a call
    assert ac.peak == 4


async def test_a_few_new_contacts_take_one_call() -> None:
    ac = Contacts(list(range(1, 60)))
    assert await _read(ac, after=10) == list(range(11, 60))
    assert len(ac.calls) == 1


async def test_gaps_in_the_ids_are_paged_instead_of_read_in_empty_ranges() -> None:
    ids = list(range(1, 101)) + list(range(10_000, 10_400))  # 9,899 ids deleted between
    ac = Contacts(ids)
    assert await _read(ac, after=0) == ids
    serial = Contacts(ids)
    assert [int(c["id"]) async for c in iter_id_greater(serial.fetch, "contacts", start_after=0)] == ids
    assert len(ac.calls) <= len(serial.calls) + 1
    assert ac.peak == 1


async def test_without_a_total_the_rest_is_paged() -> None:
    ac = Contacts(list(range(1, 501)), total=False)
    assert await _read(ac, after=0) == list(range(1, 501))
    assert ac.peak == 1


async def test_a_reader_that_stops_leaves_nothing_in_flight() -> None:
    ac = Contacts(list(range(1, 2_001)))
    got: list[int] = []
    async with aclosing(iter_new_in_flight(ac.fetch, "contacts", after=0, in_flight=4)) as new:
        async for c in new:
            got.append(int(c["id"]))
            if len(got) == MAX_LIMIT:
                break
    assert got == list(range(1, 101))
    assert ac.now == 0
    assert len(ac.calls) <= 1 + 4 + 1  # the first call, the window, at most one started as a page was taken


async def test_a_server_that_ignores_the_order_or_id_less_still_gives_each_id_once_in_order() -> None:
    ids = list(range(1, 401)) + list(range(450, 700))  # a gap the ranges cover
    for ac in (Contacts(ids, order=False), Contacts(ids, less=False), Contacts(ids, order=False, less=False)):
        assert await _read(ac, after=0) == ids
    sparse = list(range(1, 101)) + list(range(10_000, 10_400))
    assert await _read(Contacts(sparse, less=False), after=0) == sparse
