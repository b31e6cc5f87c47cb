"""The two-way sync converges (issue 17): a stateful hypothesis test.

Random interleavings of creates, edits, email changes, opt-outs and deletes on both sides, sandbox faults
(429 storms, 5xx storms, a connection reset mid-response) and a process killed at a durability point of a
pass. Once the faults stop and passes run until idle: every linked pair agrees on the mapped fields, no
email has two AC contacts, no link points at a deleted record, no opt-out was undone, no Dynamics record whose
AC contact was deleted is pushed back (it stays unlinked, suppressed: no lift happens here), and the last edit
of a linked record's last name (newest wins: the clock moves between steps) is the value on both sides. A save
that leaves the last name as it was is no edit of it (the sync compares values with the last synced ones), but
it moves that side's modified time, which decides a conflict (``touched``).

Budget: ``CONVERGENCE_EXAMPLES`` (default 6, about a minute on CI; derandomized, so CI runs the same
examples) and ``CONVERGENCE_STEPS`` (default 12); ``CONVERGENCE_EXAMPLES=200 CONVERGENCE_STEPS=30`` for the
large run (random examples).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import uuid
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, precondition, rule, run_state_machine_as_test

from sync_core.clock import FakeClock
from sync_core.engine import link_scan
from sync_core.model.config import ConnectionConfig
from sync_core.model.secrets import secret_names
from sync_core.store import LocalSecretStore, SyncStore
from tests.engine.conftest import AC_KEY, DV_TOKEN, Harness, ac_request, apply_switches, base_config

EXAMPLES = int(os.environ.get("CONVERGENCE_EXAMPLES", "6"))
STEPS = int(os.environ.get("CONVERGENCE_STEPS", "12"))
KILL_POINTS = ("after_ac_write", "after_links_saved", "after_cursor_saved", "after_dynamics_write", "after_optout_page")
NAMES = ("Ames", "Brook", "Cole", "Dunn", "Eyre")
FAULTS = ("ac_429", "ac_5xx", "ac_reset", "dv_429", "dv_5xx")
"""No ``dv_reset``: in process the Dataverse stand-in's dropped connection surfaces as its own exception
through httpx's ASGI transport (it is meant for loopback, where the client sees a reset)."""
FAULT_VALUES: dict[str, dict[str, Any]] = {
    "429": {"force_429": 6},
    "5xx": {"error_rate": 1.0},
    "reset": {"drop_next": 1},
}
STATS: dict[str, int] = {"examples": 0, "steps": 0, "faults": 0, "kills": 0, "passes": 0}


class Killed(BaseException):
    """Stands for SIGKILL: nothing of the pass's own cleanup runs after it."""


async def make_harness(conn: str, tmp: Path, switches: dict[str, dict[str, Any]]) -> tuple[Harness, int]:
    from sandbox.activecampaign import create_app as ac_create_app
    from sandbox.dynamics import create_app as dv_create_app

    clock = FakeClock()
    ac_app = ac_create_app(clock=clock, api_token=AC_KEY, seed=1)
    dv_app = dv_create_app(clock=clock, tokens=(DV_TOKEN,), seed=1, seed_contacts=3)
    apply_switches(ac_app, dv_app, switches)  # --sandbox-switch: the register readings (devtools.readings)
    store = SyncStore.from_connection_string(conn, table_prefix="c" + uuid.uuid4().hex[:10], clock=clock)
    await store.create_tables()
    secrets = LocalSecretStore(tmp / f"{uuid.uuid4().hex}.json")
    h = Harness(
        clock=clock, ac_app=ac_app, dv_app=dv_app, store=store, secrets=secrets, config=base_config(), page_size=5000
    )
    for row in h.dv.rows["contact"].values():
        row["donotbulkemail"] = False
    body = (
        await ac_request(
            h,
            "POST",
            "lists",
            json={"list": {"name": "News", "sender_url": "https://x.example", "sender_reminder": "You signed up"}},
        )
    ).json()
    list_id = int(body["list"]["id"])
    doc = base_config().model_dump(mode="json")
    doc["entities"]["contacts"] = {"enabled": True, "direction": "bidirectional"}
    doc["push"]["list_ids"] = [list_id]
    h.config = ConnectionConfig.model_validate(doc)
    names = secret_names(h.config)
    await secrets.set_secret(names["activecampaign_api_key"], AC_KEY)
    await secrets.set_secret(names["dynamics_secret"], DV_TOKEN)
    await store.save_config(h.config)
    return h, list_id


def machine(conn: str, tmp: Path, switches: dict[str, dict[str, Any]] | None = None) -> type[RuleBasedStateMachine]:
    class Convergence(RuleBasedStateMachine):
        def __init__(self) -> None:
            super().__init__()
            self.loop = asyncio.new_event_loop()
            self.h, self.list_id = self.loop.run_until_complete(make_harness(conn, tmp, switches or {}))
            self.loop.run_until_complete(self.h.until_idle())  # the initial sync: there are links to work on
            self.next_email = 0
            self.opted: set[str] = set()  # Dynamics ids whose person opted out, on either side
            self.ac_deleted: set[str] = set()  # Dynamics ids whose AC contact was deleted: not pushed back
            self.last_edit: dict[str, tuple[str, str | None]] = {}  # did -> (last name, AC id at the edit)
            self.faults: list[str] = []
            STATS["examples"] += 1

        def run(self, coro: Any) -> Any:
            return self.loop.run_until_complete(coro)

        def step(self) -> None:
            STATS["steps"] += 1
            self.h.clock.advance(60)

        def live(self) -> list[str]:
            return sorted(self.h.dv.rows["contact"])

        def links(self) -> dict[str, Any]:
            return {lk.dynamics_id: lk for lk in self.run(self.h.links("contact")) if lk.ac_id}

        def fresh_email(self) -> str:
            self.next_email += 1
            return f"person{self.next_email}@conv.example"

        @rule()
        def dv_create(self) -> None:
            self.step()
            self.run(
                self.h.dv_create(
                    "contacts",
                    {
                        "lastname": "New",
                        "firstname": "Fresh",
                        "emailaddress1": self.fresh_email(),
                        "donotbulkemail": False,
                    },
                )
            )

        @precondition(lambda self: self.h.dv.rows["contact"])
        @rule(i=st.integers(0, 99), name=st.sampled_from(NAMES))
        def dv_edit(self, i: int, name: str) -> None:
            self.step()
            did = self.live()[i % len(self.live())]
            unchanged = self.h.dv.rows["contact"][did].get("lastname") == name
            self.run(self.h.dv_patch("contacts", did, {"lastname": name}))
            link = self.links().get(did)
            if unchanged:  # a save that changes no value is no edit of the field, but it moves modifiedon
                self.touched(did, "dynamics")
            else:
                self.last_edit[did] = (name, link.ac_id if link else None)

        @precondition(lambda self: self.h.dv.rows["contact"])
        @rule(i=st.integers(0, 99))
        def dv_email_change(self, i: int) -> None:
            self.step()
            did = self.live()[i % len(self.live())]
            self.run(self.h.dv_patch("contacts", did, {"emailaddress1": self.fresh_email()}))
            self.touched(did, "dynamics")

        @precondition(lambda self: self.h.dv.rows["contact"])
        @rule(i=st.integers(0, 99))
        def dv_opt_out(self, i: int) -> None:
            self.step()
            did = self.live()[i % len(self.live())]
            self.run(self.h.dv_patch("contacts", did, {"donotbulkemail": True}))
            self.touched(did, "dynamics")
            self.opted.add(did)

        @precondition(lambda self: len(self.h.dv.rows["contact"]) > 1)
        @rule(i=st.integers(0, 99))
        def dv_delete(self, i: int) -> None:
            self.step()
            did = self.live()[i % len(self.live())]
            r = self.run(self.h.dv_request("DELETE", f"contacts({did})"))
            assert r.status_code == 204, r.text

        def touched(self, did: str, side: str) -> None:
            """A save on ``side`` that leaves the last name as it is still moves that record's modified time,
            which ``newest_wins`` compares (record times, not field times): when that side's last name is a
            change not yet synced (it differs from the link's last synced value) and not the value expected,
            both sides changed the field and this side is now the newer one, so its value is expected to win.
            A side whose last name is as last synced did not change it: the other side's edit still wins."""
            edit, link = self.last_edit.get(did), self.links().get(did)
            if edit is None or link is None or link.ac_id != edit[1]:
                return
            if side == "dynamics":
                now, synced = self.h.dv.rows["contact"][did].get("lastname"), link.dynamics_values.get("lastname")
            else:
                now, synced = self.h.ac.contacts[int(str(link.ac_id))].last_name, link.ac_values.get("lastName")
            if now != edit[0] and now != synced:
                self.last_edit[did] = (now, link.ac_id)

        def pick_linked(self, i: int) -> Any | None:
            linked = [lk for _, lk in sorted(self.links().items()) if int(str(lk.ac_id)) in self.h.ac.contacts]
            return linked[i % len(linked)] if linked else None

        @rule(i=st.integers(0, 99), name=st.sampled_from(NAMES))
        def ac_edit(self, i: int, name: str) -> None:
            self.step()
            if (link := self.pick_linked(i)) is not None:
                unchanged = self.h.ac.contacts[int(str(link.ac_id))].last_name == name
                self.run(ac_request(self.h, "PUT", f"contacts/{link.ac_id}", json={"contact": {"lastName": name}}))
                if unchanged:
                    self.touched(link.dynamics_id, "activecampaign")
                else:
                    self.last_edit[link.dynamics_id] = (name, link.ac_id)

        @rule(i=st.integers(0, 99))
        def ac_unsubscribe(self, i: int) -> None:
            self.step()
            if (link := self.pick_linked(i)) is not None:
                self.h.ac.set_list_status(self.h.ac.contacts[int(str(link.ac_id))], self.list_id, 2, source="public")
                if self.h.ac.switches["udate_on_list_change"]:
                    self.touched(link.dynamics_id, "activecampaign")
                self.opted.add(link.dynamics_id)

        @rule(i=st.integers(0, 99))
        def ac_delete(self, i: int) -> None:
            self.step()
            if (link := self.pick_linked(i)) is not None:
                self.run(ac_request(self.h, "DELETE", f"contacts/{link.ac_id}"))
                self.ac_deleted.add(link.dynamics_id)

        @rule(fault=st.sampled_from(FAULTS))
        def fault(self, fault: str) -> None:
            self.faults.append(fault)
            STATS["faults"] += 1

        @rule(kill=st.sampled_from((None, *KILL_POINTS)))
        def sync_pass(self, kill: str | None) -> None:
            self.step()
            self.apply_faults()
            self.run(self.one_pass(kill))
            self.h.ac.clear_faults()
            self.h.dv.set_faults({"error_rate": 0.0, "force_429": 0, "drop_next": 0})

        @rule(kill=st.sampled_from((None, *KILL_POINTS)))
        def another_pass(self, kill: str | None) -> None:
            self.sync_pass(kill)  # passes as often as the other steps: a pass between most changes

        @rule()
        def plain_pass(self) -> None:
            self.sync_pass(None)

        def apply_faults(self) -> None:
            for f in self.faults:
                side, kind = f.split("_")
                values = FAULT_VALUES[kind]
                if side == "ac":
                    self.h.ac.inject_fault(**values)
                else:
                    self.h.dv.set_faults({**values, "retry_after": 1})
            self.faults = []

        async def one_pass(self, kill: str | None) -> None:
            STATS["passes"] += 1

            async def die(name: str, info: dict[str, Any]) -> None:
                if name == kill:
                    STATS["kills"] += 1
                    raise Killed

            with contextlib.suppress(Killed):
                await self.h.engine(checkpoint=die).run_pass(self.h.cid)
            if kill is not None:
                self.h.clock.advance(61)  # the killed pass's lease runs out

        def teardown(self) -> None:
            try:
                self.run(self.converge())
                self.run(self.check())
            finally:
                self.run(self.h.store.close())
                self.loop.close()

        async def converge(self) -> None:
            self.h.ac.clear_faults()
            self.h.dv.set_faults({"error_rate": 0.0, "force_429": 0, "drop_next": 0})
            self.h.clock.advance(link_scan.SCAN_EVERY.total_seconds())  # a link scan cycle finds AC deletes
            for _ in range(4):  # record errors wait out their backoff between rounds
                await self.h.until_idle(max_passes=60)
                self.h.clock.advance(7200)

        async def check(self) -> None:
            h = self.h
            by_email = h.ac_by_email()  # one AC contact per email
            for lk in await h.links("contact"):
                assert lk.ac_id is not None, f"a pending link is left: {lk}"
                row, contact = h.dv.rows["contact"].get(lk.dynamics_id), h.ac.contacts.get(int(lk.ac_id))
                assert row is not None and contact is not None, f"a link points at a deleted record: {lk}"
                assert by_email[str(row["emailaddress1"]).lower()] is contact, lk
                assert (contact.first_name or "", contact.last_name or "") == (
                    row.get("firstname") or "",
                    row.get("lastname") or "",
                ), (lk, contact, row)
                status = next(
                    (
                        int(cl["status"])
                        for cl in h.ac.contact_lists.values()
                        if int(cl["contact"]) == int(lk.ac_id) and int(cl["list"]) == self.list_id
                    ),
                    None,
                )
                if lk.dynamics_id in self.opted:
                    assert status != 1 and row.get("donotbulkemail") is True, f"an opt-out was undone: {lk}"
                edit = self.last_edit.get(lk.dynamics_id)
                if edit is not None and edit[1] == lk.ac_id:
                    assert row.get("lastname") == edit[0], f"the last edit was lost: {edit} {row}"

    return Convergence


def test_the_two_way_sync_converges(
    storage_connection_string: str, tmp_path: Path, sandbox_switches: dict[str, dict[str, Any]]
) -> None:
    state = machine(storage_connection_string, tmp_path, sandbox_switches)
    run_state_machine_as_test(
        state,
        settings=settings(
            max_examples=EXAMPLES,
            stateful_step_count=STEPS,
            deadline=None,
            derandomize=EXAMPLES <= 6,
            suppress_health_check=list(HealthCheck),
        ),
    )
    print(f"convergence: {STATS}")


def test_found_by_the_large_run_an_edit_after_an_ac_delete(storage_connection_string: str, tmp_path: Path) -> None:
    """Seed 78011217505968723135074674299018124900 (100 × 20): a linked contact deleted in AC, then edited in
    Dynamics before the link scan came by, was upserted by email into a new AC contact holding only the
    changed field (first name lost). Linked contacts are now written by id, and the 404 is an AC delete."""
    state: Any = machine(storage_connection_string, tmp_path)()
    try:
        state.ac_delete(i=0)
        state.plain_pass()
        state.sync_pass(kill=None)
        state.dv_edit(i=9, name="Ames")
        state.ac_delete(i=51)
        state.ac_delete(i=10)
        state.plain_pass()
        state.ac_delete(i=30)
        for _ in range(5):
            state.plain_pass()
        state.dv_create()
        state.dv_edit(i=61, name="Dunn")
        state.dv_edit(i=26, name="Dunn")
        state.dv_create()
        state.sync_pass(kill="after_dynamics_write")
        state.sync_pass(kill="after_optout_page")
        state.plain_pass()
    finally:
        state.teardown()


def test_found_by_the_large_run_an_ac_edit_before_a_kill_after_the_cursor(
    storage_connection_string: str, tmp_path: Path
) -> None:
    """Seed 309774685203141478585994455535869194178 (60 × 20): an AC edit of a last name, two opt-outs in
    Dynamics, then a pass killed at after_cursor_saved; after converging, Dynamics kept the older last name.
    These are the steps the run printed (shrinking cut short); on their own they pass, at b6a3b02 (the commit
    of that run) as now, so they are not the failing example itself: kept as the record of the report, the
    seed is re-run in bench/figures/2026-12-02-convergence.txt."""
    state: Any = machine(storage_connection_string, tmp_path)()
    try:
        state.ac_edit(i=73, name="Eyre")
        state.dv_opt_out(i=76)
        state.dv_opt_out(i=47)
        state.sync_pass(kill="after_cursor_saved")
    finally:
        state.teardown()


def test_the_machine_runs_under_the_flipped_register_readings(storage_connection_string: str, tmp_path: Path) -> None:
    """``--sandbox-switch`` (``devtools.readings``) reaches the machine's own sandboxes, so a sweep of the
    readings over this file runs the convergence test under each reading, not under the defaults again."""
    flipped: dict[str, dict[str, Any]] = {
        "ac": {"udate_on_list_change": True},
        "dataverse": {"inactive_update": "refuse"},
    }
    state: Any = machine(storage_connection_string, tmp_path, flipped)()
    try:
        assert state.h.ac.switches["udate_on_list_change"] is True
        assert state.h.dv.switches["inactive_update"] == "refuse"
    finally:
        state.teardown()


def test_found_by_the_large_run_an_unsubscribe_then_an_ac_delete(
    storage_connection_string: str, tmp_path: Path
) -> None:
    """Seed 112687007085682331355755228686 (100 x 30, defaults): "an opt-out was undone". A linked contact
    unsubscribed in AC, then deleted there before any opt-out read, then its email changed in Dynamics: the
    suppression was keyed by the old email only, so the record was pushed to a new AC contact, subscribed.
    The suppression now names the Dynamics record too."""
    state: Any = machine(storage_connection_string, tmp_path)()
    try:
        state.ac_delete(i=7)
        state.ac_unsubscribe(i=23)
        state.plain_pass()
        state.dv_create()
        state.dv_delete(i=41)
        state.ac_unsubscribe(i=71)
        state.dv_delete(i=10)
        state.plain_pass()
        state.ac_edit(i=1, name="Ames")
        state.dv_create()
        state.dv_create()
        state.dv_create()
        state.ac_delete(i=72)
        state.dv_create()
        state.dv_email_change(i=20)
        state.another_pass(kill="after_links_saved")
        state.plain_pass()
        state.ac_unsubscribe(i=25)
        state.ac_edit(i=23, name="Cole")
        state.dv_delete(i=50)
        state.ac_delete(i=65)
        state.ac_delete(i=68)
        state.ac_edit(i=68, name="Dunn")
        state.dv_email_change(i=21)
        state.ac_edit(i=32, name="Dunn")
        state.dv_create()
        state.dv_create()
        state.dv_create()
        state.dv_create()
        state.dv_create()
    finally:
        state.teardown()


def test_found_by_the_large_run_an_unsubscribe_then_an_ac_delete_under_readings(
    storage_connection_string: str, tmp_path: Path
) -> None:
    """Seed 1214799298912034263489911169566 (60 x 20, ac:bounce_scope, global_unsubscribe_reading and
    undocumented_list_filters flipped; the steps run here under the defaults): "an opt-out was undone", the
    same shape (an AC unsubscribe, an AC delete, then email changes in Dynamics)."""
    state: Any = machine(storage_connection_string, tmp_path)()
    try:
        state.ac_delete(i=10)
        state.plain_pass()
        state.plain_pass()
        state.dv_create()
        state.dv_create()
        state.dv_create()
        state.dv_create()
        state.dv_create()
        state.ac_delete(i=1)
        state.dv_create()
        state.dv_email_change(i=81)
        state.dv_create()
        state.another_pass(kill="after_optout_page")
        state.dv_create()
        state.ac_unsubscribe(i=90)
        state.ac_delete(i=56)
        state.ac_edit(i=50, name="Eyre")
        state.dv_email_change(i=55)
        state.ac_edit(i=25, name="Eyre")
        state.dv_email_change(i=99)
    finally:
        state.teardown()


def test_found_by_the_large_run_a_dynamics_edit_after_an_ac_edit_lost(
    storage_connection_string: str, tmp_path: Path
) -> None:
    """Seed 288215745908124329295552949108994115162 (100 x 30, at 6cfadd8; shrinking cut short): an AC edit
    then, a minute later, a Dynamics edit of the same last name; after converging, Dynamics held the older AC
    value. Traced: the Dynamics "edit" (``dv_edit(i=0, name="Eyre")``) set the value the record already held
    and had last synced, so only AC changed the field and AC's value rightly travelled (no conflict: the rule
    is not asked). The machine counted the no-op save as the last edit; it now counts it as a touch only."""
    state: Any = machine(storage_connection_string, tmp_path)()
    try:
        state.ac_delete(i=5)
        state.plain_pass()
        state.dv_create()
        state.plain_pass()
        state.ac_unsubscribe(i=92)
        state.dv_delete(i=54)
        state.ac_edit(i=46, name="Cole")
        state.sync_pass(kill="after_dynamics_write")
        state.ac_delete(i=4)
        state.sync_pass(kill="after_ac_write")
        state.ac_edit(i=86, name="Cole")
        state.sync_pass(kill="after_links_saved")
        state.sync_pass(kill="after_optout_page")
        state.dv_edit(i=87, name="Eyre")
        state.dv_create()
        state.dv_create()
        state.sync_pass(kill="after_links_saved")
        state.ac_edit(i=0, name="Ames")
        state.dv_edit(i=0, name="Eyre")
        state.dv_email_change(i=41)
        state.dv_email_change(i=35)
        state.another_pass(kill="after_ac_write")
        state.dv_delete(i=11)
        state.dv_create()
        state.another_pass(kill="after_optout_page")
        state.dv_create()
        state.dv_email_change(i=33)
        state.dv_email_change(i=41)
        state.sync_pass(kill="after_ac_write")
    finally:
        state.teardown()
