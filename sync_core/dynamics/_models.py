"""The values the client returns and takes."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sync_core.dynamics._errors import DataverseError


@dataclass(frozen=True)
class WhoAmI:
    user_id: str
    business_unit_id: str
    organization_id: str
    dop_hint: int | None = None
    """``x-ms-dop-hint``: the degree of parallelism the service recommends, when it says."""


@dataclass
class ChangePage:
    """One page of a change-tracking read. Save ``next_link`` (or, on the last page, ``delta_link``)."""

    records: list[dict[str, Any]]
    deleted_ids: list[str]
    next_link: str | None
    delta_link: str | None


@dataclass
class QueryPage:
    records: list[dict[str, Any]]
    next_link: str | None


@dataclass(frozen=True)
class CountResult:
    count: int
    limit_exceeded: bool
    """True when the service stopped counting (``$count`` is capped at 5,000)."""


@dataclass
class BatchOperation:
    """One request inside ``$batch``; ``url`` is relative to the service root (``contacts(<id>)``) or ``$n``."""

    method: str
    url: str
    body: dict[str, Any] | None = None
    headers: dict[str, str] | None = None
    content_id: str | None = None


@dataclass
class BatchResult:
    status: int
    body: dict[str, Any] | None
    headers: dict[str, str]
    error: DataverseError | None = None
    entity_id: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None and 200 <= self.status < 300


@dataclass(frozen=True)
class AttributeMetadata:
    logical_name: str
    type_name: str
    """``AttributeTypeName.Value``: ``StringType``, ``PicklistType``, ``LookupType``, ``CustomerType``…"""
    required_level: str
    """``None``, ``SystemRequired``, ``ApplicationRequired`` or ``Recommended``."""
    max_length: int | None = None
    is_valid_for_create: bool = True
    is_valid_for_update: bool = True
    targets: tuple[str, ...] = ()
    options: dict[int, str] | None = None
    schema_name: str | None = None


@dataclass(frozen=True)
class EntityMetadata:
    logical_name: str
    entity_set_name: str
    primary_id_attribute: str
    primary_name_attribute: str | None
    change_tracking_enabled: bool
    attributes: dict[str, AttributeMetadata] = field(default_factory=dict)
