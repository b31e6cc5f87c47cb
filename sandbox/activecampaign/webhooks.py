"""Webhooks (``/api/3/webhooks``) and their delivery, and the webhook step of an automation.

Delivery follows developers.activecampaign.com/page/webhooks [C]: a form-encoded POST per event and webhook,
"at least once" (switch ``webhook_duplicates``), "never retried", unsigned, and a webhook whose URL answers 410 is
set inactive (it still lists, but sends nothing). Events wait in ``ac.outbox`` and are posted after the request
that caused them has been answered (the gate calls ``deliver_pending``), through ``ac.webhook_transport`` when a
test set one (an ``httpx.AsyncBaseTransport``, e.g. ``httpx.ASGITransport(app=product_app)``), else over real HTTP
(loopback). Every attempt is logged in ``ac.webhook_deliveries``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode, urlsplit

import httpx

from . import attrs
from .errors import ACError, jsonapi
from .events import ACCOUNT_EVENTS, EVENTS, SOURCES, Delivery, contact_block, envelope

if TYPE_CHECKING:
    from .state import ACState, Contact

TIMEOUT_SECONDS = 5.0  # AC marks an automation webhook failed after 5 s (WP Fusion's documentation) [S]


def check_webhook(ac: ACState, data: dict[str, Any], *, partial: bool) -> dict[str, Any]:
    """The attributes of a webhook body, checked; with ``partial`` only those sent (PUT)."""
    out: dict[str, Any] = {}
    for key in ("name", "url"):
        value = attrs.text(data, key, required=not partial)
        if value is not None:
            if not value.strip():
                raise attrs.missing(key)
            out[key] = value.strip()
    if "url" in out:
        _check_url(out["url"])
    for key, allowed in (("events", frozenset(EVENTS) | frozenset(ACCOUNT_EVENTS)), ("sources", SOURCES)):
        value = data.get(key)
        if value is None:
            if not partial:
                raise attrs.missing(key)
            continue
        if not isinstance(value, list) or not value or not all(isinstance(v, str) and v in allowed for v in value):
            raise attrs.invalid(key, f"must be a non-empty array of: {', '.join(sorted(allowed))}")
        out[key] = list(dict.fromkeys(value))
    if data.get("listid") is not None:
        listid = attrs.integer(data, "listid", minimum=0) or 0
        if listid and listid not in ac.lists:
            raise attrs.invalid("listid", f"No list with id {listid}")
        out["listid"] = listid
    return out


def _check_url(url: str) -> None:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise jsonapi(422, "The url must be an http or https URL", "field_invalid", "/data/attributes/url")
    try:
        port = parts.port
    except ValueError as err:
        raise jsonapi(422, "The url has an invalid port", "field_invalid", "/data/attributes/url") from err
    if parts.scheme == "https" and port not in (None, 443):
        # "for https endpoints, we only can send webhooks on port 443" (the doc's url description)
        raise jsonapi(422, "HTTPS webhooks can only be sent on port 443", "field_invalid", "/data/attributes/url")


def create_webhook(ac: ACState, data: dict[str, Any]) -> dict[str, Any]:
    values = check_webhook(ac, data, partial=False)
    wid = ac.next_id("webhook")
    webhook = {"id": wid, "listid": 0, **values, "cdate": ac.now(), "active": True}
    ac.webhooks[wid] = webhook
    return webhook


def get_webhook(ac: ACState, raw: object) -> dict[str, Any]:
    from .state import as_int

    wid = as_int(raw)
    if wid is None or wid not in ac.webhooks:
        raise ACError(404, {"message": f"No Result found for Webhook with id {raw}"})
    return ac.webhooks[wid]


async def _post(ac: ACState, url: str, form: list[tuple[str, str]]) -> tuple[int | None, str | None]:
    try:
        async with httpx.AsyncClient(transport=ac.webhook_transport, timeout=TIMEOUT_SECONDS,
                                     follow_redirects=False) as client:
            response = await client.post(url, content=urlencode(form),
                                         headers={"Content-Type": "application/x-www-form-urlencoded",
                                                  "User-Agent": "ActiveCampaign/1.0"})
    except (httpx.HTTPError, OSError) as err:
        return None, f"{type(err).__name__}: {err}"
    return response.status_code, None


async def deliver_pending(ac: ACState) -> None:
    """Post what waits in the outbox, once each ("never retried"); a 410 deactivates the webhook."""
    if ac.delivering:  # a receiver calling back into the sandbox: the outer loop posts what it queues
        return
    ac.delivering = True
    try:
        while ac.outbox:
            delivery = ac.outbox.pop(0)
            webhook = ac.webhooks.get(delivery.webhook_id) if delivery.webhook_id is not None else None
            if webhook is None or not webhook["active"]:
                continue  # deleted or deactivated after the event: not sent
            delivery.status, delivery.error = await _post(ac, delivery.url, delivery.form)
            ac.webhook_deliveries.append(delivery)
            if delivery.status == 410:
                webhook["active"] = False
    finally:
        ac.delivering = False


def automation_webhook_form(ac: ACState, automation: dict[str, Any], contact: Contact) -> list[tuple[str, str]]:
    form = [*contact_block(ac, contact), ("seriesid", str(automation["id"]))]
    if ac.switches["automation_webhook_envelope"] == "with_envelope":
        form = envelope(ac, "automation", "system") + form
    return form


async def run_automation_webhook(ac: ACState, automation: dict[str, Any], contact: Contact,
                                 url: str) -> dict[str, Any]:
    """An automation's webhook step reached by ``contact``: one POST, never retried; a 410 deactivates the step."""
    _check_url(url)
    step = ac.automation_steps.setdefault((automation["id"], url), {"active": True, "sent": 0})
    if not step["active"]:
        return {"sent": False, "reason": "the step was deactivated by a 410", "status": None}
    form = automation_webhook_form(ac, automation, contact)
    copies = 2 if ac.switches["webhook_duplicates"] == "always" else 1  # at least once (register)
    for copy in range(1, copies + 1):
        status, error = await _post(ac, url, form)
        step["sent"] += 1
        ac.webhook_deliveries.append(Delivery(webhook_id=None, url=url, event="automation", form=form,
                                              time=ac.now(), status=status, error=error, copy=copy))
        if status == 410:
            step["active"] = False
            break
    return {"sent": True, "status": status, "error": error, "form": form, "copies": copy}
