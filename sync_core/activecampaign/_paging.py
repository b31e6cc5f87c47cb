"""List paging: ``limit``/``offset`` for most collections, ``orders[id]=ASC`` + ``id_greater`` for contacts.

Both pagers refuse to loop: a server that ignores the offset (serving the same page again) or
an ``id_greater`` token that does not advance raises :class:`PaginationLoopError` instead of
reading forever.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable
from typing import Any

from sync_core.activecampaign._errors import PaginationLoopError

MAX_LIMIT = 100
"""AC's documented maximum ``limit``."""

Fetch = Callable[[dict[str, Any]], Awaitable[dict[str, Any]]]
"""Fetch one page given the paging parameters to add to the query."""


def as_int(value: Any) -> int | None:
    """``meta.total`` and ids are often strings: "2" → 2; junk → None."""
    if value is None or isinstance(value, bool):
        return None
    try:
        return int(str(value).strip())
    except ValueError:
        return None


def _items(page: dict[str, Any], key: str) -> list[dict[str, Any]]:
    items = page.get(key)
    if not isinstance(items, list):
        return []
    return [i for i in items if isinstance(i, dict)]


def _meta(page: dict[str, Any]) -> dict[str, Any]:
    meta = page.get("meta")
    return meta if isinstance(meta, dict) else {}


async def iter_offset(fetch: Fetch, key: str, *, page_size: int = MAX_LIMIT,
                      start: int = 0) -> AsyncIterator[dict[str, Any]]:
    """Every item of ``key`` across pages (from the ``start``-th), offset by the items received."""
    limit = max(1, min(page_size, MAX_LIMIT))
    offset = max(0, start)
    seen_offsets: set[int] = set()
    previous_ids: tuple[Any, ...] | None = None
    while True:
        if offset in seen_offsets:
            raise PaginationLoopError(f"paging {key}: offset {offset} requested twice")
        seen_offsets.add(offset)
        page = await fetch({"limit": limit, "offset": offset})
        items = _items(page, key)
        if not items:
            return
        ids = tuple(i.get("id") for i in items)
        if previous_ids is not None and all(x is not None for x in ids) and ids == previous_ids:
            raise PaginationLoopError(f"paging {key}: offset {offset} served the previous page again")
        previous_ids = ids
        for item in items:
            yield item
        meta = _meta(page)
        total = as_int(meta.get("total"))
        effective_limit = as_int(meta.get("limit")) or limit
        offset += len(items)
        if total is not None:
            if offset >= total:
                return
        elif len(items) < effective_limit:
            return


async def iter_id_greater(fetch: Fetch, key: str, *, page_size: int = MAX_LIMIT,
                          start_after: int | None = None) -> AsyncIterator[dict[str, Any]]:
    """Every item of ``key`` ordered by id (above ``start_after``), each page asking for ids
    above the last one seen."""
    limit = max(1, min(page_size, MAX_LIMIT))
    last_id: int | None = start_after
    while True:
        params: dict[str, Any] = {"orders[id]": "ASC", "limit": limit}
        if last_id is not None:
            params["id_greater"] = last_id
        page = await fetch(params)
        items = _items(page, key)
        if not items:
            return
        ids = [as_int(i.get("id")) for i in items]
        if any(i is None for i in ids):
            raise PaginationLoopError(f"paging {key}: an item without a numeric id stops id_greater paging")
        top = max(i for i in ids if i is not None)
        if last_id is not None and top <= last_id:
            raise PaginationLoopError(f"paging {key}: id_greater={last_id} did not advance")
        for item, item_id in zip(items, ids, strict=True):
            if last_id is None or (item_id is not None and item_id > last_id):
                yield item
        last_id = top
        total = as_int(_meta(page).get("total"))
        if len(items) < limit or (total is not None and len(items) >= total):
            return


RANGE_CALLS_OVER_PAGING = 1.25
"""Ranges are read in parallel while they take at most this many times the calls paging would (ids with
gaps: contacts deleted). Past it the extra calls would cost AC's 5/s more than the latency they save
(one call after another at ~0.26 s is ~3.8 a second, ~1/1.3 of the budget), and the span is paged."""


async def iter_new_in_flight(fetch: Fetch, key: str, *, after: int,
                             in_flight: int) -> AsyncGenerator[dict[str, Any], None]:
    """Every item of ``key`` with an id above ``after``, ascending, several pages in flight at once.

    Paging by ``id_greater`` needs the last id of one page before the next can be asked, so its calls go
    one after another (at 250 ms of latency: 4 a second, under AC's 5/s). Here the first call asks the
    *highest* ids (``orders[id]=DESC``): its ``meta.total`` says how many items lie above ``after`` and
    its lowest id bounds the rest. The span below it is cut into ranges of ``MAX_LIMIT`` ids
    (``id_greater``/``id_less``), each one call (ids are unique integers, so a range cannot hold more than
    a page), read ``in_flight`` at once and yielded in order. Items created meanwhile have higher ids than
    the first call's: the next read finds them. Without ``meta.total``, or where the ranges would take more
    than ``RANGE_CALLS_OVER_PAGING`` times the calls of paging, the span is paged by ``id_greater`` as
    before. The same number of calls as paging when the ids are dense."""
    first = await fetch({"orders[id]": "DESC", "limit": MAX_LIMIT, "id_greater": after})
    answered = _items(first, key)
    ids = [as_int(i.get("id")) for i in answered]
    if any(i is None for i in ids):
        raise PaginationLoopError(f"paging {key}: an item without a numeric id stops id_greater paging")
    top_page = sorted((i for i in answered if _id(i) > after), key=_id)
    if ids != sorted(ids, key=lambda i: -(i or 0)):
        # The order was not honoured: this was the lowest page; page on from its top as before.
        for item in top_page:
            yield item
        if len(answered) >= MAX_LIMIT:
            async for item in iter_id_greater(fetch, key, start_after=max(i or 0 for i in ids)):
                yield item
        return
    total = as_int(_meta(first).get("total"))
    if len(top_page) < MAX_LIMIT or (total is not None and total <= len(top_page)):
        for item in top_page:
            yield item
        return
    low = _id(top_page[0])
    rest = None if total is None else total - len(top_page)
    if rest is not None and _ceil_pages(low - after - 1) <= RANGE_CALLS_OVER_PAGING * _ceil_pages(rest):
        ranges = [(a, min(a + MAX_LIMIT + 1, low)) for a in range(after, low - 1, MAX_LIMIT)]
        async for (a, b), page in _ordered([_range_fetch(fetch, a, b) for a, b in ranges], in_flight):
            # Only the range's own ids, in order: a server ignoring ``id_less`` cannot repeat or reorder.
            for item in sorted((i for i in _items(page, key) if a < _id(i) < b), key=_id):
                yield item
    else:
        async def below(paging: dict[str, Any]) -> dict[str, Any]:
            return await fetch({**paging, "id_less": low})

        async for item in iter_id_greater(below, key, start_after=after):
            if _id(item) < low:
                yield item
    for item in top_page:
        yield item


def _id(item: dict[str, Any]) -> int:
    return as_int(item.get("id")) or 0


def _ceil_pages(n: int) -> int:
    return -(-max(0, n) // MAX_LIMIT)


Range = tuple[int, int]


def _range_fetch(fetch: Fetch, greater: int, less: int) -> Callable[[], Awaitable[tuple[Range, dict[str, Any]]]]:
    async def call() -> tuple[Range, dict[str, Any]]:
        return (greater, less), await fetch({"orders[id]": "ASC", "limit": MAX_LIMIT, "id_greater": greater,
                                             "id_less": less})

    return call


async def _ordered(calls: list[Callable[[], Awaitable[tuple[Range, dict[str, Any]]]]], width: int
                   ) -> AsyncIterator[tuple[Range, dict[str, Any]]]:
    """The calls' answers in their order, up to ``width`` calls in flight; what is still in flight when the
    consumer stops (or a call fails) is cancelled."""
    window: deque[asyncio.Future[tuple[Range, dict[str, Any]]]] = deque()
    todo = iter(calls)
    try:
        for call in todo:
            window.append(asyncio.ensure_future(call()))
            if len(window) >= max(1, width):
                break
        while window:
            page = await window.popleft()
            nxt = next(todo, None)
            if nxt is not None:
                window.append(asyncio.ensure_future(nxt()))
            yield page
    finally:
        for f in window:
            f.cancel()
        await asyncio.gather(*window, return_exceptions=True)
