"""A loopback HTTP server that records every request it gets (method, path, headers, body).

It answers 200 ``{}``, or, with ``redirect_to``, 302 to that URL (to show that no client follows a
redirect with its credential). Real sockets: what it records is what left the process.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx


@dataclass
class Captured:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes


class CaptureServer:
    def __init__(self, *, redirect_to: str | None = None) -> None:
        self.requests: list[Captured] = []
        self.redirect_to = redirect_to
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def _any(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                outer.requests.append(Captured(self.command, self.path, dict(self.headers.items()), body))
                if outer.redirect_to is not None:
                    self.send_response(302)
                    self.send_header("Location", outer.redirect_to + self.path)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                payload = json.dumps({}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _any

            def log_message(self, *args: Any) -> None:
                return None

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def __enter__(self) -> CaptureServer:
        self._thread.start()
        return self

    def __exit__(self, *args: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def seen(self, *values: str) -> list[str]:
        """Which of ``values`` appear anywhere in what the server received."""
        text = "\n".join(f"{r.method} {r.path} {r.headers} {r.body!r}" for r in self.requests)
        return [v for v in values if v in text]


class ForwardTo(httpx.AsyncBaseTransport):
    """Sends a request for an allowed host name to a capture server (deployed-mode tests)."""

    def __init__(self, capture: CaptureServer) -> None:
        self.capture = capture
        self.network = httpx.AsyncHTTPTransport()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        target = httpx.URL(self.capture.url)
        request.url = request.url.copy_with(scheme="http", host=target.host, port=target.port)
        return await self.network.handle_async_request(request)
