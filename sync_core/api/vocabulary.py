"""The words of the data configuration, from the engine's own definitions: the operators a criterion
may use on a column of each type (``engine.validation_criteria``, the same checks every save runs),
what each operator takes, and each entity's standard mappings (``model.standard``). The pages build
their choices from this instead of keeping a copy."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from sync_core.api.schemas import EntityParam
from sync_core.engine.validation_criteria import (
    ANY_TYPE_OPERATORS,
    CRITERIA_TYPES,
    OPERATORS,
    ValueKind,
    operators_for,
    value_kind,
)
from sync_core.engine.validation_types import CONFIG_KEY
from sync_core.model.config import Operator
from sync_core.model.criteria import LIST_OPERATORS, NO_VALUE_OPERATORS
from sync_core.model.standard import STANDARD_FIELDS


class OperatorInfo(BaseModel):
    operator: Operator
    value: Literal["none", "one", "list"] = Field(
        description="What the condition's value is: absent, one value, or a non-empty list")


class ColumnType(BaseModel):
    type: str = Field(description="The Dynamics column type (AttributeTypeName), as `GET …/fields/{entity}` gives it")
    value: ValueKind = Field(description="What a value compared with such a column is")
    operators: list[Operator]


class StandardMapping(BaseModel):
    key: str = Field(description="The key of the entity's `standard` toggles")
    dynamics: str
    activecampaign: str
    locked: bool = Field(description="Always on: the toggle cannot turn it off")


class EntityWords(BaseModel):
    entity: EntityParam
    config_key: str = Field(description="The entity's key under `entities` in the data configuration")
    standard: list[StandardMapping]


class VocabularyView(BaseModel):
    operators: list[OperatorInfo]
    column_types: list[ColumnType] = Field(description="The column types criteria compare with a value")
    other_types: list[Operator] = Field(
        description="The operators a column of a type not listed may use (it has no value to compare with)")
    entities: list[EntityWords]


def _takes(op: Operator) -> Literal["none", "one", "list"]:
    return "none" if op in NO_VALUE_OPERATORS else "list" if op in LIST_OPERATORS else "one"


def _kind(type_name: str) -> ValueKind:
    kind = value_kind(type_name)
    assert kind is not None, type_name  # CRITERIA_TYPES are the types value_kind knows
    return kind


def vocabulary() -> VocabularyView:
    return VocabularyView(
        operators=[OperatorInfo(operator=op, value=_takes(op)) for op in OPERATORS],
        column_types=[ColumnType(type=t, value=_kind(t), operators=operators_for(t)) for t in CRITERIA_TYPES],
        other_types=list(ANY_TYPE_OPERATORS),
        entities=[EntityWords(entity=e, config_key=CONFIG_KEY[e],
                              standard=[StandardMapping(key=f.key, dynamics=f.dynamics, activecampaign=f.activecampaign,
                                                        locked=f.locked) for f in fields])
                  for e, fields in STANDARD_FIELDS.items()])
