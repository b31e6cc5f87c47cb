"""Fuzzing every route the stand-in serves with requests generated from AC's official OpenAPI document.

Cases come from schemathesis strategies over ``activecampaign-openapi-v3.json`` (valid and invalid parameters
and bodies: ``GenerationMode.POSITIVE`` and ``NEGATIVE``). Each case runs against a small seeded account in
which ids 1..n exist, path parameters pointing at a real record half of the time. Checked: no 5xx (a server
exception fails the test with its traceback) and, where the document gives a JSON schema for the status
answered, the body conforms to it (``conform.py`` says which of the document's own contradictions are
relaxed and why).

CI runs ``AC_FUZZ_EXAMPLES`` (default 3) derandomized examples per operation; a larger random run:
``AC_FUZZ_EXAMPLES=200 AC_FUZZ_RANDOM=1 .venv/bin/pytest -q tests/sandbox_ac/test_fuzz.py``.
"""

from __future__ import annotations

import asyncio
import json
import os
from functools import cache
from typing import Any

import httpx
import jsonschema
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode

from sandbox.activecampaign import create_app
from sandbox.activecampaign.state import ACState

from . import openapi_doc as doc
from .conform import conformant
from .fuzz_world import build_world
from .test_openapi import UNDOCUMENTED, served_operations

TOKEN = "fuzz-token"
EXAMPLES = int(os.environ.get("AC_FUZZ_EXAMPLES", "3"))
RANDOM = os.environ.get("AC_FUZZ_RANDOM") == "1"
SCHEMA = schemathesis.openapi.from_dict(doc.document())
# Documented paths served under another path (the document's typo, see test_openapi.UNDOCUMENTED).
SERVED_AT = {"/records/{schemdId}/external/{externalId}": "/customObjects/records/{schemdId}/external/{externalId}"}


def fuzzed_operations() -> list[tuple[str, str]]:
    served = served_operations() - set(UNDOCUMENTED)
    out = []
    for path, ops in doc.document()["paths"].items():
        for method in ops:
            if method in doc.METHODS:
                url = SERVED_AT.get(path, path)
                if (method.upper(), doc.normalise(url)) in served or (method.upper(), doc.normalise(path)) in served:
                    out.append((method.upper(), path))
    return sorted(out)


OPERATIONS = fuzzed_operations()
STATS = {"cases": 0, "checked_bodies": 0}


@pytest.fixture(scope="module", autouse=True)
def figures() -> Any:
    yield
    print(f"\nAC fuzz: {len(OPERATIONS)} operations, {STATS['cases']} cases, "  # shown with -s
          f"{STATS['checked_bodies']} bodies checked against the document's schema")


def test_every_served_documented_operation_is_fuzzed() -> None:
    served = served_operations() - set(UNDOCUMENTED)
    covered = {(m, doc.normalise(SERVED_AT.get(p, p))) for m, p in OPERATIONS}
    assert served - covered == set()


class Client:
    """In-process calls through httpx's ASGI transport on one event loop (an app exception propagates)."""

    def __init__(self, app: Any) -> None:
        self.loop = asyncio.new_event_loop()
        self.http = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="https://fuzz.api-us1.com")

    def request(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        return self.loop.run_until_complete(self.http.request(method, url, **kwargs))

    def close(self) -> None:
        self.loop.run_until_complete(self.http.aclose())
        self.loop.close()


@pytest.fixture(scope="module")
def app_and_client() -> Any:
    app = create_app(api_token=TOKEN, enforce_rate_limit=False, seed=3)
    client = Client(app)
    yield app, client
    client.close()


def _strategy(method: str, path: str) -> st.SearchStrategy[Any]:
    op = SCHEMA[path][method]
    return st.one_of(op.as_strategy(generation_mode=GenerationMode.POSITIVE),
                     op.as_strategy(generation_mode=GenerationMode.NEGATIVE))


def _url(case: Any, world: dict[str, str], real_ids: bool) -> str:
    path = SERVED_AT.get(case.path, case.path)
    params = dict(case.path_parameters or {})
    for name, value in list(params.items()):
        params[name] = world_id(path, name, world) if real_ids else value
    for name, value in params.items():
        path = path.replace("{" + name + "}", str(value).replace("/", "%2F") or "0")
    return "/api/3" + str(path)


def world_id(path: str, name: str, world: dict[str, str]) -> str:
    if path.startswith("/customObjects"):
        return {"recordId": world["record"], "externalId": "doc-1"}.get(name, world["schema"])
    return world.get(path.strip("/").split("/")[0], "1")


def _send(client: Client, method: str, url: str, case: Any) -> Any:
    kwargs: dict[str, Any] = {"params": case.query or None, "headers": {"Api-Token": TOKEN}}
    body = case.body
    if case.body is not None and not isinstance(case.body, schemathesis.core.NotSet):
        if isinstance(body, bytes | str):
            kwargs["content"] = body
            kwargs["headers"]["Content-Type"] = case.media_type or "application/json"
        else:
            kwargs["content"] = json.dumps(body)
            kwargs["headers"]["Content-Type"] = "application/json"
    return client.request(method, url, **kwargs)


def check_response(method: str, path: str, status: int, content_type: str, body: bytes) -> bool:
    """No 5xx; a JSON body conforms to the document's schema for that status when there is one."""
    assert status < 500, (method, path, status, body[:500])
    responses = doc.operation(path, method)["responses"]
    content = (responses.get(str(status)) or {}).get("content") or {}
    schema = (content.get("application/json") or {}).get("schema")
    if not schema or "json" not in content_type:
        return False
    validator(path, method, status).validate(json.loads(body))
    return True


@cache
def validator(path: str, method: str, status: int) -> jsonschema.Draft202012Validator:
    content = doc.operation(path, method)["responses"][str(status)]["content"]["application/json"]
    return jsonschema.Draft202012Validator(conformant(content["schema"], path, method, status))


@pytest.mark.parametrize(("method", "path"), OPERATIONS, ids=[f"{m} {p}" for m, p in OPERATIONS])
def test_fuzz_operation(app_and_client: Any, method: str, path: str) -> None:
    app, client = app_and_client
    ac: ACState = app.state.ac

    @settings(max_examples=EXAMPLES, deadline=None, derandomize=not RANDOM, database=None,
              suppress_health_check=list(HealthCheck))
    @given(case=_strategy(method, path), real_ids=st.booleans())
    def run(case: Any, real_ids: bool) -> None:
        world = build_world(ac)
        response = _send(client, method, _url(case, world, real_ids), case)
        STATS["cases"] += 1
        if check_response(method, path, response.status_code, response.headers.get("content-type", ""),
                          response.content):
            STATS["checked_bodies"] += 1

    run()


# ---------------------------------------------------------------------------------------------- type confusion
WRONG_VALUES: dict[str, tuple[Any, ...]] = {"number": (7, -1, 2.5), "boolean": (True,), "null": (None,),
                                            "string": ("text", ""), "array": ([], [1]), "object": ({}, {"x": 1})}
BODY_IDS = {"contact": "1", "tag": "1", "list": "1", "field": "1", "automation": "1", "account": "1",
            "acfMeta": "1", "fieldValue": "1", "accountContact": "1", "schema": "", "record": "", "batch": ""}


def _nodes(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every position in a JSON document (the root included)."""
    out = [prefix]
    if isinstance(node, dict):
        for key, value in node.items():
            out += _nodes(value, (*prefix, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            out += _nodes(value, (*prefix, index))
    return out


def _kind(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    kinds: dict[type, str] = {str: "string", list: "array", dict: "object"}
    return kinds.get(type(value), "null")


def _at(node: Any, at: tuple[Any, ...]) -> Any:
    for key in at:
        node = node[key]
    return node


def _replace(node: Any, at: tuple[Any, ...], value: Any) -> Any:
    if not at:
        return value
    copy: Any = dict(node) if isinstance(node, dict) else list(node)
    copy[at[0]] = _replace(node[at[0]], at[1:], value)
    return copy


def body_operations() -> list[tuple[str, str]]:
    return [(m, p) for m, p in OPERATIONS if m in ("POST", "PUT", "PATCH")
            and doc.request_examples_or_empty(p, m.lower())]


def mutations(method: str, path: str) -> list[Any]:
    """The document's request examples with each position replaced by each value of another type."""
    from .test_openapi import with_ids

    out = []
    for example in doc.request_examples_or_empty(path, method.lower()):
        base = with_ids(example, BODY_IDS)
        out.append(base)
        for at in _nodes(base):
            current = _kind(_at(base, at))
            out += [_replace(base, at, wrong) for kind, values in WRONG_VALUES.items() if kind != current
                    for wrong in values]
    return out


BODY_OPERATIONS = body_operations()


@pytest.mark.parametrize(("method", "path"), BODY_OPERATIONS, ids=[f"{m} {p}" for m, p in BODY_OPERATIONS])
def test_type_confusion(app_and_client: Any, method: str, path: str) -> None:
    """Every documented body, each of its fields (and the body itself) given a value of every other JSON type:
    never a 5xx, and the answer conforms where the document gives its schema."""
    app, client = app_and_client
    ac: ACState = app.state.ac
    world, dirty = build_world(ac), False
    for body in mutations(method, path):
        if dirty:  # a refused write changes nothing, so only an accepted one needs a fresh world
            world = build_world(ac)
        url = "/api/3" + SERVED_AT.get(path, path)
        for name in ("id", "schemaId", "recordId", "externalId", "schemdId"):
            url = url.replace("{" + name + "}", world_id(path, name, world))
        response = client.request(method, url, content=json.dumps(body),
                                  headers={"Api-Token": TOKEN, "Content-Type": "application/json"})
        STATS["cases"] += 1
        dirty = response.status_code < 300
        if check_response(method, path, response.status_code, response.headers.get("content-type", ""),
                          response.content):
            STATS["checked_bodies"] += 1
