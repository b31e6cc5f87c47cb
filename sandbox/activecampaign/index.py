"""Secondary indexes over the state's record dicts, so per-row and per-request lookups are not scans.

The dicts stay the source of truth (tests and routes may add or delete records directly). An index
remembers the shape of its dict (size and newest key) when it was last in step; writes through
``ACState`` call ``note`` to keep it in step cheaply, any other change of shape makes the next lookup
rebuild it, and every hit is re-checked against the record, so an index can be slow but never wrong
about what it returns.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from itertools import pairwise
from typing import Any, Generic, TypeVar

R = TypeVar("R")


class StoreIndex(Generic[R]):
    def __init__(self, store: dict[int, R], key: Callable[[R], Hashable]) -> None:
        self.store = store
        self.key = key
        self._map: dict[Hashable, list[int]] = {}
        self._shape: tuple[int, int | None] | None = None

    def _current_shape(self) -> tuple[int, int | None]:
        return len(self.store), next(reversed(self.store), None)

    def _rebuild(self) -> None:
        self._map = {}
        for record_id, record in self.store.items():
            self._map.setdefault(self.key(record), []).append(record_id)
        self._shape = self._current_shape()

    def note(self, record_id: int) -> None:
        """Record ``record_id`` was just inserted, or its key changed, through ``ACState``."""
        if self._shape is None:
            return  # built on first use
        size, newest = self._current_shape()
        inserted = size == self._shape[0] + 1 and newest == record_id
        rekeyed = (size, newest) == self._shape and record_id in self.store
        if not (inserted or rekeyed):
            self._shape = None  # something else changed the dict: rebuild on the next lookup
            return
        bucket = self._map.setdefault(self.key(self.store[record_id]), [])
        if record_id not in bucket:
            bucket.append(record_id)
        self._shape = self._current_shape()

    def ids(self, key: Hashable) -> list[int]:
        """Ids of the records whose key is ``key``, in insertion order."""
        if self._shape != self._current_shape():
            self._rebuild()
        bucket = self._map.get(key)
        if not bucket:
            return []
        store, key_of = self.store, self.key
        return [i for i in bucket if i in store and key_of(store[i]) == key]

    def records(self, key: Hashable) -> list[R]:
        return [self.store[i] for i in self.ids(key)]


class SortedIds:
    """The dict's keys in ascending order, recomputed only when its shape changed."""

    def __init__(self, store: dict[int, Any]) -> None:
        self.store = store
        self._ids: list[int] = []
        self._shape: tuple[int, int | None] | None = None

    def get(self) -> list[int]:
        shape = (len(self.store), next(reversed(self.store), None))
        if shape != self._shape:
            ids = list(self.store)
            if any(a > b for a, b in pairwise(ids)):
                ids.sort()
            self._ids, self._shape = ids, shape
        return self._ids
