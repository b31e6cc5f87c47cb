"""Write the API's OpenAPI document where the front end generates its types from.

    python -m devtools.openapi_dump [--check] [--out solution/src/api/openapi.json]

``--check`` writes nothing and exits 1 when the committed document differs from the API's, so a
route change without regenerating breaks the build instead of the page.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from devtools.azurite import ROOT

DEFAULT_OUT = ROOT / "solution" / "src" / "api" / "openapi.json"


def document() -> str:
    from sync_core.api import create_app

    return json.dumps(create_app().openapi(), indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m devtools.openapi_dump", description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--check", action="store_true", help="fail if the file differs instead of writing it")
    args = parser.parse_args(argv)
    text = document()
    if args.check:
        current = args.out.read_text(encoding="utf-8") if args.out.exists() else ""
        if current != text:
            print(f"{args.out} is not the API's current OpenAPI document: run `make openapi` and commit it",
                  file=sys.stderr)
            return 1
        print(f"{args.out}: up to date")
        return 0
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text, encoding="utf-8")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
