"""The ActiveCampaign accounts a pass pulls into Dynamics, found by a scan.

AC documents no filter or order by update time for accounts, so the changed ones are found by reading
them all in AC's order (100 a call) and comparing ``updatedTimestamp`` with the link's: at most
:data:`SCAN_PER_PASS` accounts a pass, resumed from where the last pass stopped (the cursor's
``position``), starting over once the end is reached. A changed account's custom-field values cost one
read; an account whose time is the one recorded after the sync's own write is an echo.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sync_core.engine.ac_changes import AcChange, pulled_fields
from sync_core.engine.ac_values import account_ac_values
from sync_core.engine.mapping import parse_ac_time
from sync_core.engine.pass_state import Pass
from sync_core.model.state import AcCursor, RecordLink

STREAM = "scan"
SCAN_PER_PASS = 5_000


@dataclass
class AccountScan:
    changes: list[AcChange] = field(default_factory=list)
    cursor: AcCursor | None = None
    next_position: int | None = None
    """Where the next pass goes on (``None``: the scan reached the end and starts over)."""


async def read(p: Pass) -> AccountScan:
    scan = AccountScan()
    if not p.connection.entities.of("account").pulls or "account" in p.outcome.unavailable:
        return scan
    fields = pulled_fields(p, "account")
    if not fields:
        return scan
    cursor = await p.store.get_ac_cursor(p.cid, "account", stream=STREAM) or AcCursor(
        entity="account", stream=STREAM, phase="delta")
    scan.cursor = cursor
    links: dict[str, RecordLink] = {}
    async for link in p.store.iter_links(p.cid, "account"):
        if link.ac_id:
            links[link.ac_id] = link
    start = int(cursor.position or 0)
    read_count = 0
    custom = any(f.activecampaign.startswith("field:") for f in fields)
    async for account in p.ac.iter_accounts(offset=start):
        read_count += 1
        linked = links.get(str(account.get("id")))
        if linked is not None:
            stamp = parse_ac_time(account.get("updatedTimestamp"))
            if stamp is None or stamp != linked.ac_modified:
                values = await _values(p, account, custom, fields)
                scan.changes.append(AcChange(linked, values, stamp))
                p.count("account", "ac_changed")
            else:
                p.count("account", "skipped_echo")
        if read_count >= SCAN_PER_PASS or p.time.out():
            scan.next_position = start + read_count
            break
    p.count("account", "ac_scanned", read_count)
    return scan


async def _values(p: Pass, account: dict[str, Any], custom: bool, fields: list[Any]) -> dict[str, Any]:
    values: dict[str, Any] | None = None
    if custom:
        values = {}
        for v in await p.ac.list_account_field_values(str(account["id"])):
            fid = v.get("customFieldId", v.get("accountCustomFieldMetumId"))
            values[str(fid)] = v.get("fieldValue")
    return account_ac_values(account, values, fields)


async def commit(p: Pass, scan: AccountScan) -> None:
    if scan.cursor is None:
        return
    scan.cursor.position = str(scan.next_position) if scan.next_position is not None else None
    scan.cursor.run_started_at = p.run.started_at
    scan.cursor = await p.sink.save_cursor(scan.cursor)
