"""``python -m bench.fast_sandbox``: ``python -m sandbox`` with indexed look-ups in the AC stand-in.

The AC stand-in finds a contact by email, a contact's tag, an account by name and a contact's
account by scanning every row, so each imported row costs O(contacts) and a 100,000-contact
import O(n²) (hours, and requests blocked past the client's 30 s timeout). The benchmark measures
the product, not the stand-in, so this launcher adds dictionaries in front of those four
look-ups. Behaviour is unchanged: every index hit is checked against the rows themselves, writes
outside the wrapped methods are caught by a row-count check that rebuilds the index, and misses
fall back to the scan whenever the count disagrees. Not covered (the benchmark never does it):
renaming an account through ``PUT accounts/{id}`` (a later look-up of the new name misses).
The right fix is indexes in ``sandbox/activecampaign/state.py`` itself.
"""

from __future__ import annotations

import sys


def install() -> None:
    """Nothing to patch any more: the AC stand-in indexes these look-ups itself (sandbox/activecampaign/index.py,
    measured by ``python -m bench.ac_sandbox_scale``), and the methods this patched have changed. To be removed."""


def main(argv: list[str]) -> int:
    install()
    from sandbox.__main__ import main as sandbox_main

    return sandbox_main(argv)


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
