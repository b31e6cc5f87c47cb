"""The ActiveCampaign automation webhook step (issue 18): a create request queued, nothing else.

``POST /api/hooks/{connection_id}/ac/{token}?create=lead|contact``: form-encoded and unsigned, sent once
(AC never retries) and a 410 would deactivate the webhook, so the route never answers 410. The token is
checked before any storage read (``model.hooks``): a wrong one is a plain 404. A right one queues a
``pending`` request row keyed by (table, AC contact) and asks the queue worker for a pass now (near real
time, not the next timer); that pass reads the contact again from AC before anything is created (the body
is not trusted: only its contact id is used). The admin routes give the URL to paste into the automation
and rotate the key, retiring every URL given before.
"""

from __future__ import annotations

import logging
import time
from typing import Annotated, Literal
from urllib.parse import parse_qs

from azure.core.exceptions import AzureError
from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, Field

from sync_core.api.context import CONNECTION_ID, AdminDep, Ctx
from sync_core.api.errors import STANDARD, ApiError, documented
from sync_core.engine.create_requests import record_id
from sync_core.engine.scheduling import PassRequest
from sync_core.model.hooks import key_name, new_key, parse_key, token, token_matches
from sync_core.model.secrets import SecretStore
from sync_core.model.state import CreateRequest, EntityName

router = APIRouter()
log = logging.getLogger("sync_core.api.hooks")
KEY_CACHE_SECONDS = 60.0
CACHE_ENTRIES = 1000
MAX_BODY = 256 * 1024
_cache: dict[tuple[int, str], tuple[float, tuple[int, str] | None]] = {}
"""(secret store, connection) → (read at, key): a key is read once a minute, not per call."""


class HookQueued(BaseModel):
    queued: bool = Field(description="The request is stored and a pass is asked for now")


class HookUrl(BaseModel):
    path: str = Field(description="The path to give the automation's webhook step (after the app's host)")
    key_version: int


async def webhook_key(secrets: SecretStore, cid: str, *, fresh: bool = False) -> tuple[int, str] | None:
    now = time.monotonic()
    cached = _cache.get((id(secrets), cid))
    if cached is not None and not fresh and now - cached[0] < KEY_CACHE_SECONDS:
        return cached[1]
    key = parse_key(await secrets.get_secret(key_name(cid)))
    if len(_cache) >= CACHE_ENTRIES:
        _cache.clear()
    _cache[(id(secrets), cid)] = (now, key)
    return key


async def _contact_id(request: Request) -> str:
    """``contact[id]`` of the form-encoded body (parsed here: only this one field is used)."""
    body = await request.body()
    if len(body) > MAX_BODY:
        raise ApiError(422, "too_large", f"the webhook body is over {MAX_BODY} bytes", field="body")
    fields = parse_qs(body.decode("utf-8", errors="replace"), max_num_fields=500)
    return (fields.get("contact[id]") or [""])[0].strip()


def _no_hook() -> ApiError:
    return ApiError(404, "not_found", "no such hook")


@router.post("/api/hooks/{connection_id}/ac/{token}", status_code=202, response_model=HookQueued,
             responses=documented(404, 422, 503), tags=["hooks"],
             summary="An ActiveCampaign automation's webhook step: queue a Dynamics lead or contact for the contact")
async def ac_hook(ctx: Ctx, request: Request, connection_id: str, token: str,
                  create: Annotated[Literal["lead", "contact"] | None, Query(
                      description="The table to create in (default: the only one requested)")] = None
                  ) -> HookQueued:
    rt = await ctx.runtime()
    if not CONNECTION_ID.match(connection_id):
        raise _no_hook()
    if not token_matches(await webhook_key(rt.secrets, connection_id), connection_id, token):
        raise _no_hook()
    ac_id = await _contact_id(request)
    if not ac_id.isdigit() or len(ac_id) > 18:
        raise ApiError(422, "invalid", "contact[id]: the webhook body names no AC contact", field="contact[id]")
    config = await rt.store.get_config(connection_id)
    if config is None:
        raise _no_hook()
    requested = config.requested()
    entity: EntityName | None = create if create is not None else (requested[0] if len(requested) == 1 else None)
    if entity is None or entity not in requested:
        raise ApiError(422, "invalid", "create: name a table this connection creates on request "
                       f"({', '.join(requested) or 'none: create_requests is off'})", field="create")
    existing = await rt.store.get_request(connection_id, entity, ac_id)
    if existing is None or existing.status != "pending":
        now = rt.clock.now()
        await rt.store.save_request(connection_id, CreateRequest(
            entity=entity, ac_id=ac_id, dynamics_id=record_id(connection_id, entity, ac_id), source="webhook",
            requested_at=now))
        # Near real time: a pass now, not at the next timer. A burst's later messages collapse into the pass
        # that started after them (SyncEngine.run_pass); a repeat of a pending request sends nothing.
        try:
            await rt.queue.send(PassRequest(connection_id=connection_id, reason="create_request", requested_at=now))
        except (AzureError, OSError) as e:  # the row is stored: the next timer's pass takes it; AC never retries
            log.warning("create request for %s queued, but no pass could be asked for: %s", connection_id,
                        type(e).__name__)
    log.info("create request queued for %s (%s, AC contact %s)", connection_id, entity, ac_id)
    return HookQueued(queued=True)


def _url(cid: str, key: tuple[int, str]) -> HookUrl:
    return HookUrl(path=f"/api/hooks/{cid}/ac/{token(key, cid)}", key_version=key[0])


@router.get("/api/connections/{connection_id}/hooks/ac", response_model=HookUrl, responses=documented(*STANDARD),
            tags=["hooks"], summary="The webhook URL for ActiveCampaign automations (made on first use)")
async def hook_url(a: AdminDep) -> HookUrl:
    cid = a.config.connection_id
    key = await webhook_key(a.runtime.secrets, cid, fresh=True)
    if key is None:
        await a.runtime.secrets.set_secret(key_name(cid), new_key(1))
        key = await webhook_key(a.runtime.secrets, cid, fresh=True)
    assert key is not None
    return _url(cid, key)


@router.post("/api/connections/{connection_id}/hooks/ac/rotate", response_model=HookUrl,
             responses=documented(*STANDARD), tags=["hooks"],
             summary="A new webhook key version: every URL given before answers 404 from now on")
async def rotate_hook(a: AdminDep) -> HookUrl:
    cid = a.config.connection_id
    old = await webhook_key(a.runtime.secrets, cid, fresh=True)
    await a.runtime.secrets.set_secret(key_name(cid), new_key((old[0] if old else 0) + 1))
    key = await webhook_key(a.runtime.secrets, cid, fresh=True)
    assert key is not None
    return _url(cid, key)
