"""A request budget shared across processes: the sliding window lives in one table row.

Same semantics as :class:`sync_core.model.budget.SlidingWindowBudget` (never more than ``limit``
grants in any ``window`` seconds, a 429's hold-off pauses every holder), but the last ``limit``
grant times and ``paused_until`` are kept in a row of the budgets table, and every grant is an
If-Match write of that row. Two holders that read the same state cannot both write it: the loser
re-reads and decides again, so the window holds across processes. Times are the clock's wall
time (``Clock.time``), the only time processes share.

A holder with a ``reserve`` (a pass) stops at ``limit - reserve`` grants in the window while a person is at
work (a grant to a holder without one, people's sales actions, in the last :data:`PEOPLE_SESSION_WINDOWS`
windows), leaving people that share at once; with no one at work it spends the whole limit; and while people were
granted a request in the last two windows, it takes a request only when the window holds none, so a person's
few calls in a row are not spread over seconds behind a bulk pass (the pass goes on between a person's clicks).

Each instance keeps the row it last wrote, so a lone holder spends one round trip per grant; a
stale copy only costs a failed write and a re-read.
"""

from __future__ import annotations

import asyncio
import json
import logging
from dataclasses import dataclass

from azure.core import MatchConditions
from azure.core.exceptions import ResourceExistsError, ResourceModifiedError, ResourceNotFoundError
from azure.data.tables import UpdateMode
from azure.data.tables.aio import TableClient

from sync_core.clock import Clock
from sync_core.store._keys import enc

WINDOW_ROW = "window"
PEOPLE_SESSION_WINDOWS = 60
"""A holder with a reserve leaves it free only this many windows after a person's latest grant: with no one
at work a pass spends the whole budget (the bulk path's throughput), and a session's first click waits at most
one window."""

log = logging.getLogger("sync_core.store.budget")
NOTICEABLE_WAIT = 1.0
"""Seconds of waiting for a grant worth a log line."""


@dataclass(frozen=True, slots=True)
class _Window:
    grants: tuple[float, ...]
    paused_until: float
    etag: str | None  # None: the row does not exist yet
    people_at: float = 0.0  # the latest grant to a holder without a reserve


class SharedRequestBudget:
    """Implements :class:`sync_core.model.budget.RequestBudget` for every holder of ``key``."""

    def __init__(self, table: TableClient, key: str, *, limit: int, window: float, clock: Clock,
                 reserve: int = 0) -> None:
        if limit < 1 or window <= 0 or not 0 <= reserve < limit:
            raise ValueError("a budget needs limit >= 1, window > 0 and 0 <= reserve < limit")
        self.key = key
        self.limit = limit
        self.reserve = reserve
        self.window = window
        self._t = table
        self._pk = enc(key)
        self._clock = clock
        self._lock = asyncio.Lock()
        self._known: _Window | None = None
        self.last_grant: float | None = None
        """Clock time of this instance's latest grant (what the window counted)."""

    async def _load(self) -> _Window:
        try:
            e = await self._t.get_entity(self._pk, WINDOW_ROW)
        except ResourceNotFoundError:
            return _Window((), 0.0, None)
        return _Window(tuple(json.loads(e["grants"])), float(e["paused_until"]), str(e.metadata["etag"]),
                       float(e.get("people_at", 0.0)))

    async def _write(self, base: _Window, grants: tuple[float, ...], paused_until: float,
                     people_at: float | None = None) -> _Window | None:
        """Replace the row if it is still ``base``; ``None`` when another holder wrote first."""
        people = base.people_at if people_at is None else people_at
        entity = {
            "PartitionKey": self._pk,
            "RowKey": WINDOW_ROW,
            "grants": json.dumps(list(grants)),
            "paused_until": float(paused_until),
            "people_at": float(people),
        }
        try:
            if base.etag is None:
                meta = await self._t.create_entity(entity)
            else:
                meta = await self._t.update_entity(
                    entity, mode=UpdateMode.REPLACE, etag=base.etag, match_condition=MatchConditions.IfNotModified
                )
        except (ResourceExistsError, ResourceModifiedError, ResourceNotFoundError):
            return None
        return _Window(grants, paused_until, str(meta["etag"]), people)

    def _next_free(self, state: _Window, now: float) -> float:
        t = max(now, state.paused_until)
        recent = [g for g in state.grants if g > now - self.window]
        cap = self.limit
        if self.reserve and state.people_at > now - PEOPLE_SESSION_WINDOWS * self.window:
            cap = self.limit - self.reserve  # a person is at work: their share stays free
            if state.people_at > now - 2 * self.window:
                cap = 1  # people were served in the last two windows: a pass waits for an empty window
        if len(recent) >= cap:
            t = max(t, recent[-cap] + self.window)
        return t

    async def acquire(self) -> None:
        async with self._lock:
            while True:
                state = self._known or await self._load()
                now = self._clock.time()
                t = self._next_free(state, now)
                if t > now:
                    self._known = None  # others may write while we wait
                    if t - now >= NOTICEABLE_WAIT:  # a hold-off (429/503), not the pacing: say so (progress shows it)
                        log.info("waiting %.1fs for the %s request budget (the service asked to slow down)",
                                 t - now, self.key)
                    await self._clock.sleep(t - now)
                    continue
                grants = tuple(sorted((*(g for g in state.grants if g > now - self.window), now)))[-self.limit:]
                written = await self._write(state, grants, state.paused_until,
                                            None if self.reserve else now)
                self._known = written
                if written is not None:
                    self.last_grant = now
                    return

    async def hold_off(self, seconds: float) -> None:
        async with self._lock:
            while True:
                state = self._known or await self._load()
                until = max(state.paused_until, self._clock.time() + max(0.0, seconds))
                written = await self._write(state, state.grants, until)
                self._known = written
                if written is not None:
                    return
