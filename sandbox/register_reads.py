"""Which register switches the stand-ins have read, for ``python -m devtools.readings``.

A reading (one switch flipped) can only change a test whose stand-ins read that switch: until the first
read, every request is answered as under the default. So the sweep traces the default run (which tests read
which switches) and, per reading, runs only the tests that read it. Both stand-ins' switch containers note
each read here; nothing else uses it.
"""

from __future__ import annotations

_READ: set[tuple[str, str]] = set()


def note(sandbox: str, name: str) -> None:
    _READ.add((sandbox, name))


def take() -> set[tuple[str, str]]:
    """The switches read since the last ``take`` (and forget them)."""
    read = set(_READ)
    _READ.clear()
    return read
