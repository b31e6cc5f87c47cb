"""``serve``: the HTTP API under uvicorn; refuses to start without storage or sign-in settings."""

from __future__ import annotations

import argparse

import uvicorn

from sync_core.api import create_app
from sync_core.api.auth import validator_from_env
from sync_core.cli._errors import CliError, Exit
from sync_core.cli._parsers import Subcommands
from sync_core.settings import Settings


def register(sub: Subcommands) -> None:
    serve = sub.add_parser("serve", help="serve the HTTP API under uvicorn (interactive docs at /api/docs)")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=7071)
    serve.set_defaults(plain=_serve)


def check_serve_settings() -> None:
    """What the API needs before its first request: storage and a way to validate tokens."""
    problem = Settings.from_env().storage_problem()
    if problem is not None:
        raise CliError(f"cannot serve: {problem}", Exit.NOT_CONFIGURED)
    try:
        validator_from_env()
    except RuntimeError as e:
        raise CliError(f"cannot serve: {e}", Exit.NOT_CONFIGURED) from None


def _serve(args: argparse.Namespace) -> int:
    check_serve_settings()
    print(f"serving the API on http://{args.host}:{args.port}/api/ (interactive docs: "
          f"http://{args.host}:{args.port}/api/docs); Ctrl-C stops it", flush=True)
    uvicorn.run(create_app(), host=args.host, port=args.port, log_level="info")
    return 0
