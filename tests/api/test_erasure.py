"""Right to erasure (issue 17): the person's AC contact and every row naming them go; no table row or queue
message holds the email afterwards; the next pass does not push them back from the Dynamics record that still
exists, until an admin lifts the suppression; both are audited without the email."""

from __future__ import annotations

import base64
import contextlib
import json
from typing import Any

from sync_core.engine.scheduling import PassRequest
from sync_core.model.state import ConflictRecord, ImportBatch, ImportRow, RecordError
from sync_core.store._keys import enc
from tests.api.conftest import CID, Api

P = f"/api/connections/{CID}"


async def synced(api: Api) -> None:
    await api.connect()
    r = await api.client.put(f"{P}/sync", json={"global_enabled": True}, headers=api.auth())
    assert r.status_code == 200, r.text
    for _ in range(30):
        result = await api.rt.engine.run_pass(CID)
        if not result.more_work and not result.open_imports:
            return
        api.clock.advance(60)
    raise AssertionError("not idle")


async def table_rows(api: Api) -> list[tuple[str, dict[str, Any]]]:
    out: list[tuple[str, dict[str, Any]]] = []
    for name in api.rt.store.tables.full_names():
        client = api.rt.store.tables.service.get_table_client(name)
        async for e in client.list_entities():
            out.append((name, dict(e)))
    return out


async def queue_texts(api: Api) -> list[str]:
    q: Any = getattr(api.rt.queue, "_q")  # noqa: B009 (the queue client behind the runtime's pass queue)
    out = []
    for m in await q.peek_messages(max_messages=32):
        out.append(str(m.content))
        with contextlib.suppress(ValueError):
            out.append(base64.b64decode(str(m.content)).decode())
    assert out, "the queued pass is there to be scanned"
    return out


def mentions(text: str, email: str) -> bool:
    t = text.lower()
    return email.lower() in t or enc(email.lower()).lower() in t or enc(email).lower() in t


async def pushed_count(api: Api) -> dict[str, int]:
    r = await api.rt.engine.run_pass(CID)
    assert r.run is not None
    return r.run.counts.get("contact", {})


async def test_an_erasure_removes_the_person_everywhere_and_keeps_them_out(api: Api) -> None:
    await synced(api)
    store = api.rt.store
    links = [lk async for lk in store.iter_links(CID, "contact")]
    person = next(lk for lk in links if lk.ac_id and lk.email)
    email, did = str(person.email), person.dynamics_id
    other = next(lk for lk in links if lk.dynamics_id != did and lk.email)
    # Rows that name the person in other ways: an error about them, one about another record that mentions
    # them, a conflict row, a pending import, and a queued pass.
    now = api.clock.now()
    await store.record_error(CID, RecordError(entity="contact", side="activecampaign", record_id=did,
                                              cause=f"refused {email}", first_seen=now, last_seen=now))
    await store.record_error(CID, RecordError(entity="contact", side="activecampaign", record_id=other.dynamics_id,
                                              cause=f"another contact has the email {email.upper()}",
                                              code="duplicate_email", first_seen=now, last_seen=now))
    await store.record_conflicts(CID, [ConflictRecord(at=now, run_id="r1", entity="contact", dynamics_id=did,
                                                      ac_id=person.ac_id, field="emailaddress1", dynamics_value=email,
                                                      ac_value=email, dynamics_time=now, ac_time=now,
                                                      rule="newest_wins", winner="dynamics")])
    await store.save_import(CID, ImportBatch(batch_id="b-1", submitted_at=now, rows=[
        ImportRow(entity="contact", dynamics_id=did, email=email),
        ImportRow(entity="contact", dynamics_id=other.dynamics_id, email=str(other.email))]))
    await api.rt.queue.send(PassRequest(connection_id=CID, reason="sync_now", requested_at=now))
    assert any(mentions(json.dumps(e, default=str), email) for _, e in await table_rows(api))

    h = api.auth()
    r = await api.client.post(f"{P}/erasure", json={"email": email.upper()}, headers=h)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["ac_contacts_deleted"] == 1 and "left to your own" in body["dynamics"]
    assert body["rows_removed"]["links"] >= 1 and body["rows_removed"]["errors"] == 2
    assert all(str(c.email).lower() != email.lower() for c in api.ac.contacts.values())
    for table, e in await table_rows(api):
        assert not mentions(json.dumps(e, default=str), email), (table, e)
    assert not any(mentions(t, email) for t in await queue_texts(api))
    # The other record's pending import row stays.
    assert [r.email for b in await store.list_imports(CID, status=None) for r in b.rows] == [other.email]
    await store.delete_import(CID, "b-1")  # made up for this test: AC does not know it

    # The Dynamics record still exists and changes: the pass does not push it back.
    api.clock.advance(3600)
    api.dv.update("contact", did, {"firstname": "Still-In-Dynamics"})
    counts = await pushed_count(api)
    assert counts.get("skipped_suppressed") == 1, counts
    assert all(str(c.email).lower() != email.lower() for c in api.ac.contacts.values())

    # Lifted by an admin (audited): the next change pushes the person again.
    h = api.auth()  # the clock moved past the first token's lifetime
    r = await api.client.post(f"{P}/suppressions/lift", json={"email": email}, headers=h)
    assert r.status_code == 200, r.text
    r = await api.client.post(f"{P}/suppressions/lift", json={"email": email}, headers=h)
    assert r.status_code == 404 and r.json()["error"]["field"] == "email"
    api.clock.advance(3600)
    api.dv.update("contact", did, {"firstname": "Pushed-Again"})
    await pushed_count(api)
    assert any(str(c.email).lower() == email.lower() for c in api.ac.contacts.values())
    r = await api.client.get(f"{P}/audit", headers=api.auth())
    assert r.status_code == 200, r.text
    audit = r.json()
    actions = {a["action"]: a for a in audit}
    assert {"erasure", "lift_suppression"} <= set(actions)
    assert actions["erasure"]["target"] == f"suppression:{body['suppression']}"
    assert not any(mentions(json.dumps(a), email) for a in audit)


async def test_an_erasure_request_is_validated(api: Api) -> None:
    await api.connect()
    r = await api.client.post(f"{P}/erasure", json={"email": "not an email"}, headers=api.auth())
    assert r.status_code == 422 and "email" in r.text
    r = await api.client.post(f"{P}/erasure", json={}, headers=api.auth())
    assert r.status_code == 422 and "email" in r.text
