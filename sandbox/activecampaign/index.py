"""Secondary indexes over the state's record dicts, so per-row and per-request lookups are not scans.

The dicts stay the source of truth (tests and routes may add or delete records directly). Record ids are handed
out in increasing order (``ACState.next_id``), so an insert the index was not told about shows as a newest key
above the newest one it knows: the next lookup then rebuilds. Writes through ``ACState`` call ``note`` (an insert,
or a record whose key changed) to stay in step in O(1); deletions need nothing, because every hit is re-checked
against the store, so an index can be slow but never wrong about what it returns. (A key changed in place
without ``note`` is not found under its new key until the next rebuild.)
"""

from __future__ import annotations

import bisect
import itertools
import math
from collections.abc import Callable, Hashable
from itertools import pairwise
from typing import Any, Generic, TypeVar

R = TypeVar("R")


class StoreIndex(Generic[R]):
    def __init__(self, store: dict[int, R], key: Callable[[R], Hashable]) -> None:
        self.store = store
        self.key = key
        self._map: dict[Hashable, dict[int, None]] = {}  # key -> ids (an ordered set)
        self._newest: int | None = None  # the newest id the index knows
        self._built = False
        self._count = 0  # records the index holds; with no rekey and no deletion every bucket entry is valid
        self._clean = False

    def _in_step(self) -> bool:
        newest = next(reversed(self.store), None)
        return self._built and (newest is None or (self._newest is not None and newest <= self._newest))

    def _rebuild(self) -> None:
        self._map = {}
        for record_id, record in self.store.items():
            self._map.setdefault(self.key(record), {})[record_id] = None
        self._newest = max(self.store, default=None)
        self._built = True
        self._count, self._clean = len(self.store), True

    def note(self, record_id: int) -> None:
        """Record ``record_id`` was just inserted, or its key changed, through ``ACState``."""
        if not self._built or record_id not in self.store:
            return  # built on first use
        order = reversed(self.store)
        newest, before = next(order), next(order, None)
        inserted_unnoticed = (newest != record_id and not self._in_step()) or (
            newest == record_id and before is not None and (self._newest is None or before > self._newest))
        if inserted_unnoticed:
            self._built = False  # something else was inserted: rebuild on the next lookup
            return
        self._map.setdefault(self.key(self.store[record_id]), {})[record_id] = None
        if self._newest is None or record_id > self._newest:
            self._newest = record_id
            self._count += 1
        else:
            self._clean = False  # a key changed: its old bucket holds a stale entry

    def ids(self, key: Hashable) -> list[int]:
        """Ids of the records whose key is ``key``, in insertion order."""
        if not self._in_step():
            self._rebuild()
        bucket = self._map.get(key)
        if not bucket:
            return []
        store, key_of = self.store, self.key
        return [i for i in bucket if i in store and key_of(store[i]) == key]

    def page(self, key: Hashable, offset: int, limit: int) -> tuple[int, list[R]]:
        """(how many records have ``key``, those at ``offset:offset+limit`` in insertion order); without a scan
        of the bucket while no record was deleted and no key changed since the last rebuild."""
        if not self._in_step():
            self._rebuild()
        if self._clean and len(self.store) == self._count:
            bucket = self._map.get(key) or {}
            return len(bucket), [self.store[i] for i in itertools.islice(bucket, offset, offset + limit)]
        found = self.records(key)
        return len(found), found[offset:offset + limit]

    def records(self, key: Hashable) -> list[R]:
        store, key_of = self.store, self.key
        if not self._in_step():
            self._rebuild()
        bucket = self._map.get(key)
        if not bucket:
            return []
        return [r for i in bucket if (r := store.get(i)) is not None and key_of(r) == key]


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

    Times are bucketed by whole second. Seconds later than every known one (the common case: a write "now") are
    appended to the sorted list; earlier ones (seeding, imports applied as of their due time) wait in ``_late``
    and are merged by one sort at the next query. ``move`` is called by the record whenever its time is set.
    """

    def __init__(self) -> None:
        self._buckets: dict[int, set[int]] = {}
        self._seconds: list[int] = []
        self._late: set[int] = set()
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
            if not self._seconds or second > self._seconds[-1]:
                self._seconds.append(second)
            else:
                self._late.add(second)
        bucket.add(record_id)
        self._second_of[record_id] = second

    def forget(self, record_id: int) -> None:
        old = self._second_of.pop(record_id, None)
        if old is not None:
            self._buckets[old].discard(record_id)

    def _sorted(self) -> list[int]:
        if self._late:
            self._seconds = sorted(set(self._seconds) | self._late)
            self._late = set()
        return self._seconds

    def at_or_after(self, when: float) -> list[int]:
        """Candidate ids (those in the second of ``when`` included); callers compare the exact time."""
        seconds = self._sorted()
        start = bisect.bisect_left(seconds, math.floor(when))
        return [i for second in seconds[start:] for i in self._buckets[second]]
