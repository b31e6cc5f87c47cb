"""Running one command: the local settings file, logging, the runtime, and failures as short messages."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import os
import sys
from collections.abc import Awaitable, Callable, MutableMapping
from pathlib import Path

from sync_core.cli._errors import CliError, Exit, explain
from sync_core.model.codes import Service
from sync_core.model.config import ConnectionConfig
from sync_core.runtime import Runtime, build_runtime

RuntimeHandler = Callable[[Runtime, argparse.Namespace], Awaitable[int]]
PlainHandler = Callable[[argparse.Namespace], int]
LOCAL_SETTINGS = ".local/settings.json"


def local_settings_path(env: MutableMapping[str, str] | None = None) -> Path:
    e = os.environ if env is None else env
    return Path(e.get("SYNC_LOCAL_SETTINGS") or LOCAL_SETTINGS)


def load_local_settings(env: MutableMapping[str, str] | None = None) -> None:
    """The settings ``local up`` wrote, under whatever the environment sets itself (never in Azure)."""
    e = os.environ if env is None else env
    if e.get("WEBSITE_INSTANCE_ID") or e.get("WEBSITE_SITE_NAME"):
        return
    path = local_settings_path(e)
    try:
        values = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return
    except (OSError, ValueError) as err:
        raise CliError(f"{path}: unreadable ({err}); delete it or run `python -m sync_core local up` again",
                       Exit.NOT_CONFIGURED) from None
    for name, value in values.items() if isinstance(values, dict) else ():
        if isinstance(value, str):
            e.setdefault(name, value)


def _logging(verbose: bool) -> None:
    """``-v`` (and ``serve``): the log on stderr. Otherwise none: the command says what failed, once, and
    the progress display takes the lines it shows from the log itself."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    handler.setLevel(logging.INFO if verbose else logging.CRITICAL + 1)
    root = logging.getLogger()
    root.addHandler(handler)
    root.setLevel(logging.INFO if verbose else logging.WARNING)
    logging.getLogger("azure").setLevel(logging.WARNING)  # every storage request and its headers: not for -v


def run(args: argparse.Namespace) -> int:
    """Run the parsed command; an expected failure prints ``error: …`` and returns its exit code."""
    _logging(bool(getattr(args, "verbose", False)) or args.command == "serve")
    try:
        load_local_settings()
        plain: PlainHandler | None = getattr(args, "plain", None)
        if plain is not None:
            return plain(args)
        return asyncio.run(_with_runtime(args))
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return Exit.INTERRUPTED
    except Exception as e:
        explained = explain(e, cid=getattr(args, "connection", None))
        if explained is None:
            raise
        return fail(explained)


def fail(error: CliError) -> int:
    print(f"error: {error.message}", file=sys.stderr)
    return int(error.code)


async def _with_runtime(args: argparse.Namespace) -> int:
    handler: RuntimeHandler = args.run
    runtime = build_runtime()
    try:
        await runtime.ready()
        try:
            return await handler(runtime, args)
        except Exception as e:
            cid = getattr(args, "connection", None)
            explained = explain(e, urls=await _urls(runtime, cid), cid=cid)
            if explained is None:
                raise
            return fail(explained)
    finally:
        with contextlib.suppress(Exception):
            await runtime.close()


async def _urls(runtime: Runtime, cid: str | None) -> dict[Service, str]:
    """The hosts of the connection a failure came from, for the message."""
    if not cid:
        return {}
    with contextlib.suppress(Exception):
        config = await runtime.store.get_config(cid)
        if config is not None:
            return urls_of(config)
    return {}


def urls_of(config: ConnectionConfig) -> dict[Service, str]:
    return {Service.ACTIVECAMPAIGN: config.activecampaign.api_url, Service.DYNAMICS: config.dynamics.environment_url}


async def connection(runtime: Runtime, cid: str) -> ConnectionConfig:
    """The saved connection, or a not-found failure that says how to create one."""
    config = await runtime.store.get_config(cid)
    if config is None:
        known = await _known(runtime)
        hint = f" (known: {', '.join(known)})" if known else ""
        raise CliError(f"no connection {cid}{hint}: create it with `python -m sync_core config apply <file>`",
                       Exit.NOT_FOUND)
    return config


async def _known(runtime: Runtime) -> list[str]:
    with contextlib.suppress(Exception):
        return sorted(c.connection_id for c in await runtime.store.list_configs())[:10]
    return []
