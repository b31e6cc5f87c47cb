"""Records and catalogues the seller tests use: leads owned by a given user, AC automations and campaigns."""

from __future__ import annotations

from typing import Any

from sandbox.activecampaign.seed import seed_account
from tests.api.conftest import CID, Api

P = f"/api/connections/{CID}"
LLN = "@Microsoft.Dynamics.CRM.lookuplogicalname"


def record_path(entity: str, record_id: str) -> str:
    return f"{P}/records/{entity}/{record_id}"


def owned_lead(api: Api, owner: str, *, email: str | None = "lena.lead@example.com", first: str = "Lena") -> str:
    """A new lead owned by ``owner`` (a user's full name), with that email (or none)."""
    user = api.user(owner)
    values: dict[str, Any] = {"firstname": first, "lastname": "Lead", "subject": "Interested"}
    if email:
        values["emailaddress1"] = email
    row = api.dv.create("lead", values)
    row["_ownerid_value"] = user["systemuserid"]
    row["_ownerid_value" + LLN] = "systemuser"
    return str(row["leadid"])


def catalogue(api: Api) -> None:
    """The seeded AC catalogue (automations 1, 2 active and 3 paused; campaigns 1, 2 sent and 3 a draft)."""
    seed_account(api.ac, 0)


async def sams_lead(api: Api, email: str = "lena.lead@example.com") -> tuple[str, dict[str, str]]:
    """Connected, the catalogue seeded, a new lead of Sam Seller's: its record path and Sam's headers."""
    await api.connect()
    catalogue(api)
    return record_path("lead", owned_lead(api, "Sam Seller", email=email)), api.auth("Sam Seller")
