"""One linked pair, field by field: what changed on which side since the last sync, and what to do.

The link holds each side's last synced value of every mapped field. A field changed on one side
travels if its direction lets it; changed on both, it is a conflict and the rule decides — the
field's rule, else the entity's: ``newest_wins`` by each side's modified time (AC ``udate`` against
Dynamics ``modifiedon``), ``dynamics_wins``, ``activecampaign_wins``. A field that may travel one way
only never conflicts: a push-only field edited in AC stays as AC has it (it is not pulled) and a
pull-only field edited in Dynamics stays until AC changes it. Values are compared in each side's
stored form (``ac_values.same_ac``), so an echo or a normalisation is no change.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sync_core.engine.ac_values import same_ac
from sync_core.model.config import ConflictRule, EntityMapping, FieldMapping
from sync_core.model.state import RecordLink, Side


@dataclass(slots=True)
class Decided:
    """A field changed on both sides: who won, by which rule."""

    field: FieldMapping
    dynamics_value: Any
    ac_value: Any
    rule: ConflictRule
    winner: Side


@dataclass
class Reconciled:
    pull: dict[str, Any] = field(default_factory=dict)
    """Dynamics column → the value to write there (Dynamics form)."""
    pulled_ac: dict[str, Any] = field(default_factory=dict)
    """AC key → the AC value those columns came from (the link's new last value)."""
    push: list[str] = field(default_factory=list)
    """Dynamics columns whose Dynamics value should go to AC."""
    conflicts: list[Decided] = field(default_factory=list)
    in_step: dict[str, Any] = field(default_factory=dict)
    """AC key → AC value of fields changed on both sides to one value: nothing to write, the link catches up."""
    in_step_dynamics: dict[str, Any] = field(default_factory=dict)
    """The same fields' Dynamics column → value."""


def _winner(rule: ConflictRule, dynamics_time: datetime | None, ac_time: datetime | None) -> Side:
    if rule == "dynamics_wins":
        return "dynamics"
    if rule == "activecampaign_wins":
        return "activecampaign"
    if dynamics_time is None or ac_time is None:  # newest wins, one time unknown: the known one is newer
        return "activecampaign" if ac_time is not None else "dynamics"
    return "activecampaign" if ac_time > dynamics_time else "dynamics"


def reconcile(mapping: EntityMapping, fields: list[FieldMapping], link: RecordLink,
              dynamics_now: Mapping[str, Any], ac_now: Mapping[str, Any], *,
              to_dynamics: Callable[[FieldMapping, Any], Any], dynamics_time: datetime | None,
              ac_time: datetime | None) -> Reconciled:
    """``dynamics_now`` (column → value) and ``ac_now`` (AC key → value) hold the fields each side was read for."""
    out = Reconciled()
    for f in fields:
        push_ok, pull_ok = mapping.flows(f)
        col, key = f.dynamics, f.activecampaign
        dyn_changed = col in dynamics_now and dynamics_now[col] != link.dynamics_values.get(col)
        ac_changed = key in ac_now and not same_ac(key, ac_now[key], link.ac_values.get(key))
        if not ac_changed:
            continue  # a Dynamics-only change is the push's business (and it reads Dynamics itself)
        if not pull_ok:
            continue  # push-only: AC keeps its value, not pulled
        pulled = to_dynamics(f, ac_now[key])
        if dyn_changed and dynamics_now[col] == pulled:
            out.in_step[key] = ac_now[key]  # both sides made the same change
            out.in_step_dynamics[col] = pulled
            continue
        if dyn_changed and push_ok:
            rule = f.conflict or mapping.conflict
            winner = _winner(rule, dynamics_time, ac_time)
            out.conflicts.append(Decided(f, dynamics_now[col], ac_now[key], rule, winner))
            if winner == "dynamics":
                out.push.append(col)
                continue
        out.pull[col] = pulled
        out.pulled_ac[key] = ac_now[key]
    return out
