"""Schemathesis over every operation of the running API (uvicorn on loopback), with an admin token.

No undocumented status, no 500, every response matches its schema. The sandboxes sit behind the
API in-process, their rate limits off; examples are capped so the run takes well under a minute.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import schemathesis
import uvicorn
from cryptography.hazmat.primitives.asymmetric import rsa
from hypothesis import HealthCheck, Phase, settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from sync_core.api import create_app
from sync_core.api.auth import AuthSettings, JwksCache, TokenValidator
from sync_core.api.clients import ApiClients
from sync_core.clock import SYSTEM_CLOCK
from sync_core.engine import DefaultClientFactory, SyncEngine
from sync_core.runtime import Runtime, build_runtime
from sync_core.settings import Settings
from sync_core.store import LocalSecretStore
from tests.api.conftest import AUDIENCE, CID, TENANT, HostRouter, connect_body, jwks_transport, mint_token

schema = schemathesis.openapi.from_dict(create_app().openapi())
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance,
          response_headers_conformance]


@dataclass
class Live:
    url: str
    token: str
    ac_key: str


@pytest.fixture(scope="module")
def live(storage_connection_string: str, tmp_path_factory: pytest.TempPathFactory,
         signing_key: rsa.RSAPrivateKey) -> Iterator[Live]:
    from sandbox.activecampaign import create_app as ac_create_app
    from sandbox.dynamics import create_app as dv_create_app

    tmp: Path = tmp_path_factory.mktemp("schemathesis")
    ac_key = f"ac-{uuid.uuid4().hex}"
    ac_app = ac_create_app(api_token=ac_key, enforce_rate_limit=False)
    dv_app = dv_create_app(tokens=("sandbox-dynamics-token",), seed_contacts=40)
    router = HostRouter({"ac.sandbox": httpx.ASGITransport(app=ac_app),
                         "dataverse.sandbox": httpx.ASGITransport(app=dv_app)})
    settings_ = Settings(storage_account_url=None, queue_account_url=None,
                         storage_connection_string=storage_connection_string,
                         table_prefix="st" + uuid.uuid4().hex[:8], managed_identity_client_id=None, key_vault_uri=None,
                         local_secrets_path=str(tmp / "secrets.json"), in_azure=False)
    runtimes: list[Runtime] = []

    async def runtime() -> Runtime:  # built in the server's event loop, on the first request
        secrets = LocalSecretStore(tmp / "secrets.json")
        rt = build_runtime(settings_, secrets=secrets)
        rt.engine = SyncEngine(rt.store, DefaultClientFactory(store=rt.store, secrets=secrets, clock=SYSTEM_CLOCK,
                                                              ac_transport=router, dv_transport=router),
                               clock=SYSTEM_CLOCK)
        runtimes.append(rt)
        return await rt.ready()

    auth = AuthSettings.entra(TENANT, AUDIENCE)
    validator = TokenValidator(auth, JwksCache(auth.jwks_uri, transport=jwks_transport(signing_key)))
    # No retries (an unreachable host fails at once); the AC stand-in's rate limit is off, so the budget is raised.
    clients = ApiClients(ac_transport=router, dv_transport=router, max_retries=0, ac_requests_per_second=1000)
    app = create_app(runtime, auth=validator, clients=clients, preview_wait_seconds=20.0)
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    assert server.started
    alex = next(u for u in dv_app.state.dataverse.rows["systemuser"].values() if u["fullname"] == "Alex Admin")
    token = mint_token(signing_key, alex["azureactivedirectoryobjectid"], now=time.time(), lifetime=3600)
    url = f"http://127.0.0.1:{port}"
    r = httpx.put(f"{url}/api/connections/{CID}/connection", json=connect_body(ac_key),
                  headers={"Authorization": f"Bearer {token}"}, timeout=30)
    assert r.status_code == 200, r.text
    yield Live(url=url, token=token, ac_key=ac_key)
    server.should_exit = True
    thread.join(timeout=10)
    for rt in runtimes:
        asyncio.run(_close(rt))


async def _close(rt: Runtime) -> None:
    # The clients were bound to the server's loop, which has ended; nothing is left to flush.
    with contextlib.suppress(Exception):
        await rt.close()


@schema.parametrize()
@settings(max_examples=6, deadline=None, derandomize=True, phases=[Phase.explicit, Phase.generate],
          suppress_health_check=list(HealthCheck))
def test_every_operation_conforms(case: schemathesis.Case, live: Live) -> None:
    if "connection_id" in (case.path_parameters or {}):
        # Mostly the connection that exists (a random id is a documented 404, tested elsewhere).
        case.path_parameters["connection_id"] = CID
    response = case.call_and_validate(base_url=live.url, headers={"Authorization": f"Bearer {live.token}"},
                                      checks=CHECKS, timeout=60)
    assert live.ac_key not in response.text
    if case.method.upper() == "DELETE" and case.path.endswith("/connection") and response.status_code == 200:
        r = httpx.put(f"{live.url}/api/connections/{CID}/connection", json=connect_body(live.ac_key),
                      headers={"Authorization": f"Bearer {live.token}"}, timeout=30)
        assert r.status_code == 200, r.text
