"""The conflict log and a record's history over the API: filters, paging, bad input as 4xx, admins only."""

from __future__ import annotations

from datetime import timedelta

from sync_core.engine import history
from sync_core.model.state import ConflictRecord, RecordLink
from tests.api.conftest import CID, Api

P = f"/api/connections/{CID}"
ANNA = "0a1b2c3d-0000-4000-8000-000000000001"


def _conflict(api: Api, minutes: int, *, field: str = "lastname", entity: str = "contact") -> ConflictRecord:
    at = api.clock.now() + timedelta(minutes=minutes)
    return ConflictRecord(at=at, run_id=f"run-{minutes}", entity=entity, dynamics_id=ANNA, ac_id="17",  # type: ignore[arg-type]
                          field=field, dynamics_value="Dynamics", ac_value="AC", dynamics_time=at,
                          ac_time=at - timedelta(seconds=5), rule="newest_wins", winner="dynamics")


async def test_the_conflict_log_is_filtered_and_paged_newest_first(api: Api) -> None:
    await api.connect()
    store = api.rt.store
    await store.record_conflicts(CID, [_conflict(api, m) for m in range(5)] +
                                 [_conflict(api, 10, field="jobtitle"), _conflict(api, 11, entity="lead")])
    h = api.auth()
    r = await api.client.get(f"{P}/conflicts", params={"limit": 3}, headers=h)
    assert r.status_code == 200, r.text
    page = r.json()
    assert [c["run_id"] for c in page["items"]] == ["run-11", "run-10", "run-4"]
    first = page["items"][1]
    assert first["field"] == "jobtitle" and first["ac_field"] == "accountContact.jobTitle"  # as mapped
    assert first["dynamics_value"] == "Dynamics" and first["ac_value"] == "AC" and first["winner"] == "dynamics"
    seen = [c["run_id"] for c in page["items"]]
    while page["next_cursor"]:
        r = await api.client.get(f"{P}/conflicts", params={"limit": 3, "cursor": page["next_cursor"]}, headers=h)
        page = r.json()
        seen += [c["run_id"] for c in page["items"]]
    assert seen == ["run-11", "run-10", "run-4", "run-3", "run-2", "run-1", "run-0"]  # each once, in order
    r = await api.client.get(f"{P}/conflicts", params={"entity": "contact", "field": "lastname"}, headers=h)
    assert [c["run_id"] for c in r.json()["items"]] == ["run-4", "run-3", "run-2", "run-1", "run-0"]
    since = (api.clock.now() + timedelta(minutes=3)).isoformat()
    r = await api.client.get(f"{P}/conflicts", params={"since": since, "entity": "contact"}, headers=h)
    assert [c["run_id"] for c in r.json()["items"]] == ["run-10", "run-4", "run-3"]


async def test_bad_conflict_queries_are_4xx_naming_the_field(api: Api) -> None:
    await api.connect()
    h = api.auth()
    bad: list[tuple[dict[str, str | int], str]] = [
        ({"cursor": "not-a-cursor"}, "cursor"), ({"limit": 0}, "limit"), ({"limit": 201}, "limit"),
        ({"entity": "deal"}, "entity"), ({"since": "yesterday"}, "since"), ({"field": ""}, "field")]
    for params, name in bad:
        r = await api.client.get(f"{P}/conflicts", params=params, headers=h)
        assert r.status_code == 422, (params, r.text)
        assert name in (r.json()["error"].get("field") or ""), (params, r.json())
    # Sellers read no health data.
    r = await api.client.get(f"{P}/conflicts", headers=api.auth("Sam Seller"))
    assert r.status_code == 403


async def test_a_records_history_newest_first_and_unknown_records_404(api: Api) -> None:
    await api.connect()
    link = RecordLink(entity="contact", dynamics_id=ANNA, ac_id="17", email="anna@example.com")
    t0 = api.clock.now()
    history.add(link, at=t0, run_id="r1", direction="push", why="pushed", changes={"lastname": (None, "Berg")})
    history.add(link, at=t0 + timedelta(hours=1), run_id="r2", direction="pull", why="conflict:newest_wins",
                changes={"lastname": ("Berg", "Berg-Lund"), "jobtitle": ("CEO", "x" * 300)})
    await api.rt.store.save_links(CID, [link])
    h = api.auth()
    r = await api.client.get(f"{P}/records/contact/{{{ANNA.upper()}}}/history", headers=h)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["ac_id"] == "17" and body["email"] == "anna@example.com"
    assert [(e["run_id"], e["direction"], e["why"]) for e in body["items"]] == [
        ("r2", "pull", "conflict:newest_wins"), ("r1", "push", "pushed")]
    changes = {c["field"]: c for c in body["items"][0]["changes"]}
    assert changes["lastname"]["from"] == "Berg" and changes["lastname"]["to"] == "Berg-Lund"
    assert len(changes["jobtitle"]["to"]) == history.MAX_VALUE + 1  # bounded, marked with an ellipsis
    r = await api.client.get(f"{P}/records/contact/0a1b2c3d-0000-4000-8000-0000000000ff/history", headers=h)
    assert r.status_code == 404 and r.json()["error"]["code"] == "record_not_linked"
    r = await api.client.get(f"{P}/records/contact/not-a-guid/history", headers=h)
    assert r.status_code == 422 and r.json()["error"]["field"] == "dynamics_id"
    r = await api.client.get(f"{P}/records/deal/{ANNA}/history", headers=h)
    assert r.status_code == 422


async def test_history_is_bounded_to_the_last_changes() -> None:
    from datetime import UTC, datetime

    link = RecordLink(entity="lead", dynamics_id=ANNA, ac_id="1")
    for i in range(history.KEEP + 7):
        history.add(link, at=datetime(2026, 1, 1, tzinfo=UTC), run_id=f"r{i}", direction="pull", why="pulled",
                    changes={"subject": (i, i + 1)})
    assert len(link.history) == history.KEEP and link.history[0]["run"] == "r7"
    history.add(link, at=datetime(2026, 1, 1, tzinfo=UTC), run_id="none", direction="pull", why="pulled", changes={})
    assert link.history[-1]["run"] == f"r{history.KEEP + 6}"  # nothing changed: nothing noted
