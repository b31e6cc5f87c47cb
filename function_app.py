"""Azure Functions entry point (Python v2 model): wiring only, no logic (DESIGN.md §2).

- one HTTP function: the FastAPI app (it does its own auth, DESIGN.md §6);
- seven timers, one per sync frequency, that enqueue the connections due;
- one queue worker that runs a time-boxed pass per message.
"""

from __future__ import annotations

import logging

import azure.functions as func

from sync_core import telemetry
from sync_core.api import create_app
from sync_core.engine.scheduling import TIMER_SCHEDULES, PassRequest, enqueue_due, handle_request
from sync_core.model.config import Frequency
from sync_core.model.state import AuditEntry
from sync_core.runtime import get_runtime
from sync_core.settings import DEFAULT_QUEUE

log = logging.getLogger("function_app")

telemetry.configure_telemetry()

app = func.AsgiFunctionApp(app=create_app(), http_auth_level=func.AuthLevel.ANONYMOUS)


def _register_timer(frequency: Frequency, schedule: str) -> None:
    async def timer(timer: func.TimerRequest) -> None:
        runtime = await get_runtime()
        await enqueue_due(runtime.store, runtime.queue, frequency, clock=runtime.clock)

    name = "timer_daily" if frequency == "daily" else f"timer_every_{frequency}"
    timer.__name__ = name
    app.function_name(name)(app.timer_trigger(arg_name="timer", schedule=schedule, run_on_startup=False,
                                              use_monitor=True)(timer))


for _frequency, _schedule in TIMER_SCHEDULES.items():
    _register_timer(_frequency, _schedule)


@app.function_name("sync_worker")
@app.queue_trigger(arg_name="msg", queue_name=DEFAULT_QUEUE, connection="AzureWebJobsStorage")
async def sync_worker(msg: func.QueueMessage) -> None:
    try:
        request = PassRequest.from_message(msg.get_body())
    except ValueError:
        # A malformed message can never succeed: drop it loudly instead of poisoning after 5 tries.
        log.error("dropping a malformed pass request (message id %s)", msg.id)
        return
    runtime = await get_runtime()
    await handle_request(runtime.engine, runtime.queue, request, clock=runtime.clock)


@app.function_name("sync_worker_poison")
@app.queue_trigger(arg_name="msg", queue_name=f"{DEFAULT_QUEUE}-poison", connection="AzureWebJobsStorage")
async def sync_worker_poison(msg: func.QueueMessage) -> None:
    """A pass request failed five times: say so where operators look (the alert and the audit)."""
    try:
        cid = PassRequest.from_message(msg.get_body()).connection_id
    except ValueError:
        cid = "unknown"
    log.error("pass request for %s reached the poison queue (message id %s)", cid, msg.id)
    telemetry.message_poisoned(cid, f"{DEFAULT_QUEUE}-poison")
    if cid != "unknown":
        runtime = await get_runtime()
        await runtime.store.append_audit(cid, AuditEntry(at=runtime.clock.now(), actor="sync_worker",
                                                         action="pass_poisoned", target=str(msg.id)))
