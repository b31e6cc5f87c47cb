"""The engine harness: real Azurite, both sandboxes in-process, one fake clock for all of them."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from sync_core.clock import FakeClock
from sync_core.engine import ClientFactory, PassResult, SyncEngine
from sync_core.engine.pass_state import Checkpoint
from sync_core.model.config import ConnectionConfig
from sync_core.model.hosts import HostPolicy
from sync_core.model.secrets import secret_names
from sync_core.store import LocalSecretStore, SyncStore

AC_URL = "http://ac.sandbox"
DV_URL = "http://dataverse.sandbox"
AC_KEY = "sandbox-ac-key"
DV_TOKEN = "sandbox-dynamics-token"
DV_HEADERS = {"Authorization": f"Bearer {DV_TOKEN}", "Accept": "application/json", "OData-Version": "4.0",
              "OData-MaxVersion": "4.0"}


def base_config(connection_id: str = "test", **entities: Any) -> ConnectionConfig:
    doc: dict[str, Any] = {
        "connection_id": connection_id,
        "activecampaign": {"api_url": AC_URL},
        "dynamics": {"environment_url": DV_URL, "auth": {"kind": "static_token"}},
        "sync": {"global_enabled": True, "frequency": "1h"},
        "entities": {"contacts": {"enabled": True, "direction": "push"}, **entities},
    }
    return ConnectionConfig.model_validate(doc)


@dataclass
class Harness:
    clock: FakeClock
    ac_app: Any
    dv_app: Any
    store: SyncStore
    secrets: LocalSecretStore
    config: ConnectionConfig
    page_size: int
    checkpoint: Checkpoint | None = None
    passes: list[PassResult] = field(default_factory=list)

    @property
    def ac(self) -> Any:
        return self.ac_app.state.ac

    @property
    def dv(self) -> Any:
        return self.dv_app.state.dataverse

    @property
    def cid(self) -> str:
        return self.config.connection_id

    def engine(self, *, checkpoint: Checkpoint | None = None, holder: str | None = None,
               ac_transport: httpx.AsyncBaseTransport | None = None) -> SyncEngine:
        factory = ClientFactory(
            clock=self.clock, ac_transport=ac_transport or httpx.ASGITransport(app=self.ac_app),
            dv_transport=httpx.ASGITransport(app=self.dv_app),
            dv_options={"page_size": self.page_size}, host_policy=HostPolicy(local=True),
        ).bound(self.store, self.secrets)
        cp = checkpoint or self.checkpoint
        if cp is None:
            return SyncEngine(self.store, factory, clock=self.clock, holder=holder)
        return SyncEngine(self.store, factory, clock=self.clock, holder=holder, checkpoint=cp)

    async def run(self, **kwargs: Any) -> PassResult:
        result = await self.engine().run_pass(self.cid, **kwargs)
        self.passes.append(result)
        return result

    async def until_idle(self, *, max_passes: int = 40) -> list[PassResult]:
        """Passes until no work is left; between passes the clock moves so AC finishes imports."""
        results = []
        for _ in range(max_passes):
            r = await self.run()
            results.append(r)
            assert r.outcome in ("finished", "continued"), (r.outcome, r.message)
            if r.more_work:
                continue
            if r.open_imports:
                self.clock.advance(30)
                continue
            return results
        raise AssertionError("the connection did not become idle")

    async def dv_request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=self.dv_app), base_url=DV_URL) as c:
            headers = {**DV_HEADERS, **kwargs.pop("headers", {})}
            return await c.request(method, f"/api/data/v9.2/{path}", headers=headers, **kwargs)

    async def dv_all(self, entity_set: str, select: str) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        url: str | None = f"{DV_URL}/api/data/v9.2/{entity_set}?$select={select}"
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=self.dv_app)) as c:
            while url:
                r = await c.get(url, headers={**DV_HEADERS, "Prefer": "odata.maxpagesize=5000"})
                r.raise_for_status()
                body = r.json()
                out.extend(body["value"])
                url = body.get("@odata.nextLink")
        return out

    async def dv_patch(self, entity_set: str, record_id: str, body: dict[str, Any]) -> None:
        r = await self.dv_request("PATCH", f"{entity_set}({record_id})", json=body, headers={"If-Match": "*"})
        assert r.status_code == 204, r.text

    async def dv_patch_inactive(self, entity_set: str, record_id: str, body: dict[str, Any]) -> None:
        """An edit of an inactive record, made under ``inactive_update=allow`` whatever the reading: under
        ``refuse`` Dataverse answers 400 ``0x80040230`` and nothing changes. The reading is put back after."""
        reading = self.dv.switches["inactive_update"]
        self.dv.set_switches({"inactive_update": "allow"})
        try:
            await self.dv_patch(entity_set, record_id, body)
        finally:
            self.dv.set_switches({"inactive_update": reading})

    async def dv_create(self, entity_set: str, body: dict[str, Any]) -> str:
        r = await self.dv_request("POST", entity_set, json=body)
        assert r.status_code == 204, r.text
        return r.headers["OData-EntityId"].rsplit("(", 1)[1].rstrip(")")

    def ac_by_email(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for c in self.ac.contacts.values():
            email = str(c.email).lower()
            assert email not in out, f"duplicate AC contact for {email}"
            out[email] = c
        return out

    async def links(self, entity: str = "contact") -> list[Any]:
        return [link async for link in self.store.iter_links(self.cid, entity)]  # type: ignore[arg-type]

    def ac_writes(self, result: PassResult) -> int:
        assert result.run is not None
        calls = result.run.api_calls.get("activecampaign", {})
        return sum(v for k, v in calls.items() if k in AC_WRITE_KINDS)


AC_WRITE_KINDS = frozenset({"bulk_import", "contact.sync", "contact.update", "contact.create", "contactTag.create",
                            "contactList.set", "tag.create"})

HarnessFactory = Callable[..., Awaitable[Harness]]


def apply_switches(ac_app: Any, dv_app: Any, flipped: dict[str, dict[str, Any]], *,
                   ac: dict[str, Any] | None = None, dataverse: dict[str, Any] | None = None) -> None:
    """The readings of ``--sandbox-switch`` first, then the test's own (a test that pins a reading keeps it)."""
    ac_app.state.ac.switches.set_many({**flipped.get("ac", {}), **(ac or {})})
    dv_app.state.dataverse.set_switches({**flipped.get("dataverse", {}), **(dataverse or {})})


@pytest.fixture
async def harness(storage_connection_string: str, table_prefix: str, clock: FakeClock, tmp_path: Path,
                  sandbox_switches: dict[str, dict[str, Any]]) -> AsyncIterator[HarnessFactory]:
    from sandbox.activecampaign import create_app as ac_create_app
    from sandbox.dynamics import create_app as dv_create_app

    stores: list[SyncStore] = []

    async def make(*, seed_contacts: int = 40, page_size: int = 5000, config: ConnectionConfig | None = None,
                   ac_switches: dict[str, Any] | None = None, dv_switches: dict[str, Any] | None = None,
                   checkpoint: Checkpoint | None = None, enforce_rate_limit: bool = True) -> Harness:
        ac_app = ac_create_app(clock=clock, api_token=AC_KEY, seed=1, enforce_rate_limit=enforce_rate_limit)
        dv_app = dv_create_app(clock=clock, tokens=(DV_TOKEN,), seed=1, seed_contacts=seed_contacts)
        apply_switches(ac_app, dv_app, sandbox_switches, ac=ac_switches, dataverse=dv_switches)
        store = SyncStore.from_connection_string(storage_connection_string, table_prefix=table_prefix, clock=clock)
        stores.append(store)
        await store.create_tables()
        secrets = LocalSecretStore(tmp_path / "secrets.json")
        cfg = config or base_config()
        names = secret_names(cfg)
        await secrets.set_secret(names["activecampaign_api_key"], AC_KEY)
        await secrets.set_secret(names["dynamics_secret"], DV_TOKEN)
        await store.save_config(cfg)
        return Harness(clock=clock, ac_app=ac_app, dv_app=dv_app, store=store, secrets=secrets, config=cfg,
                       page_size=page_size, checkpoint=checkpoint)

    yield make
    for s in stores:
        await s.close()


async def ac_request(h: Harness, method: str, path: str, **kwargs: Any) -> httpx.Response:
    """A request to the AC stand-in as a user of AC's API would make it (waiting out its rate limit)."""
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=h.ac_app), base_url=AC_URL,
                                 headers={"Api-Token": AC_KEY}) as c:
        while True:
            r = await c.request(method, f"/api/3/{path}", **kwargs)
            if r.status_code not in (429, 503):  # over 5/s: 429 or 503 (register #21)
                break
            h.clock.advance(float(r.headers.get("Retry-After", "1")))
        assert r.status_code < 300, r.text
        return r
