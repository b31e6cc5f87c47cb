"""Criteria in memory agree with the same criteria run by the Dataverse sandbox as ``$filter``.

Random records (quotes, LIKE wildcards ``% _ [ ] ^``, case, accents, ``ß``, empty strings, nulls,
numbers, booleans) are created in the sandbox through its Web API and read back; random criteria
(every operator) are compiled with ``to_odata_filter`` and run through the product's Dataverse
client; the ids it returns must be exactly the ids ``matches`` selects. The same holds for random
custom filter texts: ``parse_filter(text).matches`` against the sandbox running ``text``.

Every test runs under each combination of the two register switches that change the sandbox's
reading (#1 ``filter_accent_insensitive``, #2 ``ne_matches_null``); the product gets the same reading through its
parameters (``accent_insensitive``; ``ne_matches_null`` for custom texts — compiled criteria pin the
null case themselves and so take no such parameter). The sandbox's parser was written apart from the
product's and is used here only through HTTP.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from starlette.applications import Starlette

from sandbox.dynamics import create_app
from sync_core.clock import FakeClock
from sync_core.dynamics import DataverseClient, StaticTokenCredential, parse_filter
from sync_core.dynamics import compile_criteria as to_odata_filter
from sync_core.model.config import Condition
from sync_core.model.criteria import matches

TOKEN = "agreement-token"
ENV = "http://dataverse.agreement"

SETTINGS = settings(max_examples=20, deadline=None, derandomize=True, database=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])

# Small alphabets so that values collide often; every character is one the semantics must get right.
TEXT_CHARS = "aAáÁeÉsSß '%_[]^-"
PATTERN_CHARS = "aAáeÉsß %_[]^-"


@dataclass(frozen=True)
class Table:
    logical_name: str
    entity_set: str
    id_column: str
    text: tuple[str, ...]
    numbers: tuple[str, ...] = ()
    booleans: tuple[str, ...] = ()

    @property
    def columns(self) -> list[str]:
        return [*self.text, *self.numbers, *self.booleans]


CONTACTS = Table("contact", "contacts", "contactid",
                 ("firstname", "lastname", "emailaddress1", "telephone1", "jobtitle"), booleans=("donotbulkemail",))
OPPORTUNITIES = Table("opportunity", "opportunities", "opportunityid", ("name", "stepname"),
                      numbers=("estimatedvalue", "salesstage"))
TABLES = {"contacts": CONTACTS, "opportunities": OPPORTUNITIES}

WORDS = ["Straße", "STRASSE", "strasse", "Ångström", "angstrom", "ÉA", "ea", "O'Brien", "100%", "a_b", "a[b]",
         "^a", "-", "ss", "ß"]
texts = st.text(alphabet=TEXT_CHARS, max_size=4)
words = st.one_of(st.sampled_from(WORDS), st.sampled_from(WORDS), texts.filter(bool))
# LIKE patterns from the pieces SQL gives meaning to: runs, single characters, sets, negated sets,
# ranges, and brackets or carets that close nothing.
pattern_pieces = st.one_of(
    st.text(alphabet=PATTERN_CHARS.replace("%", "").replace("_", "").replace("[", ""), min_size=1, max_size=2),
    st.sampled_from(["%", "_", "[", "]", "^", "[]", "[^]", "[%]", "[_]", "[[]", "[a-c]", "[^a]", "[^s-z]",
                     "[ß]", "[é]", "[A]", "[^é]", "[z-a]", "[-a]", "[a-]"]),
)
patterns = st.lists(pattern_pieces, max_size=4).map("".join)
numbers = st.one_of(st.integers(-3, 3), st.sampled_from([0.5, 1.5, -2.25, 2.0, 1000000.75]))
TEXT_OPS = ["eq", "ne", "contains", "not_contains", "starts_with", "ends_with", "is_empty", "is_not_empty", "in"]
NUMBER_OPS = ["eq", "ne", "gt", "ge", "lt", "le", "is_empty", "is_not_empty", "in"]
BOOL_OPS = ["eq", "ne", "is_empty", "is_not_empty", "in"]


_DEACCENT = str.maketrans({"á": "a", "Á": "A", "É": "E", "é": "e"})


@st.composite
def _near_pattern(draw: st.DrawFn, s: str) -> str:
    """A LIKE pattern that almost matches ``s``: characters become wildcards, sets, or gain a neighbour."""
    out = []
    for ch in s:
        out.append(draw(st.sampled_from([ch, ch, "_", "%", f"[{ch}]", f"[^{ch}]", "[^q]", f"_{ch}", f"{ch}%", ""])))
    return "".join(out)


def _variants(s: str) -> st.SearchStrategy[str]:
    """Text that often equals, contains or starts ``s`` up to case, accents or ``ß``/``ss``."""
    same = st.sampled_from([s, s.upper(), s.lower(), s.swapcase(), s.translate(_DEACCENT), s.replace("ß", "ss"),
                            s.replace("ss", "ß"), s.upper().replace("ß", "SS"), s + " "])
    return st.one_of(
        same, same,
        st.tuples(st.integers(0, len(s)), st.integers(0, len(s))).map(lambda ij: s[min(ij):max(ij)]),
        texts.map(lambda t: t + s), texts.map(lambda t: s + t),
    )


def text_values(pool: list[str]) -> st.SearchStrategy[str]:
    near = st.sampled_from(pool).flatmap(_variants)
    return st.one_of(near, near, near, texts)


def value_for(table: Table, column: str, pool: list[str]) -> st.SearchStrategy[Any]:
    if column in table.numbers:
        return st.integers(0, 3) if column == "salesstage" else numbers
    if column in table.booleans:
        return st.booleans()
    return text_values(pool)


@st.composite
def records(draw: st.DrawFn, table: Table, pool: list[str]) -> list[dict[str, Any]]:
    out = []
    for _ in range(draw(st.integers(3, 12))):
        row = {}
        for col in table.columns:
            values = value_for(table, col, pool)
            v = draw(st.one_of(st.none(), values, values, values))
            if v is not None:
                row[col] = v
        out.append(row)
    return out


@st.composite
def conditions(draw: st.DrawFn, table: Table, pool: list[str]) -> Condition:
    col = draw(st.sampled_from(table.columns))
    ops = NUMBER_OPS if col in table.numbers else BOOL_OPS if col in table.booleans else TEXT_OPS
    op = draw(st.sampled_from(ops))
    if op in ("is_empty", "is_not_empty"):
        return Condition(field=col, operator=op)
    values = value_for(table, col, pool)
    if op == "in":
        return Condition(field=col, operator=op, value=draw(st.lists(values, min_size=1, max_size=3)))
    return Condition(field=col, operator=op, value=draw(values))


def _quote(s: str) -> str:
    return "'" + s.replace("'", "''") + "'"


def _number_text(v: int | float) -> str:
    return str(v)


@st.composite
def leaf_texts(draw: st.DrawFn, table: Table, pool: list[str]) -> str:
    col = draw(st.sampled_from(table.columns))
    if col in table.numbers:
        op = draw(st.sampled_from(["eq", "ne", "gt", "ge", "lt", "le"]))
        lit = draw(st.one_of(st.just("null"), value_for(table, col, pool).map(_number_text))) \
            if op in ("eq", "ne") else _number_text(draw(value_for(table, col, pool)))
        return f"{col} {op} {lit}"
    if col in table.booleans:
        return f"{col} {draw(st.sampled_from(['eq', 'ne']))} {draw(st.sampled_from(['true', 'false', 'null']))}"
    kind = draw(st.sampled_from(["eq", "ne", "contains", "startswith", "endswith"]))
    if kind in ("eq", "ne"):
        lit = draw(st.one_of(st.just("null"), text_values(pool).map(_quote)))
        return f"{col} {kind} {lit}"
    near = st.sampled_from(pool).flatmap(_variants)
    pattern = draw(st.one_of(near.flatmap(_near_pattern), near.flatmap(_near_pattern), near, patterns,
                             st.tuples(patterns, near, patterns).map("".join)))
    return f"{kind}({col},{_quote(pattern)})"


@st.composite
def filter_texts(draw: st.DrawFn, table: Table, pool: list[str], depth: int = 2) -> str:
    if depth == 0 or draw(st.integers(0, 2)) == 0:
        return draw(leaf_texts(table, pool))
    shape = draw(st.sampled_from(["and", "or", "not", "bare"]))
    a = draw(filter_texts(table, pool, depth - 1))
    if shape == "not":
        return f"not ({a})"
    b = draw(filter_texts(table, pool, depth - 1))
    if shape == "bare":  # precedence: and binds tighter than or; leaves only, so no parentheses are needed
        leaves = [draw(leaf_texts(table, pool)) for _ in range(3)]
        return f"{leaves[0]} or {leaves[1]} and {leaves[2]}"
    return f"({a}) {shape} ({b})"


READINGS = [{"filter_accent_insensitive": ai, "ne_matches_null": ne} for ai in (True, False) for ne in (False, True)]
readings = pytest.mark.parametrize(
    "switches", READINGS, ids=lambda r: "ai={filter_accent_insensitive}-ne_null={ne_matches_null}".format(**r))


@pytest.fixture
def dv_app(clock: FakeClock) -> Starlette:
    return create_app(clock=clock, tokens=(TOKEN,), seed=1, seed_contacts=0, rate_limit=None)


@pytest.fixture
async def client(dv_app: Starlette, clock: FakeClock) -> AsyncIterator[DataverseClient]:
    c = DataverseClient(ENV, StaticTokenCredential(TOKEN), clock=clock, transport=httpx.ASGITransport(app=dv_app))
    yield c
    await c.aclose()


async def _control(app: Starlette, route: str, body: dict[str, Any]) -> None:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=ENV) as http:
        r = await http.post(f"/_sandbox/{route}", json=body)
        assert r.status_code == 200, r.text


async def _load(app: Starlette, client: DataverseClient, table: Table, rows: list[dict[str, Any]],
                switches: dict[str, bool]) -> list[dict[str, Any]]:
    """A fresh organisation holding ``rows``, read back as the product reads them."""
    await _control(app, "reset", {})
    await _control(app, "switches", switches)
    for row in rows:
        await client.create(table.entity_set, row)
    stored = await client.query_all(table.entity_set, select=[table.id_column, *table.columns])
    assert len(stored) == len(rows)
    return stored


async def _ids(client: DataverseClient, table: Table, flt: str) -> set[str]:
    rows = await client.query_all(table.entity_set, select=[table.id_column], filter=flt)
    return {r[table.id_column] for r in rows}


@st.composite
def criteria_cases(draw: st.DrawFn) -> tuple[Table, list[dict[str, Any]], list[Condition]]:
    table = TABLES[draw(st.sampled_from(sorted(TABLES)))]
    pool = draw(st.lists(words, min_size=2, max_size=3))
    return table, draw(records(table, pool)), draw(st.lists(conditions(table, pool), min_size=3, max_size=8))


@readings
@SETTINGS
@given(case=criteria_cases())
async def test_compiled_criteria_select_what_matches_selects(dv_app: Starlette, client: DataverseClient,
                                                             case: tuple[Table, list[dict[str, Any]], list[Condition]],
                                                             switches: dict[str, bool]) -> None:
    table, rows, conds = case
    stored = await _load(dv_app, client, table, rows, switches)
    ai = switches["filter_accent_insensitive"]
    meta = await client.entity_metadata(table.logical_name)
    types = {name: a.type_name for name, a in meta.attributes.items()}
    # Each condition alone, then all of them ANDed (the entity's criteria).
    for group in [[c] for c in conds] + ([conds] if len(conds) > 1 else []):
        flt = to_odata_filter(group, column_types=types)
        assert flt is not None
        expected = {r[table.id_column] for r in stored if matches(r, group, accent_insensitive=ai)}
        got = await _ids(client, table, flt)
        assert got == expected, (flt, switches, [r for r in stored if r[table.id_column] in got ^ expected])


@st.composite
def filter_cases(draw: st.DrawFn) -> tuple[Table, list[dict[str, Any]], list[str]]:
    table = TABLES[draw(st.sampled_from(sorted(TABLES)))]
    pool = draw(st.lists(words, min_size=2, max_size=3))
    return table, draw(records(table, pool)), draw(st.lists(filter_texts(table, pool), min_size=3, max_size=8))


@readings
@SETTINGS
@given(case=filter_cases())
async def test_custom_filter_text_in_memory_agrees_with_the_sandbox(
        dv_app: Starlette, client: DataverseClient, case: tuple[Table, list[dict[str, Any]], list[str]],
        switches: dict[str, bool]) -> None:
    table, rows, flts = case
    stored = await _load(dv_app, client, table, rows, switches)
    for text in flts:
        f = parse_filter(text)
        expected = {r[table.id_column] for r in stored
                    if f.matches(r, accent_insensitive=switches["filter_accent_insensitive"],
                                 ne_matches_null=switches["ne_matches_null"])}
        got = await _ids(client, table, text)
        assert got == expected, (text, switches, [r for r in stored if r[table.id_column] in got ^ expected])
