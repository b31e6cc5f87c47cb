"""The operators offered per column type (``operators_for``) are exactly those the criteria checks accept."""

from __future__ import annotations

from typing import Any

import pytest

from sync_core.dynamics import AttributeMetadata, EntityMetadata
from sync_core.engine.validation_criteria import (
    CRITERIA_TYPES,
    OPERATORS,
    check_criteria,
    operators_for,
    value_kind,
)
from sync_core.model.config import Condition, EntityMapping
from sync_core.model.criteria import LIST_OPERATORS, NO_VALUE_OPERATORS

SAMPLE: dict[str | None, Any] = {"text": "son", "yes_no": True, "whole_number": 3, "number": 2.5,
                                 "date": "2026-01-31", "record_id": "5e1f0000-0000-4000-8000-000000000000",
                                 None: "anything"}
UNKNOWN = ("MultiSelectPicklistType", "ImageType", "VirtualType", "EntityNameType")


@pytest.mark.parametrize("type_name", [*CRITERIA_TYPES, *UNKNOWN])
def test_offered_operators_are_the_accepted_ones(type_name: str) -> None:
    meta = EntityMetadata("lead", "leads", "leadid", "fullname", True,
                          {"col": AttributeMetadata("col", type_name, "None")})
    sample = SAMPLE[value_kind(type_name)]
    accepted = []
    for op in OPERATORS:
        value = None if op in NO_VALUE_OPERATORS else [sample] if op in LIST_OPERATORS else sample
        mapping = EntityMapping(enabled=True, scope="criteria",
                                criteria=[Condition(field="col", operator=op, value=value)])
        if not check_criteria("lead", mapping, meta, "entities.leads"):
            accepted.append(op)
    assert operators_for(type_name) == accepted
    assert (value_kind(type_name) is not None) == (type_name in CRITERIA_TYPES)
