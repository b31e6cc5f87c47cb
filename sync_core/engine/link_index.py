"""Which Dynamics records of the people tables are linked, and their emails, for one pass.

Built once per pass when a whole table is read (initial sync, backfill): one scan of the links
instead of a point read and an email query per record. The live sink keeps it in step with every
link it saves or deletes; the links a seller's request wrote since the scan are added from the rows
``store/requested.py`` keeps for them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sync_core.model.state import RecordLink
from sync_core.store import SyncStore

PEOPLE = ("contact", "lead")


@dataclass
class LinkIndex:
    ids: dict[str, set[str]] = field(default_factory=dict)
    by_email: dict[str, list[tuple[str, str, str | None]]] = field(default_factory=dict)
    _emails: dict[tuple[str, str], str] = field(default_factory=dict)
    _requested: set[tuple[str, str, str | None]] = field(default_factory=set)

    async def learn_requested(self, store: SyncStore, cid: str) -> None:
        """The links written on request since the scan (one query), each taken once a version: a link the
        pass deletes afterwards stays deleted here."""
        for r in await store.list_requested_links(cid):
            if r.entity in PEOPLE and (r.entity, r.dynamics_id, r.etag) not in self._requested:
                self._requested.add((r.entity, r.dynamics_id, r.etag))
                self.add(r.entity, r.dynamics_id, r.email, r.ac_id)

    def add(self, entity: str, dynamics_id: str, email: str | None, ac_id: str | None) -> None:
        self.ids.setdefault(entity, set()).add(dynamics_id)
        key = (entity, dynamics_id)
        old = self._emails.pop(key, None)
        if old is not None:  # the record's email changed: it no longer holds the old one
            rows = self.by_email.get(old, [])
            rows[:] = [r for r in rows if (r[0], r[1]) != key]
        if email:
            self._emails[key] = email.lower()
            rows = self.by_email.setdefault(email.lower(), [])
            rows[:] = [r for r in rows if (r[0], r[1]) != key]
            rows.append((entity, dynamics_id, ac_id))

    def remove(self, entity: str, dynamics_id: str) -> None:
        self.ids.get(entity, set()).discard(dynamics_id)
        old = self._emails.pop((entity, dynamics_id), None)
        if old is not None:
            rows = self.by_email.get(old, [])
            rows[:] = [r for r in rows if (r[0], r[1]) != (entity, dynamics_id)]

    def saved(self, link: RecordLink) -> None:
        if link.entity in PEOPLE:
            self.add(link.entity, link.dynamics_id, link.email, link.ac_id)

    def deleted(self, link: RecordLink) -> None:
        if link.entity in PEOPLE:
            self.remove(link.entity, link.dynamics_id)

