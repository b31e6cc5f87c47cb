"""Migrations of the stored configuration document, one schema version at a time.

A step takes a version-``n`` document and returns a version ``n + 1`` one. What a step changed that
an admin should know goes in ``doc["__notes__"]`` (the store records it in the audit log when it
writes the migrated document back).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

Migration = Callable[[dict[str, Any]], dict[str, Any]]
NOTES = "__notes__"


def note(doc: dict[str, Any], text: str) -> None:
    doc.setdefault(NOTES, []).append(text)


def migrate_v1_to_v2(doc: dict[str, Any]) -> dict[str, Any]:
    """Schema 1 named its secrets (``activecampaign.api_key_secret``, ``dynamics.auth.secret_name``), and
    those names could come from a request: they are dropped, not trusted, and the connection must be
    connected again before any secret is used (its old secrets stay in the vault until an operator
    deletes them)."""
    doc = dict(doc)
    ac = dict(doc.get("activecampaign") or {})
    ac.pop("api_key_secret", None)
    dv = dict(doc.get("dynamics") or {})
    auth = dict(dv.get("auth") or {})
    auth.pop("secret_name", None)
    if dv:
        dv["auth"] = auth
    doc["activecampaign"], doc["dynamics"] = ac, dv
    doc["reconnect_required"] = True
    return doc


def migrate_v2_to_v3(doc: dict[str, Any]) -> dict[str, Any]:
    """Up to schema 2, ``direction`` defaulted to ``bidirectional`` while only Dynamics → ActiveCampaign
    was built: those connections pushed only. Schema 3 carries out every direction, so an upgrade must
    not start writing to anyone's system unasked: ``bidirectional`` becomes ``push`` and an enabled ``pull``
    entity (which synced nothing) is turned off, keeping its direction."""
    doc = dict(doc)
    entities = dict(doc.get("entities") or {})
    for key in ("accounts", "contacts", "leads"):
        mapping = dict(entities.get(key) or {})
        before = mapping.get("direction", "bidirectional")
        if before == "bidirectional":
            mapping["direction"] = "push"
            note(doc, f"entities.{key}.direction: bidirectional → push (ActiveCampaign → Dynamics was not built "
                      "before schema 3, so this connection only ever pushed; choose bidirectional to turn it on)")
        elif before == "pull" and mapping.get("enabled"):
            # A pull-only entity synced nothing before; pushing instead would write to AC unasked.
            mapping["enabled"] = False
            note(doc, f"entities.{key}.enabled: true → false (direction pull did nothing before schema 3; "
                      "enable it to start writing ActiveCampaign's changes to Dynamics)")
        entities[key] = mapping
    doc["entities"] = entities
    return doc


MIGRATIONS: dict[int, Migration] = {1: migrate_v1_to_v2, 2: migrate_v2_to_v3}
"""``{from_version: step}``; add a step (and its test) with every schema change."""
