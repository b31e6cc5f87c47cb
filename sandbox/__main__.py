"""Start both stand-ins on loopback, sharing one clock.

    python -m sandbox --ac-port 8101 --dynamics-port 8102 [--seed-contacts N] [--seed S]
                      [--no-rate-limit] [--host 127.0.0.1] [--latency off|realistic]

Prints the two base URLs and their tokens, then serves until interrupted. ``--seed-contacts``
seeds N Dataverse contacts (with accounts, leads, opportunities); the AC side starts nearly empty.
``--latency realistic``: both stand-ins announce each answer's simulated latency in ``x-sandbox-latency``
(AC 150-300 ms, Dataverse 50-150 ms, each with a tail; the register entry "Latency" of each stand-in) for a
caller that keeps simulated time (``bench/simclock.py``); nothing sleeps. Also ``POST /_sandbox/latency``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import inspect
import sys
from typing import Any

import uvicorn

from sandbox.clock import SandboxClock
from sandbox.dynamics import create_app as create_dynamics_app

DYNAMICS_TOKEN = "sandbox-dynamics-token"
DYNAMICS_RATE = (6000, 300.0)  # documented default: 6,000 requests / 300 s per user (reference §5)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m sandbox", description=__doc__.split("\n\n")[0])
    parser.add_argument("--ac-port", type=int, required=True)
    parser.add_argument("--dynamics-port", type=int, required=True)
    parser.add_argument("--seed-contacts", type=int, default=0, help="Dataverse contacts to seed")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--no-rate-limit", action="store_true", help="turn off both services' rate limits")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--latency", choices=("off", "realistic"), default="off",
                        help="announce a realistic simulated latency per answer (x-sandbox-latency)")
    return parser


def _ac_app(clock: SandboxClock, seed: int, rate_limit: bool) -> tuple[Any, str] | None:
    """The AC stand-in and its key, or None while it is not importable."""
    try:
        from sandbox.activecampaign import create_app as create_ac_app
    except ImportError as exc:
        print(f"ActiveCampaign sandbox unavailable: {exc}", file=sys.stderr)
        return None
    params = inspect.signature(create_ac_app).parameters
    kwargs: dict[str, Any] = {"clock": clock, "seed": seed, "seed_contacts": 0}
    if "enforce_rate_limit" in params:
        kwargs["enforce_rate_limit"] = rate_limit
    token_param = params.get("api_token")
    token = str(token_param.default) if token_param is not None else "sandbox-ac-key"
    return create_ac_app(**kwargs), token


async def _serve(args: argparse.Namespace) -> None:
    clock = SandboxClock()
    limit, window = (None, 300.0) if args.no_rate_limit else DYNAMICS_RATE
    dynamics = create_dynamics_app(
        clock=clock, tokens=[DYNAMICS_TOKEN], seed=args.seed, seed_contacts=args.seed_contacts,
        rate_limit=limit, rate_window=window,
        execution_ms=None if args.no_rate_limit else 1_200_000.0, concurrency=None if args.no_rate_limit else 52,
    )  # fmt: skip
    servers: list[tuple[str, uvicorn.Server, str, str]] = []
    ac = _ac_app(clock, args.seed, not args.no_rate_limit)
    if args.latency == "realistic":
        dynamics.state.dataverse.latency.configure({"mode": "header"})
        if ac is not None:
            ac[0].state.ac.set_latency("realistic", answer="header")
    if ac is not None:
        config = uvicorn.Config(ac[0], host=args.host, port=args.ac_port, log_level="warning", lifespan="off")
        servers.append(("activecampaign", uvicorn.Server(config), f"http://{args.host}:{args.ac_port}", ac[1]))
    config = uvicorn.Config(dynamics, host=args.host, port=args.dynamics_port, log_level="warning", lifespan="off")
    servers.append(
        ("dynamics", uvicorn.Server(config), f"http://{args.host}:{args.dynamics_port}/api/data/v9.2/", DYNAMICS_TOKEN)
    )
    tasks = [asyncio.create_task(server.serve()) for _, server, _, _ in servers]
    while not all(server.started for _, server, _, _ in servers):
        if any(task.done() for task in tasks):
            break
        await asyncio.sleep(0.05)
    for name, server, url, token in servers:
        if server.started:
            print(f"{name}: {url} token={token}", flush=True)
    await asyncio.gather(*tasks)


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_serve(args))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
