"""Deletes on either side and what follows them.

A linked Dynamics record deleted: the link goes, and the AC contact follows the entity's ``on_delete``.

``keep`` (default) leaves AC untouched; ``unsubscribe`` unsubscribes the AC contact from the connection's
lists; ``tag`` adds ``push.tag_deleted``; ``delete`` deletes the AC contact, but only when no other linked
Dynamics record (the lead or contact of the same person) shares it, else it is kept. An AC contact already
gone counts as done. A throttled or failing AC call leaves the link in place and fails the page, so the
delete is read again; a refused one is a record error and the link still goes (the record is gone).

A linked AC record deleted (a 404 on write, or the link scan, ``link_scan``): the link goes, the Dynamics
record is deactivated when ``on_ac_delete`` says so (statecode, never a Dataverse delete), and a person's
email is suppressed (a salted hash, ``store.suppressions``, reason ``deleted_in_activecampaign``), the row
naming the Dynamics record too, so the record that still exists does not create the AC contact again, under
that email or one it gets later, until an admin lifts it (``POST /suppressions/lift``, audited). A contact
deleted in AC may have opted out there first, unread: pushing it back would undo that opt-out.
"""

from __future__ import annotations

from sync_core.engine.pass_state import ENTITY_SET, Pass
from sync_core.engine.sink import Failure
from sync_core.model.errors import NotFoundError, SkippableError
from sync_core.model.state import RecordLink

PEOPLE = ("contact", "lead")


async def dynamics_deleted(p: Pass, link: RecordLink) -> None:
    p.count(link.entity, "deleted_in_dynamics")
    policy = p.connection.entities.of(link.entity).on_delete
    if policy != "keep" and link.entity in PEOPLE:
        try:
            ac_id = link.ac_id or await _by_email(p, link)
            if ac_id is not None:
                await _follow(p, link, ac_id, policy)
        except NotFoundError:
            pass  # already gone in AC
        except SkippableError as e:
            await p.sink.fail(
                Failure(
                    link.entity,
                    link.dynamics_id,
                    e.error_code,
                    f"on_delete {policy} after the record was deleted in Dynamics: {e}",
                )
            )
    await p.sink.delete_link(link)


async def _by_email(p: Pass, link: RecordLink) -> str | None:
    """A pending link (its import's id not known yet) finds its AC contact by email."""
    found = await p.ac.find_contact_by_email(link.email) if link.email else None
    return str(found["id"]) if found else None


async def _follow(p: Pass, link: RecordLink, ac_id: str, policy: str) -> None:
    if policy == "unsubscribe":
        for list_id in p.connection.push.list_ids:
            await p.ac.set_contact_list_status(ac_id, str(list_id), 2)
        p.count(link.entity, "unsubscribed_deleted")
    elif policy == "tag":
        await p.ac.add_contact_tag(ac_id, await p.ac.ensure_tag(p.connection.push.tag_deleted))
        p.count(link.entity, "tagged_deleted")
    elif policy == "delete":
        others = [
            o
            for o in await p.store.get_links_by_ac(p.cid, "contact", ac_id)
            if (o.entity, o.dynamics_id) != (link.entity, link.dynamics_id)
        ]
        if others:
            p.count(link.entity, "delete_kept_shared")
            return
        await p.ac.delete_contact(ac_id)
        p.count(link.entity, "deleted_in_ac")


INACTIVE = {"statecode": 1, "statuscode": 2}


async def ac_deleted(p: Pass, link: RecordLink, email_now: str | None = None) -> None:
    """``email_now``: the record's email in Dynamics when the write that found the delete carried a new one."""
    p.count(link.entity, "deleted_in_activecampaign")
    if p.connection.entities.of(link.entity).on_ac_delete == "deactivate":
        try:
            await p.dv.update(ENTITY_SET[link.entity], link.dynamics_id, dict(INACTIVE), if_match="*")
            p.count(link.entity, "deactivated")
        except NotFoundError:
            pass  # gone in Dynamics too
        except SkippableError as e:
            await p.sink.fail(
                Failure(
                    link.entity,
                    link.dynamics_id,
                    e.error_code,
                    side="dynamics",
                    cause=f"on_ac_delete deactivate after the AC record was deleted: {e}",
                )
            )
    if link.entity in PEOPLE:
        record = record_key(link.entity, link.dynamics_id)
        for email in dict.fromkeys(e for e in (link.email, email_now) if e):
            await p.store.suppress(p.cid, email, reason="deleted_in_activecampaign", records=(record,))
            if p.caches.suppressed is not None:
                p.caches.suppressed |= {record, await p.store.suppression_hash(p.cid, email)}
        p.count(link.entity, "suppressed_deleted_in_activecampaign")
    await p.sink.delete_link(link)


def record_key(entity: str, dynamics_id: str) -> str:
    return f"{entity}:{dynamics_id}"


async def suppressed(p: Pass, email: str, entity: str, dynamics_id: str) -> bool:
    """Whether the person is suppressed: their email (erased, or their AC contact deleted), or the Dynamics
    record whose AC contact was deleted (whatever its email is now)."""
    if p.caches.suppressed is None:
        p.caches.suppressed = await p.store.suppressed_hashes(p.cid)
    if not p.caches.suppressed:
        return False
    if record_key(entity, dynamics_id) in p.caches.suppressed:
        return True
    return await p.store.suppression_hash(p.cid, email) in p.caches.suppressed
