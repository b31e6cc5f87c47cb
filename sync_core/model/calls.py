"""Counting API calls by kind, for run rows and benchmarks."""

from __future__ import annotations

from collections import Counter


class CallCounter:
    """Calls made by one client, by kind (e.g. ``contacts.list``, ``bulk_import``, ``$batch``)."""

    def __init__(self) -> None:
        self._counts: Counter[str] = Counter()

    def add(self, kind: str, n: int = 1) -> None:
        self._counts[kind] += n

    @property
    def total(self) -> int:
        return sum(self._counts.values())

    def snapshot(self) -> dict[str, int]:
        return dict(self._counts)

    def since(self, earlier: dict[str, int]) -> dict[str, int]:
        """Calls made after ``earlier`` was taken with :meth:`snapshot`."""
        return {k: v - earlier.get(k, 0) for k, v in self._counts.items() if v - earlier.get(k, 0)}
