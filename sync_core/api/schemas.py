"""Request and response bodies of the admin API (every one a pydantic model)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from sync_core.model.config import (
    ConsentSettings,
    CreateRequestSettings,
    DynamicsAuth,
    EntitiesConfig,
    Frequency,
    PushSettings,
    TextOnly,
)
from sync_core.model.secrets import header_safe_problem
from sync_core.model.state import EntityName, Side

EntityParam = Literal["account", "contact", "lead", "opportunity"]
ProductRole = Literal["ActiveCampaign User", "ActiveCampaign Admin"]


class _In(TextOnly):
    model_config = ConfigDict(extra="forbid")


# --- connection --------------------------------------------------------------------------------

ETAG_PATTERN = "^W/\"datetime'[0-9A-Za-z%.:-]{1,64}'\"$"
"""The shape of a Table Storage ETag; it goes into If-Match, so nothing else may (not even ``*``)."""
_WRITE_ONLY: dict[str, Any] = {"writeOnly": True, "format": "password"}


class ConnectRequest(_In):
    display_name: str = Field(default="", max_length=200)
    activecampaign_api_url: str = Field(min_length=1, max_length=500,
                                        description="The API URL from ActiveCampaign's Settings > Developer")
    activecampaign_api_key: str = Field(min_length=1, max_length=500, description="Stored in the secret store only",
                                        json_schema_extra=_WRITE_ONLY)
    dynamics_environment_url: str = Field(min_length=1, max_length=500,
                                          description="e.g. https://org.crm.dynamics.com")
    dynamics_auth: DynamicsAuth | None = Field(
        default=None, description="How the app signs in to Dynamics (default: its own identity). The secret's "
                                  "name is the server's, never the request's")
    dynamics_secret: str | None = Field(default=None, min_length=1, max_length=20000,
                                        description="Client secret, PEM (key and certificate) or local token for "
                                                    "dynamics_auth; stored only in the secret store, bound to this "
                                                    "environment. Required when the environment or sign-in is new",
                                        json_schema_extra=_WRITE_ONLY)
    dynamics_access_token: str | None = Field(
        default=None, min_length=1, max_length=20000, json_schema_extra=_WRITE_ONLY,
        description="Your own Dataverse access token for the environment (MSAL, scope <environment>/.default). "
                    "Required with the app's own identity when the environment is new: your role there is "
                    "checked with it before the app's identity is used. Never stored or logged")

    @field_validator("activecampaign_api_key", "dynamics_access_token")
    @classmethod
    def _header_safe(cls, v: str | None) -> str | None:
        problem = header_safe_problem(v) if v is not None else None
        if problem:
            raise ValueError(problem)
        return v


class ConnectionView(BaseModel):
    connection_id: str
    display_name: str
    connected: bool
    activecampaign_api_url: str
    activecampaign_api_key: str | None = Field(description="Masked: set or not, and at most its last 4 characters")
    dynamics_environment_url: str
    dynamics_auth_kind: str
    tenant_id: str | None
    global_sync_enabled: bool
    reconnect_required: bool = Field(default=False, description="Saved before secrets had server-derived names: "
                                                                "connect again before it syncs")


# --- users -------------------------------------------------------------------------------------

class DynamicsUser(BaseModel):
    user_id: str
    full_name: str | None = None
    email: str | None = None
    domain_name: str | None = None


class RoleGrant(BaseModel):
    role: ProductRole
    via: Literal["direct", "team"]
    team: str | None = None


class RoleHolder(BaseModel):
    user: DynamicsUser
    roles: list[RoleGrant]


class AssignRole(_In):
    user_id: str = Field(pattern=r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
    role: ProductRole


class RoleSetupResult(BaseModel):
    created: list[str]


# --- configuration -----------------------------------------------------------------------------

class ConfigIssueOut(BaseModel):
    field: str
    message: str
    candidates: list[str] | None = None


class DataConfig(TextOnly):
    """The writable part of the configuration: what syncs and how fields map."""

    model_config = ConfigDict(extra="forbid")
    entities: EntitiesConfig
    push: PushSettings = Field(default_factory=PushSettings)
    consent: ConsentSettings = Field(default_factory=ConsentSettings)
    create_requests: CreateRequestSettings = Field(default_factory=CreateRequestSettings)


class ConfigView(BaseModel):
    connection_id: str
    etag: str
    config: DataConfig


class ConfigUpdate(_In):
    config: DataConfig
    etag: str | None = Field(default=None, max_length=200, pattern=ETAG_PATTERN,
                             description="The etag read with the configuration: refuses to overwrite a newer one")


class FieldInfo(BaseModel):
    name: str
    type: str
    label: str | None = None
    required: bool = False
    options: list[str] | None = None


class FieldsView(BaseModel):
    entity: EntityParam
    dynamics: list[FieldInfo]
    activecampaign: list[FieldInfo]
    field: str | None = None
    candidates: list[str] | None = Field(default=None, description="Compatible fields of the other side for `field`")


class Change(BaseModel):
    path: str
    before: Any = None
    after: Any = None


class PreviewCounts(BaseModel):
    entity: str
    counts: dict[str, int]


class PreviewSample(BaseModel):
    entity: str
    outcome: str = Field(description="skipped_criteria, skipped_no_email, linked_update_if_changed, "
                                     "would_link_by_email or would_create")
    dynamics_id: str
    name: str | None = None
    email: str | None = None


class JobView(BaseModel):
    job_id: str
    kind: Literal["preview"]
    status: Literal["running", "done", "failed"]
    started_at: datetime
    finished_at: datetime | None = None
    elapsed_seconds: float
    progress: str
    changes: list[Change] = []
    issues: list[ConfigIssueOut] = []
    counts: list[PreviewCounts] = []
    samples: list[PreviewSample] = []
    api_calls: dict[str, dict[str, int]] = {}
    message: str | None = None


# --- sync settings and status ------------------------------------------------------------------

class EntityProgress(BaseModel):
    entity: EntityName
    side: Side
    phase: str
    done: int
    total: int | None
    percent: float | None
    eta_seconds: float | None
    started_at: datetime | None
    finished_at: datetime | None


class SyncSettingsView(BaseModel):
    global_enabled: bool
    frequency: Frequency
    initial_sync: Literal["not_started", "running", "done"]
    progress: list[EntityProgress]


class SyncSettingsUpdate(_In):
    global_enabled: bool | None = None
    frequency: Frequency | None = None


class SyncNowResult(BaseModel):
    queued: bool
    requested_at: datetime


class RunView(BaseModel):
    run_id: str
    reason: str
    status: str
    started_at: datetime
    finished_at: datetime | None
    counts: dict[str, dict[str, int]]
    api_calls: dict[str, dict[str, int]]
    message: str | None


class StatusView(BaseModel):
    connection_id: str
    connected: bool
    global_enabled: bool
    frequency: Frequency
    progress: list[EntityProgress]
    last_success: dict[str, datetime | None]
    last_runs: list[RunView]
    api_calls_24h: dict[str, int] = Field(description="API calls per side in the runs of the last 24 hours")
    directions: dict[str, Literal["bidirectional", "push", "pull"]] = Field(
        default_factory=dict, description="Each enabled entity's direction")
    open_errors: int
    awaiting_import: int = Field(
        0, description="Records sent in bulk imports ActiveCampaign had not finished processing at the last pass's "
        "check: they are in ActiveCampaign once it has (its imports run asynchronously)")
    create_requests: dict[str, int] = Field(
        default_factory=dict, description="Creates asked for by ActiveCampaign: pending, done and failed")


class ConflictView(BaseModel):
    at: datetime
    run_id: str
    entity: EntityName
    dynamics_id: str
    ac_id: str | None
    field: str = Field(description="The Dynamics column")
    ac_field: str | None = Field(description="The ActiveCampaign field it maps to (as configured now)")
    dynamics_value: Any
    ac_value: Any
    dynamics_time: datetime | None
    ac_time: datetime | None
    rule: Literal["newest_wins", "dynamics_wins", "activecampaign_wins"]
    winner: Side


class ConflictPage(BaseModel):
    items: list[ConflictView]
    next_cursor: str | None = Field(description="Pass as cursor for the next (older) page; null: no more")


class FieldChange(BaseModel):
    field: str
    from_: Any = Field(alias="from", serialization_alias="from")
    to: Any

    model_config = ConfigDict(populate_by_name=True)


class HistoryEntry(BaseModel):
    at: datetime
    run_id: str
    direction: Literal["push", "pull"]
    why: str = Field(description="pushed, pulled, conflict:<rule>, merge, qualified, email move, …")
    changes: list[FieldChange]


class RecordHistory(BaseModel):
    entity: EntityName
    dynamics_id: str
    ac_id: str | None
    email: str | None
    items: list[HistoryEntry] = Field(description="Newest first, at most the last 50")


class ErrorView(BaseModel):
    entity: EntityName
    side: Side
    record_id: str
    code: str
    cause: str
    attempts: int
    retriable: bool
    first_seen: datetime | None
    last_seen: datetime | None
    next_retry: datetime | None


class ErasureRequest(_In):
    email: str = Field(min_length=3, max_length=320, pattern=r"^[^@\s]+@[^@\s]+$")


class ErasureView(BaseModel):
    suppression: str = Field(description="The salted hash the suppression is keyed by (the email is not kept)")
    ac_contacts_deleted: int
    rows_removed: dict[str, int] = Field(description="Table rows deleted or rewritten without the email, by table")
    dynamics: str = Field(description="What happens in Dynamics 365: nothing; it is left to the customer's process")


class LiftRequest(_In):
    email: str = Field(min_length=3, max_length=320, pattern=r"^[^@\s]+@[^@\s]+$")


class LiftView(BaseModel):
    suppression: str
    lifted: bool


class RetryRequest(_In):
    entity: EntityName | None = None
    side: Side | None = None
    record_id: str | None = Field(default=None, min_length=1, max_length=200)


class RetryResult(BaseModel):
    scheduled: int


# --- config as code, audit ---------------------------------------------------------------------

class ConfigDocument(TextOnly):
    """A connection's configuration without its identity or secrets, to apply to another connection."""

    model_config = ConfigDict(extra="forbid")
    schema_version: Literal[1] = 1
    entities: EntitiesConfig
    push: PushSettings = Field(default_factory=PushSettings)
    consent: ConsentSettings = Field(default_factory=ConsentSettings)
    create_requests: CreateRequestSettings = Field(default_factory=CreateRequestSettings)
    frequency: Frequency = "1h"


class ImportRequest(_In):
    document: ConfigDocument
    apply: bool = Field(default=False, description="false: only show the difference and the issues")
    etag: str | None = Field(default=None, max_length=200, pattern=ETAG_PATTERN,
                             description="The etag read with the configuration (as GET …/config answers it)")


class ImportResult(BaseModel):
    applied: bool
    changes: list[Change]
    issues: list[ConfigIssueOut]
    etag: str | None = None


class AuditView(BaseModel):
    at: datetime
    actor: str
    action: str
    target: str
    before: Any = None
    after: Any = None
