"""$filter semantics, straight against the parser/evaluator (dynamics-webapi.md §9)."""

from __future__ import annotations

from typing import Any

import pytest

from sandbox.dynamics.errors import DataverseError
from sandbox.dynamics.odata_filter import FilterOptions, Getter, Kind, compile_filter, like_to_regex, parse_filter

KINDS = {
    "name": Kind.STRING,
    "email": Kind.STRING,
    "city": Kind.STRING,
    "n": Kind.NUMBER,
    "flag": Kind.BOOL,
    "_owner_value": Kind.GUID,
    "when": Kind.DATETIME,
}
ROWS: list[dict[str, Any]] = [
    {"id": 1, "name": "O'Bryan", "email": "a_b@x.com", "city": "Zürich", "n": 5, "flag": True,
     "_owner_value": "6f9619ff-8b86-d011-b42d-00c04fc964ff", "when": 1_700_000_000.0},
    {"id": 2, "name": "obryan", "email": "axb@x.com", "city": "zurich", "n": 10, "flag": False,
     "_owner_value": None, "when": 1_600_000_000.0},
    {"id": 3, "name": "100% Corp", "email": "[x]@y.com", "city": None, "n": None, "flag": None,
     "_owner_value": None, "when": None},
    {"id": 4, "name": "Ann", "email": "ann@x.com", "city": "Ann", "n": 7, "flag": True,
     "_owner_value": None, "when": 1_650_000_000.0},
]  # fmt: skip


def _resolve(path: str) -> tuple[Getter, str]:
    if path not in KINDS:
        raise DataverseError(400, "0x0", f"Could not find a property named '{path}'")
    return (lambda row: row.get(path)), KINDS[path]


def ids(text: str, options: FilterOptions | None = None, aliases: dict[str, str] | None = None) -> list[int]:
    match = compile_filter(text, _resolve, options, aliases)
    return [r["id"] for r in ROWS if match(r)]


# (filter, expected ids, source line in dynamics-webapi.md)
CASES = [
    ("name eq 'obryan'", [2], "§9 'String filters are case-insensitive'"),
    ("name eq 'OBRYAN'", [2], "§9 case-insensitive"),
    ("name eq 'O''Bryan'", [1], "§9 'Escape a single quote by doubling'"),
    ("n gt 5", [2, 4], "§9 operators eq ne gt ge lt le"),
    ("n ge 5 and n le 7", [1, 4], "§9 and"),
    ("n lt 6 or n eq 10", [1, 2], "§9 or"),
    ("not (n eq 5)", [2, 4], "§9 not (null row stays unknown → excluded)"),
    ("(n eq 5 or n eq 7) and flag eq true", [1, 4], "§9 parentheses"),
    ("n eq null", [3], "§9 'Null checks: eq null'"),
    ("n ne null", [1, 2, 4], "§9 'ne null'"),
    ("city eq name", [4], "§9 same-table column comparison"),
    ("contains(name,'bry')", [1, 2], "§9 contains, case-insensitive"),
    ("startswith(name,'o')", [1, 2], "§9 startswith"),
    ("endswith(email,'@x.com')", [1, 2, 4], "§9 endswith"),
    ("not contains(name,'bry')", [3, 4], "§9 'negate with not'"),
    ("contains(email,'a_b')", [1, 2], "§9 '_' is a wildcard in string functions"),
    ("contains(email,'a[_]b')", [1], "§9 '[_]' escapes the wildcard"),
    ("contains(name,'100%')", [3], "§9 '%' is a wildcard"),
    ("contains(name,'0[%] C')", [3], "§9 '[%]' escapes the wildcard"),
    ("startswith(email,'[[]x]')", [3], "§9 '[[]' is a literal bracket"),
    ("startswith(email,'a[a-x]b')", [2], "§9 '[]' character range"),
    ("startswith(email,'a[_x]b')", [1, 2], "§9 '[]' character set"),
    ("startswith(email,'a[^_]b')", [2], "§9 '[^]' negated set"),
    ("_owner_value eq 6F9619FF-8B86-D011-B42D-00C04FC964FF", [1], "§9 GUID literal unquoted; lookup _x_value"),
    ("when ge 2023-01-01T00:00:00Z", [1], "§9 DateTime literal unquoted ISO-8601"),
    ("when lt 2022-05-01T00:00:00.000Z and when gt 2020-01-01T00:00:00+01:00", [2, 4], "§2.2 datetime literals"),
    ("flag", [1, 4], "boolean property as a filter"),
    ("name eq @p1", [1], "§3 parameter aliases in $filter"),
]


@pytest.mark.parametrize(("text", "expected", "source"), CASES, ids=[c[0] for c in CASES])
def test_filter_table(text: str, expected: list[int], source: str) -> None:
    assert ids(text, aliases={"@p1": "'o''bryan'"}) == expected, source


def test_accents_fold_by_default_and_switch_makes_them_significant() -> None:
    assert ids("city eq 'Zurich'") == [1, 2]
    assert ids("city eq 'Zurich'", FilterOptions(accent_insensitive=False)) == [2]


def test_ne_on_null_column_switch() -> None:
    assert ids("n ne 5") == [2, 4]
    assert ids("n ne 5", FilterOptions(ne_matches_null=True)) == [2, 3, 4]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("name eq 'O'Bryan'", "unterminated"),
        ("name eq 'abc", "unterminated literal"),
        ("nope eq 1", "Could not find a property"),
        ("name eq 5", "incompatible types"),
        ("n eq 'x'", "incompatible types"),
        ("substringof('a',name)", "unknown function"),
        ("(n eq 1", "Syntax error"),
        ("n gt null", "cannot be used with null"),
    ],
)
def test_bad_filters_are_400(text: str, message: str) -> None:
    with pytest.raises(DataverseError) as info:
        compile_filter(text, _resolve)
    assert info.value.status == 400
    assert message in info.value.message


def test_like_translation_is_anchored() -> None:
    pattern = like_to_regex("a%", str.casefold)
    assert pattern.fullmatch("abc") and not pattern.fullmatch("bac")


def test_parse_is_pure() -> None:
    assert parse_filter("a eq 1 and (b eq 2 or not c)") == parse_filter("a eq 1 and (b eq 2 or not c)")


@pytest.mark.parametrize(
    ("pattern", "text", "matches"),
    [
        ("a[z-a]b", "axb", False),  # reversed range: matches nothing, never a 500
        ("a[^z-a]b", "axb", True),
        ("a[z-ax]b", "axb", True),
        ("a[ß-ü]b", "aüb", True),  # folding that expands a range end (ß → ss) keeps one character
    ],
)
def test_like_bracket_edge_cases(pattern: str, text: str, matches: bool) -> None:
    assert bool(like_to_regex(pattern, str.casefold).fullmatch(text)) is matches


def test_reversed_range_in_a_filter_is_no_error() -> None:
    assert ids("startswith(email,'a[z-a]b')") == []
