"""A local stand-in for the Functions queue trigger: drains the pass queue and runs each request.

``make pages`` and the browser tests run it next to the API, so "Sync now", turning global sync
on and "Retry" lead to passes as they do in Azure (where the ``sync_worker`` function does this).
Settings come from the environment, as for ``python -m sync_core serve``.

    python -m devtools.queue_worker [--poll 1.0]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import signal

from azure.storage.queue import TextBase64DecodePolicy
from azure.storage.queue.aio import QueueClient

from sync_core.engine.scheduling import PassRequest, handle_request
from sync_core.runtime import build_runtime
from sync_core.settings import DEFAULT_QUEUE, Settings

log = logging.getLogger("devtools.queue_worker")
VISIBILITY_SECONDS = 300
"""How long a message being handled stays invisible (a pass is time-boxed well below this)."""


async def drain(poll_seconds: float, stop: asyncio.Event) -> None:
    settings = Settings.from_env()
    runtime = await build_runtime(settings).ready()
    queue = QueueClient.from_connection_string(settings.storage_connection_string or "", DEFAULT_QUEUE,
                                               message_decode_policy=TextBase64DecodePolicy())
    try:
        while not stop.is_set():
            handled = 0
            async for msg in queue.receive_messages(visibility_timeout=VISIBILITY_SECONDS, max_messages=1):
                handled += 1
                try:
                    request = PassRequest.from_message(msg.content)
                except ValueError:
                    log.error("dropping a malformed pass request (message id %s)", msg.id)
                else:
                    await handle_request(runtime.engine, runtime.queue, request, clock=runtime.clock)
                await queue.delete_message(msg)
            if not handled:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), poll_seconds)
    finally:
        await queue.close()
        await runtime.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m devtools.queue_worker")
    parser.add_argument("--poll", type=float, default=1.0, help="seconds between looks at an empty queue")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    logging.getLogger("azure").setLevel(logging.WARNING)  # the SDK's per-request lines drown the passes

    async def run() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await drain(args.poll, stop)

    asyncio.run(run())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
