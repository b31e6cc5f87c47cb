"""``python -m sync_core``: the command line (``sync_core/cli/``)."""

from __future__ import annotations

import sys

from sync_core.cli import main

if __name__ == "__main__":
    sys.exit(main())
