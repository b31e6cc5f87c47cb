"""What one pass does, in the order of DESIGN.md §3.

Outstanding bulk imports and the ActiveCampaign read come before any write (both sides are read
before either is written), then the entities in the order accounts → contacts and leads →
opportunities. Every pass moves at least one entity forward by a page, whatever its budget; one
entity failing as a whole (a refused ``$select``, an outage) does not stop the others, and an AC
plan without the feature makes its entity unavailable, reported once.
"""

from __future__ import annotations

import logging

from sync_core.engine import ac_reader, imports
from sync_core.engine.accounts import AccountHandler, AccountsUnavailable
from sync_core.engine.entity_pass import push_entity
from sync_core.engine.handler import EntityHandler
from sync_core.engine.opportunities import OpportunitiesUnavailable, OpportunityHandler
from sync_core.engine.pass_state import Pass
from sync_core.engine.people import PeopleHandler
from sync_core.model.errors import PlanLimitError, RetriableError, SkippableError
from sync_core.model.state import EntityName

log = logging.getLogger("sync_core.engine")

PASS_ORDER: tuple[EntityName, ...] = ("account", "contact", "lead", "opportunity")
ENGINE_ENTITIES: frozenset[EntityName] = frozenset(PASS_ORDER)
"""Entities this engine pushes (Dynamics → ActiveCampaign)."""
PLAN_GATED: frozenset[EntityName] = frozenset({"account", "opportunity"})


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
        await ac_reader.read_contacts(p)
        if not p.time.more_work:  # a read cut by the budget goes on before any email lookup
            await imports.resolve_completed(p)
    except (SkippableError, RetriableError) as e:
        _fail(p, people, "ActiveCampaign contacts read", e)


async def run_entities(p: Pass) -> None:
    pushed = [e for e in PASS_ORDER if p.connection.entities.of(e).pushes]
    people: list[EntityName] = [e for e in pushed if e in ("contact", "lead")]
    if people:
        await read_activecampaign(p, people)
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
