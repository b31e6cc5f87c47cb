"""What one pass does, in the order of DESIGN.md §3.

Outstanding bulk imports and the ActiveCampaign read come before any write (both sides are read
before either is written), then the entities in the order accounts → contacts and leads →
opportunities. Every pass moves at least one entity forward by a page, whatever its budget; one
entity failing as a whole (a refused ``$select``, an outage) does not stop the others, and an AC
plan without the feature makes its entity unavailable, reported once.
"""

from __future__ import annotations

import logging

from sync_core.engine import (
    ac_accounts,
    ac_changes,
    ac_optouts,
    ac_reader,
    create_requests,
    import_overlap,
    imports,
    link_scan,
)
from sync_core.engine.accounts import AccountHandler, AccountsUnavailable
from sync_core.engine.entity_pass import push_entity
from sync_core.engine.handler import EntityHandler
from sync_core.engine.opportunities import OpportunitiesUnavailable, OpportunityHandler
from sync_core.engine.pass_state import Pass
from sync_core.engine.people import PeopleHandler
from sync_core.engine.pull import BatchSize, pull_entity
from sync_core.engine.pull_linking import link_by_email
from sync_core.model.errors import PlanLimitError, RetriableError, SkippableError
from sync_core.model.state import EntityName

log = logging.getLogger("sync_core.engine")

PASS_ORDER: tuple[EntityName, ...] = ("account", "contact", "lead", "opportunity")
ENGINE_ENTITIES: frozenset[EntityName] = frozenset(PASS_ORDER)
"""Entities this engine pushes (Dynamics → ActiveCampaign)."""
PLAN_GATED: frozenset[EntityName] = frozenset({"account", "opportunity"})
PEOPLE: tuple[EntityName, ...] = ("contact", "lead")


def handler_for(p: Pass, entity: EntityName) -> EntityHandler:
    if entity == "account":
        return AccountHandler(p)
    if entity == "opportunity":
        return OpportunityHandler(p)
    return PeopleHandler(p, entity)


def _fail(p: Pass, entities: list[EntityName], what: str, e: Exception) -> None:
    for entity in entities:
        p.outcome.failed.add(entity)
        p.count(entity, "failed")
    p.outcome.notes.append(f"{what}: {type(e).__name__}: {e}")
    log.error("%s of %s failed: %s", what, p.cid, type(e).__name__)


async def read_activecampaign(p: Pass, people: list[EntityName]) -> None:
    """Import outcomes and the AC contact read: without them, the people tables wait."""
    try:
        await imports.check_imports(p)
        await ac_reader.read(p)
    except (SkippableError, RetriableError) as e:
        _fail(p, people, "ActiveCampaign contacts read", e)


async def pull_changes(p: Pass) -> None:
    """ActiveCampaign → Dynamics: the AC changes read, reconciled with Dynamics read again, written; the
    AC cursor moves past them only once they are durable."""
    batch = BatchSize()
    for entity in PASS_ORDER:
        m = p.connection.entities.of(entity)
        if m.pulls and not m.pushes:  # pull-only: its records are found by email (name), not pushed
            try:
                await link_by_email(p, entity)
            except (SkippableError, RetriableError) as e:
                _fail(p, [entity], f"{entity} linking", e)
    if p.connection.entities.of("account").pulls and "account" not in p.outcome.failed:
        try:
            scan = await ac_accounts.read(p)
            await pull_entity(p, "account", scan.changes, batch=batch)
            await ac_accounts.commit(p, scan)
        except (SkippableError, RetriableError) as e:
            _fail(p, ["account"], "account pull", e)
    pulled: list[EntityName] = [e for e in PEOPLE if p.connection.entities.of(e).pulls]
    if not pulled:
        return
    try:
        await ac_optouts.read(p)
    except (SkippableError, RetriableError) as e:
        p.outcome.notes.append(f"ActiveCampaign opt-out read: {type(e).__name__}: {e}")
    try:
        await create_requests.run(p)
    except (SkippableError, RetriableError) as e:
        p.outcome.notes.append(f"create requests: {type(e).__name__}: {e}")
    try:
        inbound = await ac_changes.read(p)
    except (SkippableError, RetriableError) as e:
        _fail(p, pulled, "ActiveCampaign changes read", e)
        return
    for entity in pulled:
        try:
            retried = await ac_changes.due_retries(p, entity)
            fresh = {c.link.dynamics_id for c in inbound.changes.get(entity, [])}
            await pull_entity(p, entity, [*inbound.changes.get(entity, []),
                                          *(c for c in retried if c.link.dynamics_id not in fresh)], batch=batch)
        except (SkippableError, RetriableError) as e:
            _fail(p, [entity], f"{entity} pull", e)
            return
    await ac_changes.commit(p, inbound)
    if not inbound.finished:
        p.time.more_work = True


async def run_entities(p: Pass) -> None:
    await p.sink.forget_requested_links()
    pushed = [e for e in PASS_ORDER if p.connection.entities.of(e).pushes]
    people: list[EntityName] = [e for e in pushed if e in PEOPLE]
    if people:
        await read_activecampaign(p, people)
    try:
        await link_scan.scan(p)
    except (SkippableError, RetriableError) as e:
        p.outcome.notes.append(f"link scan: {type(e).__name__}: {e}")
    await pull_changes(p)
    ran_one = False
    for entity in pushed:
        if entity in p.outcome.failed:
            continue
        if ran_one and p.time.out():
            p.time.more_work = True
            return
        if entity == "opportunity" and await imports.open_imports(p):
            # Opportunities relate to AC contacts by id: wait until the contacts' imports are
            # confirmed (the follow-up pass of open imports comes back for them).
            p.count(entity, "deferred")
            continue
        try:
            await push_entity(p, handler_for(p, entity))
        except (SkippableError, RetriableError) as e:
            # Its cursor did not move, so the next pass tries again from the same place.
            _fail(p, [entity], entity, e)
        except (AccountsUnavailable, OpportunitiesUnavailable, PlanLimitError) as e:
            if isinstance(e, PlanLimitError) and entity not in PLAN_GATED:
                raise
            p.outcome.unavailable.add(entity)
            p.count(entity, "unavailable")
            p.outcome.notes.append(f"{entity} sync is unavailable on this ActiveCampaign plan: {e}")
            log.warning("%s sync unavailable for %s: plan limit", entity, p.cid)
        ran_one = True
        if p.time.more_work:
            return
        if people and entity == people[-1] and entity not in p.outcome.failed:
            # The people push is done: its last imports' ids are read as AC processes them.
            await import_overlap.read_after_push(p)
