"""One pass's hold on its connection: the lease renewed as the pass works, and its fence.

No background task renews the lease (a fake clock would race it, and a stalled event loop should
lose the lease, not keep it): every outbound call asks :meth:`LeaseKeeper.before_call`, which renews
once less than ``renew_below`` is left and refuses the call with less than ``min_for_calls`` left,
and :meth:`LeaseKeeper.on_the_wire` refuses it again, without I/O, as its bytes are about to leave;
waits for ``Retry-After`` go through :meth:`LeaseKeeper.wait`, which renews between slices. A pass
stalled past the expiry (a killed or frozen process) is taken over; when it wakes, its next call is
refused and its next link/cursor write fails on the fence, so nothing of it lands.
"""

from __future__ import annotations

import asyncio
import logging

from azure.core.exceptions import AzureError

from sync_core.clock import Clock
from sync_core.model.state import Lease
from sync_core.store import LeaseHeldError, LeaseLostError, SyncStore

log = logging.getLogger("sync_core.engine")

LEASE_TTL_SECONDS = 60.0
"""Short, thanks to the renewal: a killed worker's connection is free again within a minute."""


class LeaseKeeper:
    """Implements :class:`sync_core.model.guard.CallGuard` for one pass."""

    def __init__(self, store: SyncStore, lease: Lease, *, clock: Clock, ttl: float = LEASE_TTL_SECONDS) -> None:
        self._store = store
        self.lease = lease
        self._clock = clock
        self.ttl = ttl
        self.min_for_calls = ttl / 2
        """AC calls start only with this much lease left (30 s of the default minute)."""
        self.renew_below = ttl * 0.75
        self.min_on_the_wire = ttl / 4
        """Lease a call's first byte still needs; its slack since :meth:`before_call` is a quarter TTL."""
        self.lost = False
        self.renewals = 0
        self._renewing = asyncio.Lock()
        """Calls in flight together renew once: a second renewal on the etag the first replaced would read
        as a take-over."""

    def remaining(self) -> float:
        return (self.lease.expires_at - self._clock.now()).total_seconds()

    async def renew(self) -> None:
        try:
            self.lease = await self._store.renew_lease(self.lease, ttl=self.ttl)
        except LeaseHeldError:
            self.lost = True
            raise LeaseLostError(f"the lease of {self.lease.connection_id} was taken over") from None
        except AzureError as e:
            # Storage hiccup: the lease still holds until it expires; the next call tries again.
            log.warning("renewing the lease of %s failed: %s", self.lease.connection_id, type(e).__name__)
            return
        self.renewals += 1

    async def before_call(self) -> None:
        if self.lost:
            raise LeaseLostError(f"the lease of {self.lease.connection_id} was lost: no more calls")
        await self._renew_if_due()
        if self.remaining() < self.min_for_calls:
            self.lost = True
            raise LeaseLostError(f"the lease of {self.lease.connection_id} has less than "
                                 f"{self.min_for_calls:.0f} s left: no call starts")

    def on_the_wire(self) -> None:
        if self.lost or self.remaining() < self.min_on_the_wire:
            self.lost = True
            raise LeaseLostError(f"the lease of {self.lease.connection_id} lapsed before the call went out")

    async def wait(self, seconds: float) -> None:
        left = max(0.0, seconds)
        step = max(0.1, self.ttl - self.renew_below)
        while left > 0:
            chunk = min(left, step)
            await self._clock.sleep(chunk)
            left -= chunk
            await self._renew_if_due()

    async def _renew_if_due(self) -> None:
        if self.remaining() < self.renew_below:
            async with self._renewing:
                if self.remaining() < self.renew_below and not self.lost:
                    await self.renew()
