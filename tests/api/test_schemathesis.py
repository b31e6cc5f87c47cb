"""Schemathesis over every operation of the running API (uvicorn on loopback), with an admin token and a
seller's (ActiveCampaign User) token: every generated case is sent with both.

No undocumented status, no 5xx, every response matches its schema, no response carries the AC key.
The sandboxes sit behind the API in-process, their rate limits off. CI runs a small budget; set
``SYNC_SCHEMATHESIS_CASES=20000`` (cases in total, both tokens counted) for the long run, with ``-s``
to see the counts per status at the end.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import os
import socket
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
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
from sync_core.clock import SYSTEM_CLOCK
from sync_core.engine import ClientFactory, SyncEngine
from sync_core.engine.clients import Patience
from sync_core.model.hosts import HostPolicy
from sync_core.runtime import Runtime, build_runtime
from sync_core.settings import Settings
from sync_core.store import LocalSecretStore
from tests.api.conftest import AUDIENCE, CID, TENANT, HostRouter, connect_body, jwks_transport, mint_token

schema = schemathesis.openapi.from_dict(create_app().openapi())
OPERATIONS = sum(len(ops) for ops in create_app().openapi()["paths"].values())
TOTAL_CASES = int(os.environ.get("SYNC_SCHEMATHESIS_CASES") or 0)
# CI: generated cases only (≈700 calls). The long run adds the explicit phase (schemathesis's boundary and
# negative cases, ≈3,300 per token) and enough generated ones per operation to reach the total.
EXAMPLES = math.ceil(TOTAL_CASES / (2 * OPERATIONS)) if TOTAL_CASES else 15
PHASES = [Phase.explicit, Phase.generate] if TOTAL_CASES else [Phase.generate]
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance,
          response_headers_conformance]


@dataclass
class Live:
    url: str
    token: str
    seller_token: str
    ac_key: str
    statuses: Counter[tuple[str, int]] = field(default_factory=Counter)


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
        factory = ClientFactory(clock=SYSTEM_CLOCK, ac_transport=router, dv_transport=router,
                                host_policy=HostPolicy(local=True))
        rt.engine = SyncEngine(rt.store, factory.bound(rt.store, secrets), clock=SYSTEM_CLOCK)
        runtimes.append(rt)
        return await rt.ready()

    auth = AuthSettings.entra(TENANT, AUDIENCE)
    validator = TokenValidator(auth, JwksCache(auth.jwks_uri, transport=jwks_transport(signing_key)))
    # No retries (an unreachable host fails at once); the AC stand-in's rate limit is off, so the budget is raised.
    clients = ClientFactory(clock=SYSTEM_CLOCK, ac_transport=router, dv_transport=router, ac_requests_per_second=1000,
                            host_policy=HostPolicy(local=True),
                            patience=Patience(max_retries=0, max_retry_wait=20.0, ac_timeout=30.0, dv_timeout=30.0))
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
    users = {u["fullname"]: u for u in dv_app.state.dataverse.rows["systemuser"].values()}
    token = mint_token(signing_key, users["Alex Admin"]["azureactivedirectoryobjectid"], now=time.time(),
                       lifetime=6 * 3600)
    seller = mint_token(signing_key, users["Sam Seller"]["azureactivedirectoryobjectid"], now=time.time(),
                        lifetime=6 * 3600)
    url = f"http://127.0.0.1:{port}"
    r = httpx.put(f"{url}/api/connections/{CID}/connection", json=connect_body(ac_key),
                  headers={"Authorization": f"Bearer {token}"}, timeout=30)
    assert r.status_code == 200, r.text
    live = Live(url=url, token=token, seller_token=seller, ac_key=ac_key)
    yield live
    total = sum(live.statuses.values())
    print(f"\nschemathesis: {total} cases over {OPERATIONS} operations ({EXAMPLES} examples each, two tokens); "
          f"5xx: {sum(n for (_, st), n in live.statuses.items() if st >= 500)}")
    for (who, st), n in sorted(live.statuses.items()):
        print(f"  {who:<6} {st}: {n}")
    server.should_exit = True
    thread.join(timeout=10)
    for rt in runtimes:
        asyncio.run(_close(rt))


async def _close(rt: Runtime) -> None:
    # The clients were bound to the server's loop, which has ended; nothing is left to flush.
    with contextlib.suppress(Exception):
        await rt.close()


@schema.parametrize()
@settings(max_examples=EXAMPLES, deadline=None, derandomize=True, phases=PHASES,
          suppress_health_check=list(HealthCheck))
def test_every_operation_conforms(case: schemathesis.Case, live: Live) -> None:
    if "connection_id" in (case.path_parameters or {}):
        # Mostly the connection that exists (a random id is a documented 404, tested elsewhere).
        case.path_parameters["connection_id"] = CID
    for who, token in (("seller", live.seller_token), ("admin", live.token)):  # the seller first: admin may delete
        response = case.call(base_url=live.url, headers={"Authorization": f"Bearer {token}"}, timeout=60)
        live.statuses[(who, response.status_code)] += 1  # counted before the checks, failures included
        case.validate_response(response, checks=CHECKS)
        assert live.ac_key not in response.text
    if case.method.upper() == "DELETE" and case.path.endswith("/connection") and response.status_code == 200:
        r = httpx.put(f"{live.url}/api/connections/{CID}/connection", json=connect_body(live.ac_key),
                      headers={"Authorization": f"Bearer {live.token}"}, timeout=30)
        assert r.status_code == 200, r.text
