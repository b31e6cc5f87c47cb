"""Loopback ports for the servers the harness starts (Azurite, the sandboxes, the local API)."""

from __future__ import annotations

import random
import socket

# Below Linux's ephemeral range (32768-60999 by default): a port picked there can be taken by any
# outgoing connection on the machine between the pick and the server's bind; one picked here only by
# another server (the start is then retried, see running_azurite).
_LISTEN_PORTS = range(20_000, 32_000)


def free_port() -> int:
    """A loopback port free now, outside the ephemeral range (so no client connection takes it)."""
    rng = random.SystemRandom()
    for _ in range(200):
        port = rng.choice(_LISTEN_PORTS)
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError("no free loopback port found in 20000-31999")
