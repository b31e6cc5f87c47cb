"""The records `make pages` gives the seller's story: readable by Sam Seller in Dynamics or, for one, not.

The API asks Dynamics (``RetrievePrincipalAccess`` bound to the seller) before it shows a record; these pin
that the seeded choice agrees with the stand-in's answer, which the browser test then relies on.
"""

from __future__ import annotations

from typing import Any

from devtools.pages_seed import SITE_VISITS, choose_records, seed_history
from sandbox.activecampaign import create_app as create_ac
from sandbox.clock import SandboxClock
from sandbox.dynamics import Dataverse
from sandbox.dynamics import create_app as create_dv
from sandbox.dynamics.security import access_rights, principal
from sync_core.engine.sales_view import PAGE_VISIT


def _sam_reads(dv: Dataverse, logical: str, row: dict[str, Any]) -> bool:
    sam = next(u for u in dv.rows["systemuser"].values() if u.get("fullname") == "Sam Seller")
    return "ReadAccess" in access_rights(dv, [principal(dv, "systemuser", sam["systemuserid"])], logical, row)


def test_the_seller_reads_his_records_and_not_the_other_business_unit_s() -> None:
    dv = create_dv(clock=SandboxClock(), tokens=["t"], seed=1, seed_contacts=60).state.dataverse
    chosen = choose_records(dv)
    assert _sam_reads(dv, "contact", chosen["seller_contact"])
    assert _sam_reads(dv, "lead", chosen["seller_lead"])
    assert not _sam_reads(dv, "contact", chosen["unreadable_contact"])
    assert all(r.get("emailaddress1") for r in chosen.values())


def test_the_seller_s_contact_has_a_history_in_activecampaign() -> None:
    dv = create_dv(clock=SandboxClock(), tokens=["t"], seed=1, seed_contacts=60).state.dataverse
    ac = create_ac(clock=SandboxClock(), seed=1).state.ac
    person = choose_records(dv)["seller_contact"]
    seed_history(ac, person)
    contact = ac.contact_by_email(person["emailaddress1"])
    assert contact is not None
    logs = [log for log in ac.tracking_logs.values() if log["contact"] == contact.id]
    assert len(logs) == SITE_VISITS and {log["type"] for log in logs} == {PAGE_VISIT}  # the panel's "Site visit"
    assert {a["reference_type"] for a in ac.activities.values() if a["contact"] == contact.id} == \
        {"CampaignSend", "CampaignOpen"}
    assert {a["name"] for a in ac.automations.values()} >= {"Welcome series", "Re-engagement"}
