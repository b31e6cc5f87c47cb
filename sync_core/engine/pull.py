"""ActiveCampaign → Dynamics for one entity: the changes the AC read found, written to the linked records.

Both sides are read before either is written: the records are read again from Dynamics (by id, 50 a
query) and every field is reconciled against the link's last synced values (``reconcile``). What AC
changed (and won) is written with ``$batch`` — only the changed columns, ``If-Match`` on the record's
``@odata.etag`` from that read (a PATCH without it is an upsert, and would recreate a record deleted
in Dynamics), continue-on-error, the batch size halved when Dataverse throttles or times out. A record
that changed meanwhile (412) is read and reconciled again; one deleted in Dynamics is unlinked, never
recreated; one Dataverse refuses is a record error, retried; the others in its batch land.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sync_core.dynamics import BatchOperation, BatchResult, EntityMetadata
from sync_core.engine import dynamics_reads
from sync_core.engine.ac_changes import AcChange, pulled_fields
from sync_core.engine.ac_values import NotConvertible, same_ac, to_dynamics
from sync_core.engine.mapping import dynamics_values, parse_ac_time, select_columns
from sync_core.engine.pass_state import ENTITY_SET, PRIMARY_ID, Pass
from sync_core.engine.pull_write import PullItem, PullWriter
from sync_core.engine.reconcile import Reconciled, reconcile
from sync_core.engine.sink import Action, Failure, Plan
from sync_core.model.codes import ErrorCode
from sync_core.model.config import FieldMapping
from sync_core.model.errors import RateLimitedError, TransientError
from sync_core.model.state import ConflictRecord, EntityName

PLAN_CHUNK = 1000
"""Changes planned (read again, reconciled, written) at a time: one full ``$batch``."""
BATCH_START, BATCH_MIN, BATCH_MAX = 1000, 10, 1000
ACCOUNT_KEY = "account"
STATE = "statecode"
"""Read with every pulled record: 0 is active; an inactive one may be read-only (register inactive_update)."""
LOOKUP_BIND = {"parentcustomerid": "parentcustomerid_account"}
"""A lookup column → its navigation property for an account (``@odata.bind``)."""


@dataclass
class BatchSize:
    """One connection's ``$batch`` size for this pass: halved on throttling or time-outs, never above 1,000."""

    size: int = BATCH_START


async def pull_entity(p: Pass, entity: EntityName, changes: Sequence[AcChange], *, batch: BatchSize,
                      attempt: int = 0) -> None:
    fields = pulled_fields(p, entity)
    if not changes or not fields:
        return
    meta = await p.dv.entity_metadata(entity)
    select = select_columns(fields, [PRIMARY_ID[entity], "modifiedon", STATE])
    open_errors = {e.record_id for e in await p.store.list_errors(p.cid, entity=entity) if e.side == "dynamics"}
    for start in range(0, len(changes), PLAN_CHUNK):
        chunk = list(changes[start:start + PLAN_CHUNK])
        records = {str(r[PRIMARY_ID[entity]]): r for r in await dynamics_reads.read_by_ids(
            p, entity, select, [c.link.dynamics_id for c in chunk], chunk_size=50)}
        p.caches.inactive.update((entity, did) for did, r in records.items() if not active(r))
        accounts = await _account_ids(p, chunk)
        plan = _plan(p, entity, fields, meta, chunk, records, accounts)
        writer = PullWriter(entity, batch_runner=lambda ops: run_batch(p, ops, batch), open_errors=open_errors)
        plan.writer = writer
        await p.sink.apply(p, plan)
        if writer.stale and attempt < 2:  # changed in Dynamics while we wrote: read again, decide again
            await pull_entity(p, entity, writer.stale, batch=batch, attempt=attempt + 1)


def _plan(p: Pass, entity: EntityName, fields: list[FieldMapping], meta: EntityMetadata, chunk: list[AcChange],
          records: Mapping[str, Mapping[str, Any]], accounts: Mapping[str, str]) -> Plan:
    mapping = p.connection.entities.of(entity)
    plan = Plan(entity)

    def convert(f: FieldMapping, value: Any) -> Any:
        if f.activecampaign == ACCOUNT_KEY:
            return accounts.get(str(value)) if value else None
        return to_dynamics(f, value, meta.attributes.get(f.dynamics))

    for ch in chunk:
        did, label = ch.link.dynamics_id, ch.link.email or ch.link.dynamics_id
        record = records.get(did)
        if record is None:
            plan.actions.append(Action("unlink_deleted", did, label, item=ch))
            continue
        if _superseded(p, ch, record):
            # An inactive (qualified or disqualified) lead whose AC contact is also an active contact's: the
            # contact is the person now; the lead keeps what it had. The link learns the udate.
            item = PullItem(change=ch, record=record, reconciled=Reconciled(), conflicts=[], body={})
            plan.actions.append(Action("catch_up", did, label, "inactive lead", item=item))
            p.count(entity, "skipped_inactive_lead")
            continue
        ac_now = {k: v for k, v in ch.ac_values.items() if k != ACCOUNT_KEY or not v or str(v) in accounts}
        try:
            r = reconcile(mapping, fields, ch.link, dynamics_values(record, fields), ac_now, to_dynamics=convert,
                          dynamics_time=parse_ac_time(record.get("modifiedon")), ac_time=ch.udate)
        except NotConvertible as e:
            plan.failures.append(Failure(entity, did, ErrorCode.REFUSED, str(e), side="dynamics"))
            continue
        conflicts = [ConflictRecord(
            at=p.clock.now(), run_id=p.run.run_id, entity=entity, dynamics_id=did, ac_id=ch.link.ac_id,
            field=d.field.dynamics, dynamics_value=d.dynamics_value, ac_value=d.ac_value,
            dynamics_time=parse_ac_time(record.get("modifiedon")), ac_time=ch.udate, rule=d.rule, winner=d.winner)
            for d in r.conflicts]
        item = PullItem(change=ch, record=record, reconciled=r, conflicts=conflicts,
                        body=_patch_body(r.pull))
        if not (r.pull or r.conflicts or r.in_step) and _as_last_synced(ch):
            # udate moved but every mapped value is what the sync last synced: its own later write (a tag
            # under the register's udate_on_tag_change reading) — an echo; the link learns the udate.
            p.count(entity, "skipped_echo")
        why = f"conflict:{conflicts[0].rule}" if conflicts else ""
        plan.actions.append(Action("pull" if r.pull else "catch_up", did, label, why, item=item))
        plan.conflicts.extend(conflicts)
    return plan


def active(record: Mapping[str, Any]) -> bool:
    return record.get(STATE) in (None, 0)


def _superseded(p: Pass, ch: AcChange, record: Mapping[str, Any]) -> bool:
    """An inactive lead sharing its AC contact with a contact this pass did not read as inactive (the
    contact's pull reads it first, when contacts pull; a linked contact is otherwise taken as active)."""
    return (ch.person_contact is not None and not active(record)
            and ("contact", ch.person_contact) not in p.caches.inactive)


def _as_last_synced(ch: AcChange) -> bool:
    return all(same_ac(k, v, ch.link.ac_values.get(k)) for k, v in ch.ac_values.items())


def _patch_body(pull: Mapping[str, Any]) -> dict[str, Any]:
    body: dict[str, Any] = {}
    for col, value in pull.items():
        nav = LOOKUP_BIND.get(col)
        if nav is not None:
            if value:  # a contact leaving its account in AC keeps it in Dynamics: unbinding is not a PATCH
                body[f"{nav}@odata.bind"] = f"/accounts({value})"
        else:
            body[col] = value
    return body


async def _account_ids(p: Pass, chunk: Sequence[AcChange]) -> dict[str, str]:
    """AC account id → the linked Dynamics account, for the changes that name an account."""
    out: dict[str, str] = {}
    for ac_id in {str(c.ac_values[ACCOUNT_KEY]) for c in chunk if c.ac_values.get(ACCOUNT_KEY)}:
        links = await p.store.get_links_by_ac(p.cid, "account", ac_id)
        if links:
            out[ac_id] = links[0].dynamics_id
    return out


async def run_batch(p: Pass, ops: list[BatchOperation], batch: BatchSize) -> list[BatchResult]:
    """The operations in ``$batch`` calls of the current size; a throttled or timed-out call is tried
    again at half the size (its operations are conditional, so one that landed answers 412 the second
    time and is reconciled, never written twice)."""
    results: list[BatchResult] = []
    i = 0
    while i < len(ops):
        chunk = ops[i:i + batch.size]
        try:
            results.extend(await p.dv.execute_batch(chunk, continue_on_error=True))
        except (RateLimitedError, TransientError):
            if batch.size <= BATCH_MIN:
                raise
            batch.size = max(BATCH_MIN, batch.size // 2)
            p.count("dynamics", "batch_size_halved")
            continue
        i += len(chunk)
    return results


def entity_set(entity: EntityName) -> str:
    return ENTITY_SET[entity]
