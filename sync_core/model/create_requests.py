"""Creates on request (issue 18): the settings and the rules a configuration must meet to use them."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from sync_core.model.state import EntityName

if TYPE_CHECKING:
    from sync_core.model.config import ConnectionConfig


_SURROGATE = re.compile("[\ud800-\udfff]")


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=False)

    @field_validator("*", mode="after")
    @classmethod
    def _unicode_text(cls, v: object) -> object:
        if isinstance(v, str) and _SURROGATE.search(v):
            raise ValueError("contains an unpaired UTF-16 surrogate: not valid Unicode text")
        return v


_GUID = r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"
_PEOPLE: tuple[EntityName, ...] = ("contact", "lead")
REQUIRED_ON_CREATE: dict[str, tuple[str, ...]] = {"lead": ("subject", "lastname"), "contact": ("lastname",)}
"""Business-required columns of a record created on request: a constant fills them when AC has no value."""


class OwnerRef(_Model):
    """The Dynamics user or owner team that owns records created on request (checked against Dynamics)."""

    kind: Literal["systemuser", "team"]
    id: str = Field(pattern=_GUID)

    @field_validator("id")
    @classmethod
    def _lower(cls, v: str) -> str:
        return v.lower()


class CreateRequestSettings(_Model):
    """Dynamics leads and contacts created on ActiveCampaign's request (README "Creates on request")."""

    enabled: bool = False
    tag_create_lead: str | None = Field(default="D365: Create Lead", min_length=1, max_length=255)
    """The AC tag an automation adds to ask for a lead (null: no lead requests by tag)."""
    tag_create_contact: str | None = Field(default="D365: Create Contact", min_length=1, max_length=255)
    tag_pulled: str = Field(default="D365: Pulled from ActiveCampaign", min_length=1, max_length=255)
    owner: OwnerRef | None = None
    """Owner of every record created: required, so the application user never silently owns them."""
    other_kind: Literal["create", "refuse"] = "create"
    """A request for a contact whose email is already a lead (or the reverse): ``create`` the record asked for
    (the AC contact then links to both, as the link model allows); ``refuse`` records a
    ``exists_as_other_kind`` error and creates nothing."""
    pages_per_pass: int = Field(default=5, ge=1, le=100)
    """Pages of 100 of the tag read (``GET /contacts?tagid=…``) one pass may spend per kind."""

    def tag_for(self, entity: EntityName) -> str | None:
        return self.tag_create_lead if entity == "lead" else self.tag_create_contact if entity == "contact" else None

    def requested(self) -> list[EntityName]:
        """The tables records are created in on request."""
        return [e for e in _PEOPLE if self.enabled and self.tag_for(e)]


def check_create_requests(config: ConnectionConfig) -> None:
    """Refuse what creates on request could not carry out, naming the field."""
    r, entities = config.create_requests, config.entities
    if r.enabled and r.owner is None:
        raise ValueError("create_requests.owner: a user or owner team must own the records created on request "
                         "(never silently the application user)")
    if r.enabled and not config.requested():
        raise ValueError("create_requests.tag_create_lead: name at least one request tag")
    names: dict[EntityName, tuple[str, str]] = {"lead": ("leads", "tag_create_lead"),
                                                "contact": ("contacts", "tag_create_contact")}
    for entity, (key, tag) in names.items():
        if entity in config.requested() and not entities.of(entity).pulls:
            raise ValueError(f"create_requests.{tag}: {key} must sync ActiveCampaign → Dynamics (entities.{key} "
                             "enabled, direction bidirectional or pull), or set the tag to null")
    for key in ("accounts", "opportunities"):
        if getattr(entities, key).constants:
            raise ValueError(f"entities.{key}.constants: only contacts and leads are created on request")
    for entity, (key, _) in names.items():
        constants = entities.of(entity).constants
        if constants and entity not in config.requested():
            raise ValueError(f"entities.{key}.constants: constants fill records created on request, which is off "
                             f"for {key} (create_requests)")
        if entity in config.requested():
            for col in REQUIRED_ON_CREATE[entity]:
                if constants.get(col) in (None, ""):
                    raise ValueError(f"entities.{key}.constants: {col} is required by Dynamics for a {entity} "
                                     "created on request; give it a constant (used when ActiveCampaign has none)")
