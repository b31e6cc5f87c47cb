"""The connection's configuration document (schema-versioned).

One document per connection: where the two systems are (never a secret, nor a secret's name:
the server derives those, ``model.secrets``), what syncs, how fields map, and the sync settings.
The store keeps it as JSON; ``schema_version`` drives migrations (``model.migrations``).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, field_validator, model_validator

from sync_core.model.create_requests import CreateRequestSettings, check_create_requests
from sync_core.model.criteria import LIST_OPERATORS, NO_VALUE_OPERATORS, matches
from sync_core.model.standard import STANDARD_FIELDS
from sync_core.model.state import EntityName

SCHEMA_VERSION: Literal[3] = 3
MAX_CUSTOM_FILTER_LENGTH = 4000
"""Characters of a custom ``$filter`` (the parser also bounds its conditions and nesting)."""

Direction = Literal["bidirectional", "push", "pull"]
"""push: Dynamics → ActiveCampaign only; pull: ActiveCampaign → Dynamics only."""
FieldDirection = Literal["both", "push", "pull"]
Frequency = Literal["1h", "2h", "4h", "6h", "8h", "12h", "daily"]
FREQUENCY_HOURS: dict[str, int] = {"1h": 1, "2h": 2, "4h": 4, "6h": 6, "8h": 8, "12h": 12, "daily": 24}
ConflictRule = Literal["newest_wins", "dynamics_wins", "activecampaign_wins"]
Operator = Literal[
    "eq", "ne", "contains", "not_contains", "starts_with", "ends_with",
    "gt", "ge", "lt", "le", "is_empty", "is_not_empty", "in",
]
Scalar = str | int | float | bool

_CONNECTION_ID = re.compile(r"^[a-z0-9][a-z0-9-]{1,62}$")
_SURROGATE = re.compile("[\ud800-\udfff]")


def has_unpaired_surrogate(value: Any) -> bool:
    """A string (or one inside a list or dict, keys included) that is no Unicode text: JSON's ``\\ud8xx``
    escapes decode to such strings, and neither Table Storage nor any header can encode them."""
    if isinstance(value, str):
        return _SURROGATE.search(value) is not None
    if isinstance(value, dict):
        return any(has_unpaired_surrogate(k) or has_unpaired_surrogate(v) for k, v in value.items())
    if isinstance(value, list | tuple):
        return any(has_unpaired_surrogate(v) for v in value)
    return False


class TextOnly(BaseModel):
    """Every field holds valid Unicode text (nested models check their own fields)."""

    @field_validator("*", mode="after")
    @classmethod
    def _unicode_text(cls, v: Any) -> Any:
        if not isinstance(v, BaseModel) and has_unpaired_surrogate(v):
            raise ValueError("contains an unpaired UTF-16 surrogate: not valid Unicode text")
        return v


class _Model(TextOnly):
    model_config = ConfigDict(extra="forbid", frozen=False)


class Condition(_Model):
    """One criterion: ``field operator value``; conditions of an entity are ANDed."""

    field: str = Field(min_length=1)
    operator: Operator
    value: Scalar | list[Scalar] | None = None

    @model_validator(mode="after")
    def _value_fits_operator(self) -> Condition:
        if self.operator in NO_VALUE_OPERATORS:
            if self.value is not None:
                raise ValueError(f"operator {self.operator} takes no value")
        elif self.operator in LIST_OPERATORS:
            if not isinstance(self.value, list) or not self.value:
                raise ValueError("operator in takes a non-empty list of values")
        elif self.value is None or isinstance(self.value, list):
            raise ValueError(f"operator {self.operator} takes one value")
        return self


class FieldMapping(_Model):
    """A Dynamics column paired with an ActiveCampaign field."""

    dynamics: str = Field(min_length=1)
    activecampaign: str = Field(min_length=1)
    direction: FieldDirection = "both"
    conflict: ConflictRule | None = None
    option_map: dict[str, str] | None = None
    """Dynamics option value (as text) → AC dropdown option value, for option sets."""


class EntityMapping(_Model):
    """What of one entity syncs and how (the seed's Data Configuration for that entity)."""

    enabled: bool = False
    direction: Direction = "bidirectional"
    scope: Literal["all", "criteria", "custom"] = "all"
    criteria: list[Condition] = Field(default_factory=list)
    custom_filter: str | None = Field(default=None, max_length=MAX_CUSTOM_FILTER_LENGTH)
    standard: dict[str, bool] = Field(default_factory=dict)
    """Standard mapping toggles by key; missing keys are on."""
    custom: list[FieldMapping] = Field(default_factory=list)
    constants: dict[str, Scalar] = Field(default_factory=dict)
    """Dynamics column → value a record created on ActiveCampaign's request (``create_requests``) gets where
    its mapped AC value is empty; only contacts and leads are created, so only they take constants."""
    conflict: ConflictRule = "newest_wins"
    on_delete: Literal["keep", "unsubscribe", "tag", "delete"] = "keep"
    """A record deleted in Dynamics: ``keep`` unlinks (AC untouched); ``unsubscribe`` also unsubscribes the AC
    contact from the connection's lists; ``tag`` adds ``push.tag_deleted``; ``delete`` deletes the AC contact
    unless another linked record shares it. Contacts and leads only (else ``keep``)."""
    on_ac_delete: Literal["keep", "deactivate"] = "keep"
    """A linked AC record deleted: ``keep`` unlinks; ``deactivate`` also deactivates the Dynamics record
    (statecode, never a delete). Contacts and accounts only."""
    _entity: EntityName | None = PrivateAttr(default=None)

    @property
    def entity(self) -> EntityName:
        if self._entity is None:
            raise ValueError("this mapping is not bound to an entity: read it through EntitiesConfig.of()")
        return self._entity

    @property
    def pushes(self) -> bool:
        """Dynamics → ActiveCampaign for this entity."""
        return self.enabled and self.direction in ("bidirectional", "push")

    @property
    def pulls(self) -> bool:
        """ActiveCampaign → Dynamics for this entity."""
        return self.enabled and self.direction in ("bidirectional", "pull")

    def flows(self, m: FieldMapping) -> tuple[bool, bool]:
        """(Dynamics → AC, AC → Dynamics) for one field within the entity's direction (enabled or not)."""
        push = self.direction in ("bidirectional", "push") and m.direction in ("both", "push")
        pull = self.direction in ("bidirectional", "pull") and m.direction in ("both", "pull")
        return push, pull

    def fields(self) -> list[FieldMapping]:
        """Standard mappings that are on, then the custom ones."""
        return mapped_fields(self.entity, self)

    def fields_for(self, direction: Literal["push", "pull"]) -> list[FieldMapping]:
        """The mapped fields that travel in ``direction``."""
        i = 0 if direction == "push" else 1
        return [f for f in self.fields() if self.flows(f)[i]]

    def in_scope(self, record: Mapping[str, Any], *,
                 custom: Callable[[Mapping[str, Any]], bool] | None = None) -> bool:
        """Whether a Dynamics record is one this entity syncs (its criteria). The custom filter text of
        ``scope="custom"`` is OData, parsed by the Dynamics package: pass its ``matches`` as ``custom``."""
        if self.scope == "criteria":
            return matches(record, self.criteria)
        if self.scope == "custom" and self.custom_filter:
            if custom is None:
                raise ValueError("a custom filter needs its evaluator (sync_core.dynamics.parse_filter)")
            return custom(record)
        return True


class ActiveCampaignSettings(_Model):
    api_url: str

    @field_validator("api_url")
    @classmethod
    def _https_url(cls, v: str) -> str:
        v = v.strip().rstrip("/")
        if not re.match(r"^https?://[^/\s?#]+(/[^\s?#]*)?$", v):
            raise ValueError("must be the API URL from the ActiveCampaign Developer settings")
        return v


class DynamicsAuth(_Model):
    kind: Literal["client_secret", "certificate", "managed_identity", "workload_identity", "default", "static_token"]
    tenant_id: str | None = Field(default=None, pattern=r"^[A-Za-z0-9][A-Za-z0-9.-]{0,99}$")
    client_id: str | None = Field(default=None, pattern=r"^[A-Za-z0-9][A-Za-z0-9-]{0,99}$")
    """The app registration (client_secret, certificate) or user-assigned identity; its secret, if any, is
    stored under a name the server derives (never named here)."""


class DynamicsSettings(_Model):
    environment_url: str
    auth: DynamicsAuth = Field(default_factory=lambda: DynamicsAuth(kind="default"))

    @field_validator("environment_url")
    @classmethod
    def _env_url(cls, v: str) -> str:
        v = v.strip().rstrip("/")
        if not re.match(r"^https?://[^/\s?#]+$", v):
            raise ValueError("must be the environment URL, e.g. https://org.crm.dynamics.com")
        return v


class SyncSettings(_Model):
    global_enabled: bool = False
    frequency: Frequency = "1h"
    time_budget_seconds: float = Field(default=540.0, gt=0)
    """How long one pass may run before it checkpoints and continues in a new message."""


class PushSettings(_Model):
    """What contacts pushed to ActiveCampaign get."""

    list_ids: list[int] = Field(default_factory=list)
    subscribe: bool = True
    exclude_automations: bool = True
    tag_pushed: str = "D365: Pushed from Dynamics"
    tag_lead: str = "D365: Lead"
    tag_contact: str = "D365: Contact"
    tag_deleted: str = "D365: Deleted in Dynamics"


OptOutColumn = Literal["donotbulkemail", "donotemail"]
AcOptOut = Literal["unsubscribed", "bounced"]
AC_OPT_OUT_STATUS: dict[str, int] = {"unsubscribed": 2, "bounced": 3}
"""AC contactList status of each kind of opt-out."""


class ConsentSettings(_Model):
    """Opt-outs both ways for contacts and leads (README "Consent"). An opt-out on either side wins and
    the sync never re-subscribes anyone, unless ``opt_in`` lets a Dynamics opt-in travel."""

    dynamics_columns: list[OptOutColumn] = Field(default_factory=lambda: list[OptOutColumn](["donotbulkemail"]))
    """Dynamics columns that opt a record out (any true); AC opt-outs are written to ``donotbulkemail``."""
    ac_statuses: list[AcOptOut] = Field(default_factory=lambda: list[AcOptOut](["bounced", "unsubscribed"]))
    """The list statuses on the connection's lists (``push.list_ids``) that opt a person out in Dynamics."""
    opt_in: Literal["never", "from_dynamics"] = "never"
    """``from_dynamics``: clearing the opt-out columns in Dynamics re-subscribes the person to the lists."""
    scan_pages_per_pass: int = Field(default=20, ge=1, le=1000)
    """Pages of 100 of the opt-out read (``GET /contacts?listid=…&status=…``) one pass may spend."""

    @field_validator("dynamics_columns")
    @classmethod
    def _bulk_email_column(cls, v: list[OptOutColumn]) -> list[OptOutColumn]:
        if "donotbulkemail" not in v:
            raise ValueError("must include donotbulkemail: ActiveCampaign opt-outs are written there")
        return sorted(set(v))

    @field_validator("ac_statuses")
    @classmethod
    def _unique(cls, v: list[AcOptOut]) -> list[AcOptOut]:
        return sorted(set(v))


class EntitiesConfig(_Model):
    accounts: EntityMapping = Field(default_factory=EntityMapping)
    contacts: EntityMapping = Field(default_factory=lambda: EntityMapping(enabled=True))
    leads: EntityMapping = Field(default_factory=EntityMapping)
    opportunities: EntityMapping = Field(default_factory=lambda: EntityMapping(direction="push"))

    @model_validator(mode="after")
    def _delete_policies(self) -> EntitiesConfig:
        for name, m in (("accounts", self.accounts), ("opportunities", self.opportunities)):
            if m.on_delete != "keep":
                raise ValueError(f"entities.{name}.on_delete: only contacts and leads have a delete policy "
                                 "other than keep")
        for name, m in (("leads", self.leads), ("opportunities", self.opportunities)):
            if m.on_ac_delete != "keep":
                raise ValueError(f"entities.{name}.on_ac_delete: deactivate is for contacts and accounts "
                                 "(a lead closes by qualifying or disqualifying)")
        return self

    def of(self, entity: EntityName) -> EntityMapping:
        m = {"account": self.accounts, "contact": self.contacts,
             "lead": self.leads, "opportunity": self.opportunities}[entity]
        m._entity = entity
        return m


class ConnectionConfig(_Model):
    """One Dynamics environment paired with one ActiveCampaign account."""

    schema_version: Literal[3] = SCHEMA_VERSION
    connection_id: str
    display_name: str = ""
    tenant_id: str | None = None
    reconnect_required: bool = False
    """Set by the schema-1 migration: the secrets were stored under names a caller could choose, so none is
    used until the connection is connected again (``PUT …/connection`` or ``config apply --secrets``)."""
    activecampaign: ActiveCampaignSettings
    dynamics: DynamicsSettings
    sync: SyncSettings = Field(default_factory=SyncSettings)
    push: PushSettings = Field(default_factory=PushSettings)
    entities: EntitiesConfig = Field(default_factory=EntitiesConfig)
    consent: ConsentSettings = Field(default_factory=ConsentSettings)
    create_requests: CreateRequestSettings = Field(default_factory=CreateRequestSettings)

    def requested(self) -> list[EntityName]:
        """The tables records are created in on request."""
        r = self.create_requests
        return r.requested()

    @field_validator("connection_id")
    @classmethod
    def _id(cls, v: str) -> str:
        if not _CONNECTION_ID.match(v):
            raise ValueError("lower-case letters, digits and '-', 2 to 63 characters, starting alphanumeric")
        return v

    @model_validator(mode="after")
    def _defaults(self) -> ConnectionConfig:
        if self.entities.opportunities.direction != "push":
            raise ValueError("entities.opportunities.direction: opportunities sync Dynamics → ActiveCampaign only")
        if self.consent.opt_in == "from_dynamics" and not (self.push.list_ids and self.push.subscribe):
            raise ValueError("consent.opt_in: from_dynamics re-subscribes to push.list_ids, so it needs lists "
                             "and push.subscribe true")
        check_create_requests(self)
        return self


def mapped_fields(entity: EntityName, mapping: EntityMapping) -> list[FieldMapping]:
    """Standard mappings that are on, then the custom ones."""
    out = [
        FieldMapping(dynamics=s.dynamics, activecampaign=s.activecampaign)
        for s in STANDARD_FIELDS[entity]
        if s.locked or mapping.standard.get(s.key, True)
    ]
    out.extend(mapping.custom)
    return out


def to_document(config: ConnectionConfig) -> dict[str, Any]:
    return config.model_dump(mode="json")
