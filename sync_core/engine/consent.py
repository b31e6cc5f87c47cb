"""Opt-outs from Dynamics to ActiveCampaign: what a pushed record's consent columns ask of AC.

An opt-out on either side wins and the sync never re-subscribes anyone: a record whose Dynamics opt-out
columns (``consent.dynamics_columns``) are set is unsubscribed from the connection's lists (status 2,
never deleted); a person the link knows opted out (on either side) is never put back on a list, also
when a later edit of another field is pushed. Only ``consent.opt_in = "from_dynamics"`` lets a Dynamics
opt-in (the columns cleared) travel, as a deliberate re-subscribe (``sourceid`` 4).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

from sync_core.engine import history
from sync_core.engine.pass_state import Pass
from sync_core.model.state import EntityName, RecordLink

Decision = Literal["unsubscribe", "resubscribe"]
UNSUBSCRIBED, BOUNCED, ACTIVE = 2, 3, 1


def active(p: Pass) -> bool:
    """Consent travels through the connection's lists: without lists nobody is subscribed, nothing to read."""
    return bool(p.connection.push.list_ids)


def columns(p: Pass) -> list[str]:
    return list(p.connection.consent.dynamics_columns)


async def readable_columns(p: Pass, entity: EntityName) -> list[str]:
    """The opt-out columns the table has (a table without one has no opt-out to read there)."""
    if not active(p):
        return []
    meta = await p.dv.entity_metadata(entity)
    return [c for c in columns(p) if c in meta.attributes]


def opted_out_in_dynamics(p: Pass, record: Mapping[str, Any]) -> bool:
    return any(record.get(c) is True for c in columns(p))


def decide(p: Pass, link: RecordLink | None, out_now: bool) -> Decision | None:
    """What AC needs for this record: an opt-out not yet carried out, or an opt-in the setting lets travel."""
    if not active(p):
        return None
    was = link.opted_out if link is not None else False
    if out_now and not was:
        return "unsubscribe"
    if (not out_now and was and link is not None and link.dynamics_opt_out is True
            and p.connection.consent.opt_in == "from_dynamics"):
        return "resubscribe"
    return None


def pending(p: Pass, link: RecordLink | None, out_now: bool, decision: Decision | None) -> bool:
    """Whether the link must be written although no mapped field changed."""
    if not active(p):
        return False
    return decision is not None or (link is not None and link.dynamics_opt_out != out_now)


def note(p: Pass, link: RecordLink, out_now: bool, decision: Decision | None) -> None:
    """The link after the record's consent was carried out (the AC write succeeded)."""
    if not active(p):
        return
    before = link.opted_out
    if decision == "resubscribe":
        link.opted_out = False
    elif out_now:
        link.opted_out = True
    link.dynamics_opt_out = out_now
    if link.opted_out != before:
        history.add(link, at=p.clock.now(), run_id=p.run.run_id, direction="push",
                    why="opt-in" if decision == "resubscribe" else "opt-out",
                    changes={"opted_out": (before, link.opted_out)})


async def carry_out(p: Pass, entity: str, ac_id: str, decision: Decision | None) -> None:
    """The list statuses a decision asks for, on every list of the connection."""
    if decision is None:
        return
    for list_id in p.connection.push.list_ids:
        if decision == "unsubscribe":
            await p.ac.set_contact_list_status(ac_id, str(list_id), UNSUBSCRIBED)
        else:
            await p.ac.set_contact_list_status(ac_id, str(list_id), ACTIVE, resubscribe=True)
    p.count(entity, "opted_out" if decision == "unsubscribe" else "opted_in")


async def subscribe_new(p: Pass, ac_id: str, *, opted_out: bool) -> bool:
    """A person new to the sync: onto the lists (unsubscribed when they opted out), but never back onto a
    list an existing AC contact of theirs left (unsubscribed or bounced). True: they had left one."""
    push = p.connection.push
    if not push.list_ids:
        return False
    left: set[str] = set()
    if push.subscribe and not opted_out:
        left = {str(m.get("list")) for m in await p.ac.list_contact_lists(ac_id)
                if str(m.get("status")) in (str(UNSUBSCRIBED), str(BOUNCED))}
    for list_id in push.list_ids:
        if str(list_id) in left:
            continue
        await p.ac.set_contact_list_status(ac_id, str(list_id), 1 if push.subscribe and not opted_out else 2)
    return bool(left)
