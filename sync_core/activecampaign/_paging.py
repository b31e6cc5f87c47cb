"""List paging: ``limit``/``offset`` for most collections, ``orders[id]=ASC`` + ``id_greater`` for contacts.

Both pagers refuse to loop: a server that ignores the offset (serving the same page again) or
an ``id_greater`` token that does not advance raises :class:`PaginationLoopError` instead of
reading forever.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
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
