"""Criteria and custom filters: parsing, checking and in-memory evaluation (no services needed)."""

from __future__ import annotations

import pytest

from sync_core.dynamics import ODataSyntaxError, escape_like, parse_filter
from sync_core.dynamics import compile_criteria as to_odata_filter
from sync_core.model.config import Condition
from sync_core.model.criteria import matches


def test_custom_filter_parses_and_lists_columns() -> None:
    f = parse_filter("estimatedvalue gt 1000 and (stepname eq 'Propose' or not contains(name,'test'))")
    assert f.columns() == {"estimatedvalue", "stepname", "name"}
    assert f.matches({"estimatedvalue": 5000, "stepname": "propose", "name": "x"})
    assert not f.matches({"estimatedvalue": 10, "stepname": "Propose", "name": "x"})
    assert f.matches({"estimatedvalue": 5000, "stepname": "Close", "name": "big deal"})
    assert not f.matches({"estimatedvalue": 5000, "stepname": "Close", "name": "a TEST deal"})


@pytest.mark.parametrize("text", [
    "name eq", "name like 'x'", "substringof('a',name)", "name eq 'unterminated", "(name eq 'a'", "", "name eq 'a' xor",
])
def test_custom_filter_refuses_what_it_does_not_support(text: str) -> None:
    with pytest.raises(ODataSyntaxError):
        parse_filter(text)


def test_wildcards_in_custom_filters_behave_like_dataverse() -> None:
    assert parse_filter("startswith(name,'a%c')").matches({"name": "abbbc-x"})
    assert parse_filter("contains(name,'a_c')").matches({"name": "xxabcxx"})
    assert not parse_filter("contains(name,'a[_]c')").matches({"name": "xxabcxx"})
    assert parse_filter("contains(name,'a[_]c')").matches({"name": "xxa_cxx"})
    assert parse_filter("endswith(name,'[^x]z')").matches({"name": "ayz"})
    assert not parse_filter("endswith(name,'[^x]z')").matches({"name": "axz"})


def test_null_is_unknown_except_for_null_checks() -> None:
    assert parse_filter("name eq null").matches({"name": None})
    assert not parse_filter("name ne 'a'").matches({"name": None})
    assert not parse_filter("not (name eq 'a')").matches({"name": None})
    assert parse_filter("name ne null or stepname eq 'x'").matches({"name": "n", "stepname": None})


def test_criteria_compile_escapes_values() -> None:
    conds = [Condition(field="lastname", operator="contains", value="O'Brien_%"),
             Condition(field="leadsourcecode", operator="in", value=[1, 8])]
    flt = to_odata_filter(conds)
    assert flt == "(contains(lastname,'O''Brien[_][%]')) and (leadsourcecode eq 1 or leadsourcecode eq 8)"
    assert escape_like("[a]") == "[[]a]"


def test_criteria_in_memory_are_case_insensitive_and_literal() -> None:
    conds = [Condition(field="lastname", operator="contains", value="o'brien_")]
    assert matches({"lastname": "Mc O'BRIEN_x"}, conds)
    assert not matches({"lastname": "Mc O'BRIENax"}, conds)
    assert matches({"parentcustomerid": None}, [Condition(field="parentcustomerid", operator="is_empty")])
    assert matches({"_parentcustomerid_value": "abc"}, [Condition(field="parentcustomerid", operator="is_not_empty")])
    assert not matches({"lastname": None}, [Condition(field="lastname", operator="ne", value="x")])


def test_condition_values_fit_their_operator() -> None:
    with pytest.raises(ValueError, match="takes no value"):
        Condition(field="a", operator="is_empty", value="x")
    with pytest.raises(ValueError, match="non-empty list"):
        Condition(field="a", operator="in", value="x")
    with pytest.raises(ValueError, match="one value"):
        Condition(field="a", operator="eq", value=None)
