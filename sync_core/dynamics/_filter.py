"""OData ``$filter`` for the product: criteria compiled for Dataverse, and custom filter text parsed.

Custom criteria (opportunities) are checked against metadata before they are saved (known
columns, supported operators only), sent as written for reads that allow ``$filter``, and
evaluated in memory where change tracking forbids it — with Dataverse's semantics: names,
operators and functions are case-sensitive as in OData; string comparison ignores case (and
accents when ``accent_insensitive``: register #1); ``%``, ``_``, ``[...]``, ``[^...]`` and
ranges ``[a-c]`` are wildcards inside contains/startswith/endswith (SQL ``LIKE``); and a
comparison with null is unknown as in SQL (``ne`` and ``not`` do not match null) unless
``ne_matches_null`` (register #2: then ``col ne <value>`` alone also selects null — the other
comparisons, and ``not`` of them, still treat null as unknown). The sandbox keeps its own parser:
it is the check on this one.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sync_core.model.config import MAX_CUSTOM_FILTER_LENGTH
from sync_core.model.criteria import as_text, fold

COMPARISONS = frozenset({"eq", "ne", "gt", "ge", "lt", "le"})
FUNCTIONS = frozenset({"contains", "startswith", "endswith"})
KEYWORDS = frozenset({"and", "or", "not", "true", "false", "null"}) | COMPARISONS
MAX_NESTING = 32
"""Parentheses and ``not`` inside one another: the parser and every walk of the tree recurse that deep."""
MAX_CONDITIONS = 100
"""Comparisons and calls in one expression (a chain of ``or`` is a tree that deep)."""

_TOKEN = re.compile(r"""
    (?P<ws>\s+)
  | (?P<string>'(?:[^']|'')*')
  | (?P<datetime>\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:\d{2}))
  | (?P<date>\d{4}-\d{2}-\d{2})
  | (?P<guid>[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})
  | (?P<number>-?\d+(?:\.\d+)?)
  | (?P<name>[A-Za-z_][A-Za-z0-9_]*)
  | (?P<lparen>\()
  | (?P<rparen>\))
  | (?P<comma>,)
""", re.VERBOSE)


class ODataSyntaxError(ValueError):
    """The expression is not one this product accepts (with where and why)."""


@dataclass(frozen=True)
class Column:
    name: str


@dataclass(frozen=True)
class Literal:
    value: Any


@dataclass(frozen=True)
class Compare:
    op: str
    left: Column
    right: Literal


@dataclass(frozen=True)
class Call:
    fn: str
    column: Column
    pattern: str


@dataclass(frozen=True)
class Not:
    operand: Node


@dataclass(frozen=True)
class BoolOp:
    op: str  # "and" | "or"
    left: Node
    right: Node


Node = Compare | Call | Not | BoolOp


@dataclass(frozen=True)
class Filter:
    root: Node
    text: str

    def columns(self) -> set[str]:
        out: set[str] = set()
        _columns(self.root, out)
        return out

    def matches(self, record: Mapping[str, Any], *, accent_insensitive: bool = True,
                ne_matches_null: bool = False) -> bool:
        """True when Dataverse would select the record (the two readings: see the module doc)."""
        return _eval(self.root, record, _Reading(accent_insensitive, ne_matches_null)) is True


def _columns(node: Node, out: set[str]) -> None:
    if isinstance(node, Compare):
        out.add(node.left.name)
    elif isinstance(node, Call):
        out.add(node.column.name)
    elif isinstance(node, Not):
        _columns(node.operand, out)
    else:
        _columns(node.left, out)
        _columns(node.right, out)


def _tokenize(text: str) -> list[tuple[str, str, int]]:
    pos, out = 0, []
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if m is None:
            raise ODataSyntaxError(f"unexpected character {text[pos]!r} at position {pos}")
        kind = m.lastgroup or ""
        if kind != "ws":
            out.append((kind, m.group(), pos))
        pos = m.end()
    return out


class _Parser:
    def __init__(self, text: str) -> None:
        self.tokens = _tokenize(text)
        self.i = 0
        self.depth = 0
        self.conditions = 0

    def nest(self, pos: int) -> None:
        self.depth += 1
        if self.depth > MAX_NESTING:
            raise ODataSyntaxError(f"the expression nests parentheses or 'not' more than {MAX_NESTING} deep "
                                   f"(at position {pos})")

    def peek(self) -> tuple[str, str, int] | None:
        return self.tokens[self.i] if self.i < len(self.tokens) else None

    def take(self, kind: str | None = None, value: str | None = None) -> tuple[str, str, int]:
        tok = self.peek()
        if tok is None:
            raise ODataSyntaxError("the expression ends too early")
        if (kind and tok[0] != kind) or (value and tok[1] != value):
            raise ODataSyntaxError(f"unexpected {tok[1]!r} at position {tok[2]}")
        self.i += 1
        return tok

    def parse(self) -> Node:
        node = self.or_expr()
        tok = self.peek()
        if tok is not None:
            raise ODataSyntaxError(f"unexpected {tok[1]!r} at position {tok[2]}")
        return node

    def or_expr(self) -> Node:
        node = self.and_expr()
        while (tok := self.peek()) and tok[0] == "name" and tok[1] == "or":
            self.i += 1
            node = BoolOp("or", node, self.and_expr())
        return node

    def and_expr(self) -> Node:
        node = self.unary()
        while (tok := self.peek()) and tok[0] == "name" and tok[1] == "and":
            self.i += 1
            node = BoolOp("and", node, self.unary())
        return node

    def unary(self) -> Node:
        tok = self.peek()
        if tok and tok[0] == "name" and tok[1] == "not":
            self.i += 1
            self.nest(tok[2])
            node: Node = Not(self.unary())
            self.depth -= 1
            return node
        if tok and tok[0] == "lparen":
            self.i += 1
            self.nest(tok[2])
            node = self.or_expr()
            self.take("rparen")
            self.depth -= 1
            return node
        return self.predicate()

    def predicate(self) -> Node:
        _, name, pos = self.take("name")
        self.conditions += 1
        if self.conditions > MAX_CONDITIONS:
            raise ODataSyntaxError(f"the expression has more than {MAX_CONDITIONS} conditions (at position {pos})")
        if name in FUNCTIONS:
            self.take("lparen")
            col = self.column()
            self.take("comma")
            lit = self.literal()
            self.take("rparen")
            if not isinstance(lit.value, str):
                raise ODataSyntaxError(f"{name}() takes a string at position {pos}")
            return Call(name, col, lit.value)
        nxt = self.peek()
        if nxt and nxt[0] == "lparen":
            raise ODataSyntaxError(f"unsupported function {name!r} at position {pos}")
        if name in KEYWORDS:
            raise ODataSyntaxError(f"expected a column at position {pos}, found {name!r}")
        op = self.take("name")
        if op[1] not in COMPARISONS:
            raise ODataSyntaxError(f"unsupported operator {op[1]!r} at position {op[2]}")
        return Compare(op[1], Column(name), self.literal())

    def column(self) -> Column:
        _, name, pos = self.take("name")
        if name in KEYWORDS:
            raise ODataSyntaxError(f"expected a column at position {pos}, found {name!r}")
        return Column(name)

    def literal(self) -> Literal:
        kind, text, pos = self.take()
        if kind == "string":
            return Literal(text[1:-1].replace("''", "'"))
        if kind == "number":
            return Literal(float(text) if "." in text else int(text))
        if kind == "datetime":
            return Literal(datetime.fromisoformat(text.replace("Z", "+00:00")))
        if kind == "date":
            return Literal(date.fromisoformat(text))
        if kind == "guid":
            return Literal(text.lower())
        if kind == "name" and text in ("true", "false"):
            return Literal(text == "true")
        if kind == "name" and text == "null":
            return Literal(None)
        raise ODataSyntaxError(f"expected a value at position {pos}, found {text!r}")


def parse_filter(text: str) -> Filter:
    if not text.strip():
        raise ODataSyntaxError("the expression is empty")
    if len(text) > MAX_CUSTOM_FILTER_LENGTH:
        raise ODataSyntaxError(f"the expression is longer than {MAX_CUSTOM_FILTER_LENGTH} characters")
    return Filter(_Parser(text).parse(), text)


def like_regex(pattern: str, fn: str) -> re.Pattern[str]:
    """A SQL LIKE pattern (as Dataverse reads contains/startswith/endswith) as a regex.

    ``%`` any run, ``_`` one character, ``[abc]`` / ``[a-c]`` one of, ``[^abc]`` none of; a ``[``
    without its ``]`` is literal. Fold the pattern and the value the same way before matching.
    """
    out, i = [], 0
    while i < len(pattern):
        ch = pattern[i]
        if ch == "%":
            out.append(".*")
        elif ch == "_":
            out.append(".")
        elif ch == "[" and (end := pattern.find("]", i + 2)) != -1:
            body = pattern[i + 1:end]
            neg = body.startswith("^") and len(body) > 1
            out.append(("[^" if neg else "[") + _class_body(body[1:] if neg else body) + "]")
            i = end
        else:
            out.append(re.escape(ch))
        i += 1
    body = "".join(out)
    prefix = "" if fn == "startswith" else ".*"
    suffix = "" if fn == "endswith" else ".*"
    return re.compile(f"^{prefix}{body}{suffix}$", re.DOTALL)


def _class_body(chars: str) -> str:
    out, i = [], 0
    while i < len(chars):
        if i + 2 < len(chars) and chars[i + 1] == "-":
            lo, hi = chars[i], chars[i + 2]
            out.append(f"{re.escape(lo)}-{re.escape(hi)}" if lo <= hi else "")
            i += 3
        else:
            out.append(re.escape(chars[i]))
            i += 1
    return "".join(out) or "^\\s\\S"  # an empty class matches nothing


@dataclass(frozen=True)
class _Reading:
    accent_insensitive: bool
    ne_matches_null: bool


def _eval(node: Node, record: Mapping[str, Any], r: _Reading) -> bool | None:
    """SQL three-valued logic: ``None`` is unknown (a row is selected only on ``True``)."""
    if isinstance(node, BoolOp):
        a, b = _eval(node.left, record, r), _eval(node.right, record, r)
        if node.op == "and":
            return False if a is False or b is False else (None if a is None or b is None else True)
        return True if a is True or b is True else (None if a is None or b is None else False)
    if isinstance(node, Not):
        v = _eval(node.operand, record, r)
        return None if v is None else not v
    if isinstance(node, Call):
        raw = record.get(node.column.name)
        if raw is None:
            return None
        folded = fold(as_text(raw), accent_insensitive=r.accent_insensitive)
        pattern = fold(node.pattern, accent_insensitive=r.accent_insensitive)
        return like_regex(pattern, node.fn).match(folded) is not None
    raw = record.get(node.left.name)
    lit = node.right.value
    if lit is None:
        return (raw is None) if node.op == "eq" else (raw is not None) if node.op == "ne" else None
    if raw is None:  # unknown, except that one reading lets ``ne`` select null (FetchXML's ``ne`` does)
        return True if r.ne_matches_null and node.op == "ne" else None
    a, b = _comparable(raw, lit, r.accent_insensitive)
    if a is None or b is None:
        return None
    try:
        return bool({"eq": a == b, "ne": a != b, "gt": a > b, "ge": a >= b, "lt": a < b, "le": a <= b}[node.op])
    except TypeError:
        return None


def _comparable(raw: Any, lit: Any, ai: bool) -> tuple[Any, Any]:
    if isinstance(lit, bool) or isinstance(raw, bool):
        return (raw, lit) if isinstance(raw, bool) and isinstance(lit, bool) else (None, None)
    if isinstance(lit, str):
        return fold(str(raw), accent_insensitive=ai), fold(lit, accent_insensitive=ai)
    if isinstance(lit, (int, float)):
        try:
            return Decimal(str(raw)), Decimal(str(lit))
        except (ArithmeticError, ValueError):
            return None, None
    if isinstance(lit, datetime):
        parsed = _parse_dt(raw)
        return (parsed, lit) if parsed else (None, None)
    if isinstance(lit, date):
        return str(raw)[:10], lit.isoformat()
    return raw, lit


def _parse_dt(raw: Any) -> datetime | None:
    if isinstance(raw, datetime):
        return raw
    try:
        return datetime.fromisoformat(str(raw).replace("Z", "+00:00"))
    except ValueError:
        return None
