"""Right to erasure: a person's AC contact and every table row naming them, then a suppression.

The suppression (a salted hash of the email, ``store.suppressions``) is written first, so a pass running
meanwhile does not push the person back from the Dynamics record that still exists; the Dynamics side is the
customer's own process (:data:`DYNAMICS_NOTE`). The AC contacts are every one the person's links name and
the one AC holds under the email; one already gone counts as deleted.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from sync_core.model.errors import NotFoundError

if TYPE_CHECKING:
    from sync_core.activecampaign import ActiveCampaignClient
    from sync_core.store import SyncStore

DYNAMICS_NOTE = ("Dynamics 365 is left to your own erasure process: the records of this person there are not "
                 "changed, and the sync will not push them to ActiveCampaign again until the suppression is lifted.")


@dataclass
class Erasure:
    suppression: str
    """The salted hash the suppression row is keyed by (never the email)."""
    ac_contacts_deleted: int = 0
    rows: dict[str, int] = field(default_factory=dict)
    dynamics: str = DYNAMICS_NOTE


async def erase(store: SyncStore, ac: ActiveCampaignClient, cid: str, email: str) -> Erasure:
    digest = await store.suppress(cid, email, reason="erasure")
    links = await store.find_links_by_email(cid, email)
    ac_ids = {lk.ac_id for lk in links if lk.ac_id and lk.ac_type == "contact"}
    found = await ac.find_contact_by_email(email)
    if found is not None:
        ac_ids.add(str(found["id"]))
    result = Erasure(suppression=digest)
    for ac_id in sorted(ac_ids):
        with contextlib.suppress(NotFoundError):  # already gone counts as deleted
            await ac.delete_contact(ac_id)
        result.ac_contacts_deleted += 1
    result.rows = await store.erase_person(cid, email, {lk.dynamics_id for lk in links})
    return result
