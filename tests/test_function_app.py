"""function_app wiring, called directly (Azure Functions Core Tools cannot run here)."""

from __future__ import annotations

import json
from types import SimpleNamespace
from typing import Any

import azure.functions as func

import function_app

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


async def test_health_through_the_http_function() -> None:
    handler = _functions()["http_app_func"].get_user_function()
    req = func.HttpRequest(method="GET", url="http://localhost/api/health", body=b"", headers={})
    ctx = SimpleNamespace(invocation_id="test", trace_context=None, function_name="http_app_func")
    resp: func.HttpResponse = await handler(req, ctx)
    assert resp.status_code == 200
    assert json.loads(resp.get_body())["status"] == "ok"


async def test_unknown_route_is_404_not_500() -> None:
    handler = _functions()["http_app_func"].get_user_function()
    req = func.HttpRequest(method="GET", url="http://localhost/api/nope", body=b"", headers={})
    ctx = SimpleNamespace(invocation_id="test", trace_context=None, function_name="http_app_func")
    resp: func.HttpResponse = await handler(req, ctx)
    assert resp.status_code == 404
