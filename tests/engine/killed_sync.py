"""``python -m tests.engine.killed_sync <sync arguments>``: the command line's ``sync``, SIGKILLed by itself right
after Dataverse answered a create of a record on request (``ownerid@odata.bind`` in the body), before the
link write. A real process death: nothing of the pass's own cleanup runs."""

from __future__ import annotations

import os
import signal
import sys
from typing import Any

from sync_core.cli import main
from sync_core.dynamics._records import RecordsApi

_create = RecordsApi.create


async def _create_then_die(self: RecordsApi, entity_set: str, body: dict[str, Any], **kw: Any) -> Any:
    created = await _create(self, entity_set, body, **kw)
    if "ownerid@odata.bind" in body:
        os.kill(os.getpid(), signal.SIGKILL)
    return created


RecordsApi.create = _create_then_die  # type: ignore[method-assign]

if __name__ == "__main__":
    sys.exit(main())
