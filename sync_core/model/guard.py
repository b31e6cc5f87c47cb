"""What a client asks before each call of a pass: may it still call, and how to wait meanwhile.

ActiveCampaign has no conditional writes, so the one-writer rule cannot be enforced on AC's side:
a pass only sends a call while it holds the connection's lease with time to spare, and keeps the
lease while it waits out a ``Retry-After``. The engine implements this; the clients only call it.
"""

from __future__ import annotations

from typing import Protocol


class CallGuard(Protocol):
    async def before_call(self) -> None:
        """Raise (the pass lost its lease) or return when the call may be sent."""
        ...

    def on_the_wire(self) -> None:
        """Raise when the call may no longer go out; asked, with no I/O, as its bytes are written.

        Between :meth:`before_call` and the write a call can wait (for a pooled connection, a
        connect, a busy event loop) or the process can be frozen; this is the check that holds.
        """
        ...

    async def wait(self, seconds: float) -> None:
        """Wait ``seconds`` without letting the lease lapse."""
        ...
