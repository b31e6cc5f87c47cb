"""A stand-in for a Dynamics organisation's web origin, for the local demo and the browser tests.

One origin serves what a browser meets in a real org: the Dataverse Web API (the sandbox's, as
is), the solution's web resources under the documented ``/WebResources/<name>`` path (from
``solution/dist``), and ``/main.aspx``, a page standing in for a record form: a command bar whose
"ActiveCampaign" command runs the solution's command script (it opens the panel in a side pane,
340 px), and optionally the panel embedded in a form section, the way a form component is. The
pages reach the Xrm stub (``pages_host/xrm-stub.js``) through their parent window, as in Dynamics.

The browser is signed in to the org by a cookie set with the page (as Dynamics' own session is);
the host adds the sandbox's token to the Web API calls that carry it. Environment variable
definitions (a table the sandbox does not have) are answered here from the demo's settings.
"""

from __future__ import annotations

import asyncio
import html
import json
import mimetypes
import re
import secrets
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, JSONResponse, Response
from starlette.routing import Mount, Route
from starlette.types import ASGIApp, Receive, Scope, Send

from devtools.azurite import ROOT

DIST = ROOT / "solution" / "dist"
HOST_FILES = Path(__file__).parent / "pages_host"
ORG_COOKIE = "acds_org_session"
_SETTINGS_FILTER = re.compile(r"startswith\(schemaname,'([A-Za-z0-9_]+)'\)")


class OrgSession:
    """The browser's org session cookie → which systemuser it signed in as."""

    def __init__(self) -> None:
        self.sessions: dict[str, str] = {}

    def open(self, user_id: str) -> str:
        sid = secrets.token_urlsafe(24)
        self.sessions[sid] = user_id
        return sid


class _SessionAuth:
    """Adds the sandbox's bearer token to Web API calls that come with an org session cookie."""

    def __init__(self, app: ASGIApp, session: OrgSession, token: str) -> None:
        self.app, self.session, self.token = app, session, token

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            headers = dict(scope["headers"])
            cookies = headers.get(b"cookie", b"").decode("latin-1")
            sid = next((c.split("=", 1)[1] for c in cookies.split("; ") if c.startswith(f"{ORG_COOKIE}=")), None)
            if b"authorization" not in headers and sid in self.session.sessions:
                scope = dict(scope)
                scope["headers"] = [*scope["headers"], (b"authorization", f"Bearer {self.token}".encode())]
        await self.app(scope, receive, send)


def settings_rows(settings: Mapping[str, str], prefix: str) -> list[dict[str, Any]]:
    """The environment variable definitions as the Web API would answer the pages' query."""
    return [{"schemaname": name, "defaultvalue": None, "environmentvariabledefinition_environmentvariablevalue":
             [{"value": value}]} for name, value in sorted(settings.items()) if name.startswith(prefix)]


def create_org_host(dataverse_app: ASGIApp, dataverse: Any, *, settings: Mapping[str, str], token: str,
                    dist: Path = DIST) -> Starlette:
    """``dataverse`` is the sandbox's state (users for the host page); ``settings`` the acds_ variables."""
    session = OrgSession()

    async def web_resource(request: Request) -> Response:
        name = request.path_params["name"]
        path = await asyncio.to_thread(_web_resource_file, dist, name)
        if path is None:
            return JSONResponse({"error": {"code": "0x80040217", "message": f"web resource {name} not found"}},
                                status_code=404)
        media = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        return FileResponse(path, media_type=media, headers={"Cache-Control": "no-store"})

    async def variables(request: Request) -> Response:
        if ORG_COOKIE not in request.cookies or request.cookies[ORG_COOKIE] not in session.sessions:
            return JSONResponse({"error": {"code": "0x80040220", "message": "not signed in to the org"}},
                                status_code=401)
        m = _SETTINGS_FILTER.search(request.query_params.get("$filter", ""))
        if m is None:
            return JSONResponse({"error": {"code": "0x80060888",
                                           "message": "the stub answers startswith(schemaname,…) only"}},
                                status_code=400)
        return JSONResponse({"value": settings_rows(settings, m.group(1))})

    async def stub_script(_: Request) -> Response:
        return FileResponse(HOST_FILES / "xrm-stub.js", media_type="text/javascript")

    async def main_aspx(request: Request) -> Response:
        q = request.query_params
        login = q.get("user", "")
        user = next((u for u in dataverse.rows["systemuser"].values()
                     if str(u.get("domainname", "")).lower() == login.lower()), None)
        if user is None:
            return HTMLResponse(f"<p>No Dynamics user {html.escape(login)} in this org.</p>", status_code=404)
        record = _record(dataverse, q.get("etn", ""), q.get("id", ""))
        page = host_page(user, record, layout=q.get("layout", "pane"), web_resource=q.get("webresource"))
        response = HTMLResponse(page)
        response.set_cookie(ORG_COOKIE, session.open(str(user["systemuserid"])), httponly=True, samesite="lax")
        return response

    routes = [
        Route("/WebResources/{name:path}", web_resource),
        Route("/api/data/v9.2/environmentvariabledefinitions", variables),
        Route("/_host/xrm-stub.js", stub_script),
        Route("/main.aspx", main_aspx),
        Mount("/", app=_SessionAuth(dataverse_app, session, token)),
    ]
    app = Starlette(routes=routes)
    app.state.session = session
    return app


def _web_resource_file(dist: Path, name: str) -> Path | None:
    """The built file of a web resource under the publisher prefix; nothing outside ``dist``."""
    path = (dist / name).resolve()
    if not name.startswith("acds_/") or not path.is_file() or dist.resolve() not in path.parents:
        return None
    return path


def _record(dataverse: Any, entity: str, record_id: str) -> dict[str, Any] | None:
    if entity not in ("contact", "lead"):
        return None
    row = dataverse.rows[entity].get(record_id.strip("{}").lower())
    if row is None:
        return None
    return {"entity": entity, "id": record_id.strip("{}").lower(),
            "name": row.get("fullname") or f"{row.get('firstname') or ''} {row.get('lastname') or ''}".strip()}


def host_page(user: Mapping[str, Any], record: Mapping[str, Any] | None, *, layout: str,
              web_resource: str | None) -> str:
    host = {"userId": str(user["systemuserid"]), "userName": str(user.get("fullname") or ""),
            "record": dict(record) if record else None}
    title = html.escape(str(record["name"]) if record else "ActiveCampaign")
    if web_resource:  # a sitemap entry: the web resource fills the app's content area
        src = f"/WebResources/{html.escape(web_resource)}"
        body = f"<iframe class='content' title='ActiveCampaign' src='{src}'></iframe>"
    elif record is None:
        body = "<p>No such lead or contact.</p>"
    else:
        section = ""
        if layout == "section":
            data = f"typename={record['entity']}&id={record['id']}"
            src = f"/WebResources/acds_/panel/index.html?data={html.escape(_quote(data))}"
            section = ("<section class='form-section' aria-labelledby='acds-section'>"  # a form section's label
                       "<h2 id='acds-section'>ActiveCampaign</h2>"
                       f"<iframe title='ActiveCampaign panel' src='{src}'></iframe></section>")
        body = (f"<div class='command-bar' role='toolbar' aria-label='Commands'>"
                f"<button type='button' id='acds-open'>ActiveCampaign</button></div>"
                f"<div class='form'><h1>{title}</h1><p>{html.escape(str(record['entity']).title())}</p>{section}</div>")
    return (
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>"
        f"<title>{title} - Dynamics 365 (local stand-in)</title><style>{_CSS}</style>"
        f"<script>window.__acdsHost = {json.dumps(host)};</script>"
        "<script src='/_host/xrm-stub.js'></script>"
        "<script src='/WebResources/acds_/commands/commands.js'></script>"
        f"</head><body><div class='app'><main class='main'>{body}</main>"
        "<aside id='side-panes' aria-label='Side panes'></aside></div>"
        "<script>var b = document.getElementById('acds-open'); if (b) b.addEventListener('click', function () {"
        " window.acds_openPanel(window.__acdsFormContext); });</script></body></html>"
    )


def _quote(text: str) -> str:
    from urllib.parse import quote

    return quote(text, safe="")


_CSS = """
html, body { margin: 0; height: 100%; font-family: 'Segoe UI', system-ui, sans-serif; background: #faf9f8; }
.app { display: flex; height: 100vh; }
.main { flex: 1; overflow: auto; min-width: 0; }
.command-bar { background: #fff; border-bottom: 1px solid #e1dfdd; padding: 6px 12px; }
.command-bar button { font: inherit; padding: 4px 10px; }
.form { padding: 12px 20px; }
.form h1 { font-size: 20px; margin: 4px 0; }
.form-section { background: #fff; border: 1px solid #e1dfdd; border-radius: 4px; margin-top: 12px; }
.form-section h2 { font-size: 14px; font-weight: 600; margin: 0; padding: 8px 12px; border-bottom: 1px solid #e1dfdd; }
.form-section iframe { border: 0; width: 100%; height: 900px; display: block; }
.content { border: 0; width: 100%; height: 100%; display: block; }
#side-panes { display: flex; }
.side-pane { background: #fff; border-left: 1px solid #e1dfdd; display: flex; flex-direction: column; }
.side-pane header { padding: 8px 12px; font-weight: 600; border-bottom: 1px solid #e1dfdd; }
.side-pane iframe { border: 0; flex: 1; width: 100%; }
"""
