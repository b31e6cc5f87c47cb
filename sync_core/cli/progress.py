"""The live progress of ``sync`` on a terminal (rich): records read per entity, percent and ETA of a full
read, records written by finished passes, and what the pass is waiting for (a Retry-After, the budget).

Off when stderr is not a terminal: then only the final summary is printed.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime
from types import TracebackType
from typing import TypeVar

from rich.console import Console, Group
from rich.live import Live
from rich.table import Table
from rich.text import Text

from sync_core.api.progress import entity_progress
from sync_core.model.state import Cursor, EntityName, Side
from sync_core.runtime import Runtime

T = TypeVar("T")
POLL_SECONDS = 0.5
ENTITIES: tuple[EntityName, ...] = ("account", "contact", "lead", "opportunity")
SIDES: tuple[Side, ...] = ("dynamics", "activecampaign")
WRITTEN = ("created", "updated", "pulled", "imported", "would_")


def written(counts: dict[str, int]) -> int:
    """Records written (or, in a dry run, that would be) of one entity's counts."""
    return sum(v for k, v in counts.items() if k.startswith(WRITTEN))


def duration(seconds: float | None) -> str:
    if seconds is None:
        return ""
    minutes, secs = divmod(int(seconds), 60)
    return f"{minutes}m{secs:02d}s" if minutes else f"{secs}s"


def calls_line(calls: dict[str, int], passes: int) -> str:
    return (f"pass {passes + 1}; calls spent by the {passes} finished: ActiveCampaign "
            f"{calls.get('activecampaign', 0)}, Dynamics {calls.get('dynamics', 0)}")


def reading(cursor: Cursor) -> str:
    """What the read is doing, in words: a delta read is not the initial one."""
    return {"initial": "initial read", "backfill": "full read again", "delta": "changes"}[cursor.phase]


def progress_table(cursors: list[Cursor], counts: dict[str, dict[str, int]], now: datetime) -> Table:
    table = Table(box=None, pad_edge=False)
    for column in ("entity", "side", "reading", "read", "%", "ETA", "written"):
        table.add_column(column, justify="right" if column in ("read", "%", "written") else "left")
    for c in cursors:
        p = entity_progress(c, now)
        full = c.phase != "delta"
        pct = f"{p.percent:.1f}" if full and p.percent is not None else ""
        read = f"{c.done}/{c.total}" if c.total and full else str(c.done)
        table.add_row(c.entity, c.side, reading(c), read, pct, duration(p.eta_seconds) if full else "",
                      str(written(counts.get(c.entity, {}))))
    return table


class _RetryNotes(logging.Handler):
    """Feeds the pipeline's "retrying in" lines (Retry-After, backoff) to the display."""

    def __init__(self, progress: Progress) -> None:
        super().__init__(logging.INFO)
        self._progress = progress

    def emit(self, record: logging.LogRecord) -> None:
        text = record.getMessage()
        if "retrying in" in text or "waiting" in text:
            self._progress.note(text)


class Progress:
    """``with Progress(enabled=…) as p: await p.follow(task, …)``; nothing is drawn when disabled."""

    def __init__(self, *, enabled: bool) -> None:
        self.enabled = enabled
        self._console = Console(stderr=True)
        self._live: Live | None = None
        self._note = ""
        self._handler = _RetryNotes(self)
        self._level = logging.NOTSET

    def __enter__(self) -> Progress:
        if self.enabled:
            self._live = Live(Text("starting…"), console=self._console, refresh_per_second=4, transient=False)
            self._live.__enter__()
            log = logging.getLogger("sync_core")
            self._level = log.level
            log.setLevel(logging.INFO)
            log.addHandler(self._handler)
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        if self._live is not None:
            log = logging.getLogger("sync_core")
            log.removeHandler(self._handler)
            log.setLevel(self._level)
            self._live.__exit__(kind, exc, tb)
            self._live = None

    def note(self, text: str) -> None:
        """A line about what the work waits for: on the display, or on stderr without one."""
        self._note = text
        if self._live is None:
            print(text, file=self._console.file, flush=True)

    async def follow(self, task: asyncio.Task[T], runtime: Runtime, cid: str,
                     counts: dict[str, dict[str, int]], calls: dict[str, int] | None = None, passes: int = 0) -> T:
        """The task's result; meanwhile the display is redrawn from the stored cursors."""
        while self._live is not None and not task.done():
            await asyncio.wait({task}, timeout=POLL_SECONDS)
            cursors = [c for e in ENTITIES for s in SIDES
                       if (c := await runtime.store.get_cursor(cid, e, s)) is not None]
            parts: list[Table | Text] = [progress_table(cursors, counts, datetime.now(UTC))]
            if passes:
                parts.append(Text(calls_line(calls or {}, passes)))
            if self._note:
                parts.append(Text(self._note, style="yellow"))
            self._live.update(Group(*parts))
        self._note = ""
        return await task
