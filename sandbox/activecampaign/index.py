"""Secondary indexes over the state's record dicts, so per-row and per-request lookups are not scans.

The dicts stay the source of truth (tests and routes may add or delete records directly). An index
remembers the shape of its dict (size and newest key) when it was last in step; writes through
``ACState`` call ``note`` to keep it in step cheaply, any other change of shape makes the next lookup
rebuild it, and every hit is re-checked against the record, so an index can be slow but never wrong
about what it returns.
"""

from __future__ import annotations

import bisect
import math
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


class TimeIndex:
    """Record ids by a timestamp (contacts by ``udate``): ids whose time is at or after a threshold without a scan.

    Times are bucketed by whole second; the sorted list holds each second once (new seconds are nearly always the
    newest, so inserting them is cheap). ``move`` is called by the record whenever its time is set.
    """

    def __init__(self) -> None:
        self._buckets: dict[int, set[int]] = {}
        self._seconds: list[int] = []
        self._second_of: dict[int, int] = {}

    def move(self, record_id: int, when: float) -> None:
        second = math.floor(when)
        old = self._second_of.get(record_id)
        if old == second:
            return
        if old is not None:
            self._buckets[old].discard(record_id)
        bucket = self._buckets.get(second)
        if bucket is None:
            bucket = self._buckets[second] = set()
            bisect.insort(self._seconds, second)
        bucket.add(record_id)
        self._second_of[record_id] = second

    def forget(self, record_id: int) -> None:
        old = self._second_of.pop(record_id, None)
        if old is not None:
            self._buckets[old].discard(record_id)

    def at_or_after(self, when: float) -> list[int]:
        """Candidate ids (those in the second of ``when`` included); callers compare the exact time."""
        start = bisect.bisect_left(self._seconds, math.floor(when))
        return [i for second in self._seconds[start:] for i in self._buckets[second]]

    def before(self, when: float) -> list[int]:
        end = bisect.bisect_right(self._seconds, math.floor(when))
        return [i for second in self._seconds[:end] for i in self._buckets[second]]

    def count_at_or_after(self, when: float) -> int:
        start = bisect.bisect_left(self._seconds, math.floor(when))
        return sum(len(self._buckets[s]) for s in self._seconds[start:])
