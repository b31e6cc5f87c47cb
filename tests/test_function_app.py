"""function_app wiring, called directly (Azure Functions Core Tools cannot run here)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import azure.functions as func
import httpx
import pytest
from azure.storage.queue import TextBase64DecodePolicy
from azure.storage.queue.aio import QueueClient

import function_app
from devtools.demo import running_sandboxes
from sync_core.engine.scheduling import TIMER_SCHEDULES
from sync_core.model.config import ConnectionConfig
from sync_core.model.secrets import secret_names
from sync_core.runtime import get_runtime, reset_runtime
from sync_core.settings import DEFAULT_QUEUE

# get_functions() indexes the app and refuses a second call (it sees its own names as
# duplicates), as the host calls it once: index once per test session.
_INDEXED: dict[str, Any] = {}


def _functions() -> dict[str, Any]:
    if not _INDEXED:
        _INDEXED.update({str(f.get_function_name()): f for f in function_app.app.get_functions()})
    return _INDEXED


def test_http_function_is_anonymous_catch_all() -> None:
    fn = _functions()["http_app_func"]
    trigger = next(b.get_dict_repr() for b in fn.get_bindings() if b.get_dict_repr()["type"] == "httpTrigger")
    assert str(trigger["authLevel"]).endswith("ANONYMOUS") or trigger["authLevel"] == "anonymous"
    assert trigger["route"] == "/{*route}"


async def test_health_through_the_http_function(storage_connection_string: str, tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    handler = _functions()["http_app_func"].get_user_function()
    req = func.HttpRequest(method="GET", url="http://localhost/api/health", body=b"", headers={})
    ctx = SimpleNamespace(invocation_id="test", trace_context=None, function_name="http_app_func")
    for name in ("SYNC_STORAGE_CONNECTION_STRING", "SYNC_STORAGE_ACCOUNT_URL", "SYNC_LOCAL_AUTH",
                 "SYNC_AUTH_TENANT_ID"):
        monkeypatch.delenv(name, raising=False)
    await reset_runtime()
    resp: func.HttpResponse = await handler(req, ctx)
    assert resp.status_code == 503 and json.loads(resp.get_body())["status"] == "not_ready"
    monkeypatch.setenv("SYNC_STORAGE_CONNECTION_STRING", storage_connection_string)
    monkeypatch.setenv("SYNC_LOCAL_SECRETS_PATH", str(tmp_path / "secrets.json"))
    monkeypatch.setenv("SYNC_LOCAL_AUTH", "1")
    monkeypatch.chdir(tmp_path)  # the local signing key goes to .local/ here
    await reset_runtime()
    resp = await handler(req, ctx)
    assert resp.status_code == 200, resp.get_body()
    assert json.loads(resp.get_body())["status"] == "ok"
    await reset_runtime()


async def test_unknown_route_is_404_not_500() -> None:
    handler = _functions()["http_app_func"].get_user_function()
    req = func.HttpRequest(method="GET", url="http://localhost/api/nope", body=b"", headers={})
    ctx = SimpleNamespace(invocation_id="test", trace_context=None, function_name="http_app_func")
    resp: func.HttpResponse = await handler(req, ctx)
    assert resp.status_code == 404


# --- timers and the queue worker, called directly against Azurite and the sandboxes on loopback ---





def test_seven_timers_and_one_worker_are_bound() -> None:
    fns = _functions()
    timers = {name: fn for name, fn in fns.items() if name.startswith("timer_")}
    assert len(timers) == 7
    schedules = set()
    for fn in timers.values():
        (binding,) = [b.get_dict_repr() for b in fn.get_bindings()]
        assert binding["type"] == "timerTrigger"
        assert len(binding["schedule"].split()) == 6, "NCRONTAB has six fields"
        assert not binding.get("runOnStartup")
        schedules.add(binding["schedule"])
    assert schedules == set(TIMER_SCHEDULES.values())
    (worker,) = [b.get_dict_repr() for b in fns["sync_worker"].get_bindings()]
    assert worker["type"] == "queueTrigger" and worker["queueName"] == DEFAULT_QUEUE
    assert worker["connection"] == "AzureWebJobsStorage"


@pytest.fixture(scope="module")
def loopback_sandboxes() -> Iterator[tuple[str, str]]:
    with running_sandboxes(25) as urls:
        yield urls


@pytest.fixture
async def deployed(storage_connection_string: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                   loopback_sandboxes: tuple[str, str]) -> AsyncIterator[tuple[str, str]]:
    monkeypatch.setenv("SYNC_STORAGE_CONNECTION_STRING", storage_connection_string)
    monkeypatch.setenv("SYNC_TABLE_PREFIX", "f" + uuid.uuid4().hex[:8])
    monkeypatch.setenv("SYNC_LOCAL_SECRETS_PATH", str(tmp_path / "secrets.json"))
    monkeypatch.setenv("SYNC_LOCAL_AUTH", "1")  # local mode: the loopback stand-ins' http URLs
    await reset_runtime()
    queue = QueueClient.from_connection_string(storage_connection_string, DEFAULT_QUEUE)
    with contextlib.suppress(Exception):
        await queue.clear_messages()
    await queue.close()
    yield loopback_sandboxes
    await reset_runtime()


async def test_timer_then_worker_sync_contacts_end_to_end(deployed: tuple[str, str],
                                                          storage_connection_string: str) -> None:
    ac_url, dv_url = deployed
    runtime = await get_runtime()
    cid = "fn-" + uuid.uuid4().hex[:6]
    config = ConnectionConfig.model_validate({
        "connection_id": cid,
        "activecampaign": {"api_url": ac_url},
        "dynamics": {"environment_url": dv_url, "auth": {"kind": "static_token"}},
        "sync": {"global_enabled": True, "frequency": "2h"},
    })
    await runtime.store.save_config(config)
    names = secret_names(config)
    await runtime.secrets.set_secret(names["activecampaign_api_key"], "sandbox-ac-key")
    await runtime.secrets.set_secret(names["dynamics_secret"], "sandbox-dynamics-token")

    fns = _functions()
    await fns["timer_every_1h"].get_user_function()(None)  # not due at 1h: nothing enqueued
    await fns["timer_every_2h"].get_user_function()(None)
    reader = QueueClient.from_connection_string(storage_connection_string, DEFAULT_QUEUE,
                                                message_decode_policy=TextBase64DecodePolicy())
    try:
        messages = [m async for m in reader.receive_messages(max_messages=32)]
        assert len(messages) == 1
        worker = fns["sync_worker"].get_user_function()
        body = messages[0].content.encode()
        await worker(func.QueueMessage(id=messages[0].id, body=body))
        runs = await runtime.store.list_runs(cid)
        assert runs and runs[0].status == "finished"
        assert runs[0].counts["contact"]["read"] == 25
        # The pass enqueued a follow-up to confirm its bulk import (with a delay).
        props = await reader.get_queue_properties()
        assert (props.approximate_message_count or 0) >= 1
    finally:
        await reader.close()
    async with httpx.AsyncClient(base_url=ac_url, headers={"Api-Token": "sandbox-ac-key"}) as ac:
        for _ in range(5):  # the pass may have just spent this second's 5 requests: wait as AC says
            r = await ac.get("/api/3/import/bulk_import")
            if r.status_code != 429:
                break
            await asyncio.sleep(float(r.headers.get("Retry-After", "1")))
        assert r.status_code == 200


async def test_a_malformed_message_is_dropped_not_poisoned(deployed: tuple[str, str],
                                                           caplog: pytest.LogCaptureFixture) -> None:
    worker = _functions()["sync_worker"].get_user_function()
    with caplog.at_level("ERROR", logger="function_app"):
        await worker(func.QueueMessage(id="bad", body=b"{not json"))
    assert "dropping a malformed pass request" in caplog.text
