"""Reading a connection file and its secrets file: refusals name the field, without pydantic's URLs."""

from __future__ import annotations

import json
import sys
from typing import Any

import pydantic

from sync_core.model.config import SCHEMA_VERSION, ConnectionConfig
from sync_core.model.secrets import PURPOSES, SECRET_KINDS, SecretPurpose, secret_problem
from sync_core.store import migrate_document


class ApplyRefused(Exception):
    """``config apply`` refuses the file (or, ``in_secrets``, the secrets file); the message names the field."""

    def __init__(self, message: str, *, in_secrets: bool = False) -> None:
        super().__init__(message)
        self.in_secrets = in_secrets


def field_errors(error: pydantic.ValidationError) -> str:
    """``field: message`` per problem, one a line (pydantic's own text carries a URL per error)."""
    lines = []
    for e in error.errors(include_url=False):
        where = ".".join(str(p) for p in e.get("loc", ())) or "(document)"
        msg = str(e.get("msg", "invalid")).removeprefix("Value error, ")
        lines.append(f"{where}: {msg}")
    return "\n  ".join(lines)


def parse_config(text: str, *, tenant: str | None = None) -> ConnectionConfig:
    """The file as a configuration; ``tenant`` is stamped on a file that names none (see Settings)."""
    try:
        doc = json.loads(text)
    except ValueError as e:
        raise ApplyRefused(f"not JSON: {e}") from None
    if isinstance(doc, dict) and doc.get("schema_version") == 1:
        raise ApplyRefused("schema_version 1 named its secrets: drop activecampaign.api_key_secret and "
                           "dynamics.auth.secret_name, set schema_version 3, and pass the secrets with --secrets "
                           'keyed by purpose ({"activecampaign_api_key": …, "dynamics_secret": …})')
    notes: list[str] = []
    if isinstance(doc, dict) and isinstance(doc.get("schema_version"), int) and 1 < doc["schema_version"] < \
            SCHEMA_VERSION:
        doc = migrate_document(doc, notes=notes)
    for n in notes:
        print(f"note: {n}", file=sys.stderr)
    if isinstance(doc, dict) and tenant and not doc.get("tenant_id"):
        doc = {**doc, "tenant_id": tenant}
    try:
        config = ConnectionConfig.model_validate(doc)
    except pydantic.ValidationError as e:
        raise ApplyRefused(field_errors(e)) from None
    if config.reconnect_required:
        raise ApplyRefused("reconnect_required: set by the server only")
    return config


def parse_secrets(text: str | None, config: ConnectionConfig) -> dict[SecretPurpose, str]:
    if text is None:
        return {}
    try:
        doc: Any = json.loads(text)
    except ValueError as e:
        raise ApplyRefused(f"not JSON: {e}", in_secrets=True) from None
    if not isinstance(doc, dict):
        raise ApplyRefused("must be a JSON object keyed by purpose", in_secrets=True)
    kind = config.dynamics.auth.kind
    out: dict[SecretPurpose, str] = {}
    for key, value in doc.items():
        if key not in PURPOSES:
            raise ApplyRefused(f"{key}: unknown key (the keys are {', '.join(PURPOSES)}; secret names are derived "
                               "by the server)", in_secrets=True)
        purpose: SecretPurpose = key
        if purpose == "dynamics_secret" and kind not in SECRET_KINDS:
            raise ApplyRefused(f"dynamics_secret: dynamics.auth.kind {kind} takes no secret", in_secrets=True)
        problem = secret_problem(purpose, kind, value) if isinstance(value, str) else "must be a string"
        if problem:
            raise ApplyRefused(f"{purpose} {problem}", in_secrets=True)
        out[purpose] = value
    return out
