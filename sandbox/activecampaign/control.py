"""The control surface ``/_sandbox/...``: never called by product code, never rate-limited or logged."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from sandbox.clock import SandboxClock

from .seed import seed_account
from .state import ACState


def _ac(request: Request) -> ACState:
    ac: ACState = request.app.state.ac
    return ac


async def _body(request: Request) -> dict[str, Any]:
    raw = await request.body()
    if not raw:
        return {}
    data = await request.json()
    if not isinstance(data, dict):
        raise ValueError("body must be a JSON object")
    return data


def _bad(err: Exception) -> JSONResponse:
    return JSONResponse({"error": str(err)}, status_code=400)


async def state(request: Request) -> Response:
    ac = _ac(request)
    return JSONResponse({"counts": ac.counts(), "plan": ac.plan, "time": ac.now(),
                         "enforce_rate_limit": ac.enforce_rate_limit, "faults": ac.faults.as_dict()})


async def reset(request: Request) -> Response:
    try:
        body = await _body(request)
        _ac(request).reset(seed_contacts=int(body.get("seed_contacts", 0)))
    except (ValueError, TypeError) as err:
        return _bad(err)
    return JSONResponse({"counts": _ac(request).counts()})


async def seed(request: Request) -> Response:
    try:
        body = await _body(request)
        seed_account(_ac(request), int(body.get("contacts", 10)))
    except (ValueError, TypeError) as err:
        return _bad(err)
    return JSONResponse({"counts": _ac(request).counts()})


async def faults(request: Request) -> Response:
    ac = _ac(request)
    if request.method == "POST":
        try:
            body = await _body(request)
            if body.pop("clear", False):
                ac.clear_faults()
            ac.inject_fault(**body)
        except (ValueError, TypeError, KeyError) as err:
            return _bad(err)
    return JSONResponse(ac.faults.as_dict())


async def plan(request: Request) -> Response:
    ac = _ac(request)
    if request.method == "POST":
        try:
            ac.set_plan(str((await _body(request)).get("plan")))
        except ValueError as err:
            return _bad(err)
    return JSONResponse({"plan": ac.plan})


async def switches(request: Request) -> Response:
    ac = _ac(request)
    if request.method == "POST":
        try:
            body = await _body(request)
            if body.pop("reset", False):
                ac.switches.reset()
            ac.switches.set_many(body)
        except (ValueError, KeyError) as err:
            return _bad(err)
    return JSONResponse({"switches": dict(ac.switches), "describe": ac.switches.describe()})


async def latency(request: Request) -> Response:
    """``{"profile": "realistic"|"none"}`` or a profile (latency.py), either with ``"answer": "clock"|"header"``;
    GET answers it, the answer mode and the seconds waited (or announced)."""
    ac = _ac(request)
    if request.method == "POST":
        try:
            body = dict(await _body(request))
            answer = body.pop("answer", "clock")
            ac.set_latency(body["profile"] if set(body) == {"profile"} else body, answer=answer)
        except (ValueError, TypeError, KeyError) as err:
            return _bad(err)
    return JSONResponse({"profile": ac.latency.describe() if ac.latency else None, "answer": ac.latency_answer,
                         "waited": ac.latency_waited})


async def clock(request: Request) -> Response:
    ac = _ac(request)
    source = ac.clock
    if request.method == "POST":
        if not isinstance(source, SandboxClock):
            return JSONResponse({"error": "the clock was injected by the test; move it there"}, status_code=409)
        try:
            body = await _body(request)
            # SandboxClock has no public "is frozen" flag; reading it keeps set/freeze exact.
            was_frozen = source._frozen is not None
            if "set" in body:
                source.freeze(float(body["set"]))
                if not (was_frozen or body.get("freeze")):
                    source.unfreeze()
            elif body.get("freeze"):
                source.freeze()
            if "advance" in body:
                source.advance(float(body["advance"]))
            if body.get("unfreeze"):
                source.unfreeze()
        except (ValueError, TypeError) as err:
            return _bad(err)
    frozen = isinstance(source, SandboxClock) and source._frozen is not None
    return JSONResponse({"time": ac.now(), "frozen": frozen, "controllable": isinstance(source, SandboxClock)})


async def requests_log(request: Request) -> Response:
    ac = _ac(request)
    if request.method == "DELETE":
        ac.requests.clear()
    return JSONResponse({"requests": [{"method": r.method, "path": r.path, "route": r.route, "status": r.status,
                                       "time": r.time} for r in ac.requests]})


async def events(request: Request) -> Response:
    """Record marketing activity for a contact: ``{"contact": 1, "event": "visited", "value": "..."}`` adds a
    tracking log; ``{"contact": 1, "activity": "SubscriberEmail", "action": "open"}`` adds an activity."""
    ac = _ac(request)
    try:
        body = await _body(request)
        cid = int(body["contact"])
        if cid not in ac.contacts:
            raise ValueError(f"no contact {cid}")
        out: dict[str, Any] = {}
        if "event" in body:
            out["trackingLog"] = ac.add_tracking_log(cid, str(body["event"]), str(body.get("value", "")))
        if "activity" in body:
            out["activity"] = ac.add_activity(cid, str(body["activity"]), int(body.get("reference_id", 0)),
                                              str(body.get("action", "")))
    except (ValueError, TypeError, KeyError) as err:
        return _bad(err)
    return JSONResponse(out)


ROUTES: list[Route] = [
    Route("/_sandbox/state", state, methods=["GET"]),
    Route("/_sandbox/reset", reset, methods=["POST"]),
    Route("/_sandbox/seed", seed, methods=["POST"]),
    Route("/_sandbox/faults", faults, methods=["GET", "POST"]),
    Route("/_sandbox/plan", plan, methods=["GET", "POST"]),
    Route("/_sandbox/switches", switches, methods=["GET", "POST"]),
    Route("/_sandbox/clock", clock, methods=["GET", "POST"]),
    Route("/_sandbox/latency", latency, methods=["GET", "POST"]),
    Route("/_sandbox/requests", requests_log, methods=["GET", "DELETE"]),
    Route("/_sandbox/events", events, methods=["POST"]),
]
