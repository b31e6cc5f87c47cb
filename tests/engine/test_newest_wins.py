"""``newest_wins`` with record times (issue 17, the convergence example 288215745908124329295552949108994115162):
a save that leaves a field's value as last synced is no edit of that field, however new its ``modifiedon``;
a save of another field still makes its side the newer one when the field changed on both sides."""

from __future__ import annotations

from tests.engine.conftest import HarnessFactory
from tests.engine.test_pull import dv_contact, edit_ac_contact, synced, two_way


async def test_an_ac_edit_wins_over_a_later_dynamics_save_of_the_synced_value(harness: HarnessFactory) -> None:
    h = await harness(seed_contacts=3, config=two_way(conflict="newest_wins"))
    link = (await synced(h))["links"][0]
    synced_name = (await dv_contact(h, link.dynamics_id))["lastname"]
    h.clock.advance(600)
    await edit_ac_contact(h, str(link.ac_id), lastName="Ames")
    h.clock.advance(60)
    await h.dv_patch("contacts", link.dynamics_id, {"lastname": synced_name})  # modifiedon is now the newer
    h.clock.advance(60)
    await h.until_idle()
    assert (await dv_contact(h, link.dynamics_id))["lastname"] == "Ames"
    assert h.ac.contacts[int(str(link.ac_id))].last_name == "Ames"
    assert await h.store.list_conflicts(h.cid) == []  # only AC changed the field: the rule is not asked


async def test_a_later_save_of_another_field_makes_its_side_the_newer_in_a_conflict(harness: HarnessFactory) -> None:
    h = await harness(seed_contacts=3, config=two_way(conflict="newest_wins"))
    link = (await synced(h))["links"][0]
    h.clock.advance(600)
    await h.dv_patch("contacts", link.dynamics_id, {"lastname": "Dunn"})
    h.clock.advance(60)
    await edit_ac_contact(h, str(link.ac_id), lastName="Ames")
    h.clock.advance(60)
    await h.dv_patch("contacts", link.dynamics_id, {"telephone1": "+1 512 555 0199"})
    h.clock.advance(60)
    await h.until_idle()
    assert (await dv_contact(h, link.dynamics_id))["lastname"] == "Dunn"
    assert h.ac.contacts[int(str(link.ac_id))].last_name == "Dunn"
    (conflict,) = await h.store.list_conflicts(h.cid)
    assert (conflict.field, conflict.winner) == ("lastname", "dynamics")
