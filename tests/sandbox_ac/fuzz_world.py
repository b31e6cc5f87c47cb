"""The small account every fuzz case starts from: one or more of each record, ids starting at 1."""

from __future__ import annotations

from sandbox.activecampaign.custom_objects import create_schema, upsert_record
from sandbox.activecampaign.imports import submit_import
from sandbox.activecampaign.routes_accounts import create_acf_meta_record, set_acf_value
from sandbox.activecampaign.state import ACState

SCHEMA = {"slug": "fuzz-object", "labels": {"singular": "Fuzz", "plural": "Fuzzes"},
          "fields": [{"id": "my-number-field", "labels": {"singular": "N", "plural": "Ns"}, "type": "number"}],
          "relationships": [{"id": "primary-contact", "labels": {"singular": "C", "plural": "Cs"},
                             "namespace": "contacts", "hasMany": False}]}


def build_world(ac: ACState) -> dict[str, str]:
    """Reset ``ac`` to the world and return the ids path parameters may point at (by first path segment)."""
    ac.reset(seed_contacts=5)
    meta = create_acf_meta_record(ac, {"fieldLabel": "Size", "fieldType": "text"})
    account = ac.create_account("Fuzz Account", "https://fuzz.example")
    set_acf_value(ac, account, meta["id"], "50")
    ac.link_account(1, account["id"], "Buyer")
    ac.contact_automations[1] = {"id": ac.next_id("contactAutomation"), "contact": 1, "automation": 1,
                                 "adddate": ac.now()}
    schema = create_schema(ac, SCHEMA)
    _, record = upsert_record(ac, schema, {"externalId": "doc-1", "fields": [{"id": "my-number-field", "value": 1}],
                                          "relationships": {"primary-contact": [1]}})
    submit_import(ac, {"contacts": [{"email": "fuzz-import@example.com"}, {"email": "fuzz-import2@example.com"}]})
    return {"customObjects": schema["id"], "schema": schema["id"], "record": record["id"]}
