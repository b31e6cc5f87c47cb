"""Run a sandbox's live check against the real service (never in CI).

python -m sandbox.live_check dynamics [probe ...]   # env DATAVERSE_URL, DATAVERSE_TOKEN
python -m sandbox.live_check ac [probe ...]         # see sandbox/activecampaign/ASSUMPTIONS.md
"""

from __future__ import annotations

import importlib
import sys

TARGETS = {"dynamics": "sandbox.dynamics.live_check", "ac": "sandbox.activecampaign.live_check"}


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in TARGETS:
        print(f"usage: python -m sandbox.live_check {{{'|'.join(TARGETS)}}} [probe ...]", file=sys.stderr)
        return 2
    try:
        module = importlib.import_module(TARGETS[argv[0]])
    except ModuleNotFoundError as exc:
        print(f"{TARGETS[argv[0]]} is not available: {exc}", file=sys.stderr)
        return 2
    result: int = module.main(argv[1:])
    return result


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
