"""The sandbox's own OData ``$filter`` parser and evaluator (dynamics-webapi.md §9).

Written independently of the product's query builder so the two cannot share a misreading.
Rows are matched with SQL three-valued logic: a comparison against a null column is
*unknown*, and only rows whose filter is *true* are returned. String comparisons fold case
(and, by default, accents) the way Dataverse's default collation does; ``contains``,
``startswith`` and ``endswith`` are SQL ``LIKE`` patterns, so ``%``, ``_``, ``[...]`` and
``[^...]`` are wildcards inside them and ``[%]``, ``[_]``, ``[[]`` are the literal characters.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from functools import lru_cache
from typing import Any

from .errors import DataverseError

Row = Mapping[str, Any]
Getter = Callable[[Row], Any]
Predicate = Callable[[Row], bool | None]


class Kind:
    STRING = "string"
    GUID = "guid"
    DATETIME = "datetime"
    DATE = "date"
    NUMBER = "number"
    BOOL = "bool"
    ENUM = "enum"
    ANY = "any"


EDM = {
    Kind.STRING: "Edm.String",
    Kind.GUID: "Edm.Guid",
    Kind.DATETIME: "Edm.DateTimeOffset",
    Kind.DATE: "Edm.Date",
    Kind.NUMBER: "Edm.Int32",
    Kind.BOOL: "Edm.Boolean",
    Kind.ENUM: "Edm.Enum",
    Kind.ANY: "Edm.Untyped",
}


@dataclass(frozen=True)
class FilterOptions:
    accent_insensitive: bool = True  # register: filter-accent-insensitive
    ne_matches_null: bool = False  # register: ne-null


# A property resolver turns a property path into (getter, kind); it raises DataverseError for
# unknown properties. Getters return canonical values: str, lower-case GUID str, epoch float for
# datetimes, 'yyyy-mm-dd' for dates, numbers, bools, or None.
Resolver = Callable[[str], tuple[Getter, str]]


def bad_request(message: str) -> DataverseError:
    return DataverseError(400, "0x80060888", message)


# --------------------------------------------------------------------------- tokenizer

_TOKEN = re.compile(
    r"""
    (?P<ws>\s+)
  | (?P<lparen>\()
  | (?P<rparen>\))
  | (?P<comma>,)
  | (?P<string>'(?:[^']|'')*')
  | (?P<guid>[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})(?![\w-])
  | (?P<datetime>\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:\d{2})?)
  | (?P<date>\d{4}-\d{2}-\d{2})(?![\w:])
  | (?P<number>-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?[mMdDlLfF]?)
  | (?P<alias>@[A-Za-z_]\w*)
  | (?P<enum>[A-Za-z_][\w.]*'(?:[^']|'')*')
  | (?P<ident>[A-Za-z_$][\w.]*(?:/[A-Za-z_$][\w.]*)*)
    """,
    re.VERBOSE,
)

_KEYWORDS = {"and", "or", "not", "eq", "ne", "gt", "ge", "lt", "le", "true", "false", "null"}
_COMPARISONS = {"eq", "ne", "gt", "ge", "lt", "le"}


@dataclass(frozen=True)
class Token:
    kind: str
    text: str
    pos: int


def tokenize(text: str) -> list[Token]:
    tokens: list[Token] = []
    pos = 0
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if text[pos] == "'" and (match is None or match.lastgroup != "string"):
            raise bad_request(f"There is an unterminated literal at position {pos} in '{text}'.")
        if match is None:
            raise bad_request(f"Syntax error: character '{text[pos]}' is not valid at position {pos} in '{text}'.")
        kind = match.lastgroup or ""
        if kind != "ws":
            value = match.group()
            if kind == "ident" and value in _KEYWORDS:
                kind = value
            tokens.append(Token(kind, value, pos))
        pos = match.end()
    tokens.append(Token("eof", "", len(text)))
    return tokens


# --------------------------------------------------------------------------- AST


@dataclass(frozen=True)
class Literal:
    kind: str
    value: Any


@dataclass(frozen=True)
class Prop:
    path: str


@dataclass(frozen=True)
class Compare:
    op: str
    left: Any
    right: Any


@dataclass(frozen=True)
class Logical:
    op: str  # and | or
    left: Any
    right: Any


@dataclass(frozen=True)
class Not:
    operand: Any


@dataclass(frozen=True)
class Call:
    name: str
    args: tuple[Any, ...]


def _literal(tok: Token) -> Literal:
    t = tok.text
    if tok.kind == "string":
        return Literal(Kind.STRING, t[1:-1].replace("''", "'"))
    if tok.kind == "guid":
        return Literal(Kind.GUID, t.lower())
    if tok.kind == "datetime":
        return Literal(Kind.DATETIME, parse_datetime(t))
    if tok.kind == "date":
        return Literal(Kind.DATE, t)
    if tok.kind == "number":
        body = t.rstrip("mMdDlLfF")
        if re.fullmatch(r"-?\d+", body):
            return Literal(Kind.NUMBER, int(body))
        return Literal(Kind.NUMBER, float(body))
    if tok.kind in ("true", "false"):
        return Literal(Kind.BOOL, tok.kind == "true")
    if tok.kind == "null":
        return Literal(Kind.ANY, None)
    if tok.kind == "enum":
        quote = t.index("'")
        return Literal(Kind.ENUM, t[quote + 1 : -1].replace("''", "'"))
    raise bad_request(f"Syntax error at position {tok.pos}: unexpected '{t}'.")


def parse_datetime(text: str) -> float:
    try:
        value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError as exc:
        raise bad_request(
            f"The DateTimeOffset text '{text}' should be in format 'yyyy-mm-ddThh:mm:ss('.'s+)?(zzzzzz)?'."
        ) from exc
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.timestamp()


class _Parser:
    def __init__(self, text: str, aliases: Mapping[str, str]) -> None:
        self.text = text
        self.tokens = tokenize(text)
        self.i = 0
        self.aliases = aliases

    def peek(self) -> Token:
        return self.tokens[self.i]

    def take(self, kind: str | None = None) -> Token:
        tok = self.tokens[self.i]
        if kind is not None and tok.kind != kind:
            raise bad_request(f"Syntax error at position {tok.pos} in '{self.text}'.")
        self.i += 1
        return tok

    def parse(self) -> Any:
        node = self.or_expr()
        if self.peek().kind != "eof":
            raise bad_request(f"Syntax error at position {self.peek().pos} in '{self.text}'.")
        return node

    def or_expr(self) -> Any:
        node = self.and_expr()
        while self.peek().kind == "or":
            self.take()
            node = Logical("or", node, self.and_expr())
        return node

    def and_expr(self) -> Any:
        node = self.unary()
        while self.peek().kind == "and":
            self.take()
            node = Logical("and", node, self.unary())
        return node

    def unary(self) -> Any:
        if self.peek().kind == "not":
            self.take()
            return Not(self.unary())
        return self.comparison()

    def comparison(self) -> Any:
        left = self.primary()
        if self.peek().kind in _COMPARISONS:
            op = self.take().kind
            right = self.primary()
            return Compare(op, left, right)
        return left

    def primary(self) -> Any:
        tok = self.peek()
        if tok.kind == "lparen":
            self.take()
            node = self.or_expr()
            self.take("rparen")
            return node
        if tok.kind == "ident":
            self.take()
            if self.peek().kind == "lparen":
                self.take()
                args: list[Any] = []
                if self.peek().kind != "rparen":
                    args.append(self.or_expr())
                    while self.peek().kind == "comma":
                        self.take()
                        args.append(self.or_expr())
                self.take("rparen")
                return Call(tok.text, tuple(args))
            return Prop(tok.text)
        if tok.kind == "alias":
            self.take()
            raw = self.aliases.get(tok.text)
            if raw is None:
                raise bad_request(f"The parameter alias '{tok.text}' was not found in the request.")
            return _Parser(raw, {}).primary_only()
        self.take()
        return _literal(tok)

    def primary_only(self) -> Any:
        node = self.primary()
        if self.peek().kind != "eof":
            raise bad_request(f"Syntax error in parameter alias value '{self.text}'.")
        return node


def parse_filter(text: str, aliases: Mapping[str, str] | None = None) -> Any:
    """Parse a ``$filter`` expression into an AST (raises DataverseError 400 on bad syntax)."""
    return _Parser(text, aliases or {}).parse()


# --------------------------------------------------------------------------- folding & LIKE


@lru_cache(maxsize=1 << 17)
def _fold_accents(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


@lru_cache(maxsize=1 << 17)
def _fold_case(text: str) -> str:
    return text.casefold()


def folder(options: FilterOptions) -> Callable[[str], str]:
    return _fold_accents if options.accent_insensitive else _fold_case


def like_to_regex(pattern: str, fold: Callable[[str], str]) -> re.Pattern[str]:
    """Translate a SQL LIKE pattern (T-SQL dialect) into an anchored regex over folded text."""
    out: list[str] = []
    i = 0
    while i < len(pattern):
        c = pattern[i]
        if c == "%":
            out.append(".*")
        elif c == "_":
            out.append(".")
        elif c == "[":
            end = pattern.find("]", i + 2 if pattern[i + 1 : i + 2] in ("]", "^") else i + 1)
            if end == -1:
                out.append(re.escape(fold(c)))
            else:
                out.append(_bracket(pattern[i + 1 : end], fold))
                i = end
        else:
            out.append(re.escape(fold(c)))
        i += 1
    return re.compile("".join(out), re.DOTALL)


def _bracket(body: str, fold: Callable[[str], str]) -> str:
    negate = body.startswith("^") and len(body) > 1
    if negate:
        body = body[1:]
    parts: list[str] = []
    j = 0
    while j < len(body):
        if j + 2 < len(body) and body[j + 1] == "-":
            low, high = _range_end(body[j], fold), _range_end(body[j + 2], fold)
            if low <= high:  # a reversed range such as [z-a] matches nothing (SQL Server), never an error
                parts.append(f"{re.escape(low)}-{re.escape(high)}")
            j += 3
        else:
            parts.append(re.escape(fold(body[j])))
            j += 1
    if not parts:
        return "(?s:.)" if negate else "(?!)"
    return f"[{'^' if negate else ''}{''.join(parts)}]"


def _range_end(char: str, fold: Callable[[str], str]) -> str:
    """Folded range end; one character even when folding expands it (ß → ss)."""
    folded = fold(char)
    return folded if len(folded) == 1 else char.lower()


# --------------------------------------------------------------------------- compile


def compile_filter(
    text: str, resolver: Resolver, options: FilterOptions | None = None, aliases: Mapping[str, str] | None = None
) -> Callable[[Row], bool]:
    """Compile ``text`` into a row predicate (true only when the filter is *true*)."""
    opts = options or FilterOptions()
    predicate = _Compiler(resolver, opts).boolean(parse_filter(text, aliases))
    return lambda row: predicate(row) is True


class _Compiler:
    def __init__(self, resolver: Resolver, options: FilterOptions) -> None:
        self.resolver = resolver
        self.options = options
        self.fold = folder(options)

    def boolean(self, node: Any) -> Predicate:
        if isinstance(node, Logical):
            left, right = self.boolean(node.left), self.boolean(node.right)
            return _and(left, right) if node.op == "and" else _or(left, right)
        if isinstance(node, Not):
            inner = self.boolean(node.operand)

            def negate(row: Row) -> bool | None:
                value = inner(row)
                return None if value is None else not value

            return negate
        if isinstance(node, Compare):
            return self.compare(node)
        if isinstance(node, Call):
            return self.call(node)
        if isinstance(node, Prop):
            getter, kind = self.resolver(node.path)
            if kind != Kind.BOOL:
                raise bad_request(
                    f"The $filter expression must evaluate to a single boolean value; '{node.path}' is not."
                )
            return lambda row: getter(row)
        if isinstance(node, Literal) and node.kind == Kind.BOOL:
            value = node.value
            return lambda row: value
        raise bad_request("The $filter expression must evaluate to a single boolean value.")

    def operand(self, node: Any) -> tuple[Getter, str, bool]:
        """(getter, kind, is_literal)."""
        if isinstance(node, Prop):
            getter, kind = self.resolver(node.path)
            return getter, kind, False
        if isinstance(node, Literal):
            value = node.value
            return (lambda row: value), node.kind, True
        raise bad_request("Only properties and literals can be compared in $filter.")

    def compare(self, node: Compare) -> Predicate:
        lget, lkind, llit = self.operand(node.left)
        rget, rkind, rlit = self.operand(node.right)
        if llit and not rlit:  # normalise to property-op-literal
            lget, lkind, llit, rget, rkind, rlit = rget, rkind, rlit, lget, lkind, llit
            node = Compare(_MIRROR[node.op], node.right, node.left)
        if rlit and isinstance(node.right, Literal) and node.right.value is None:
            if node.op == "eq":
                return lambda row: lget(row) is None
            if node.op == "ne":
                return lambda row: lget(row) is not None
            raise bad_request(f"The operator '{node.op}' cannot be used with null.")
        rget = self._coerce(lkind, rkind, rget, node.op)
        op = node.op
        string_like = lkind == Kind.STRING or (lkind == Kind.ANY and rkind == Kind.STRING)
        fold = self.fold
        ne_null = self.options.ne_matches_null
        test = _OPS[op]

        def run(row: Row) -> bool | None:
            a, b = lget(row), rget(row)
            if a is None or b is None:
                if op == "ne" and ne_null:
                    return a is not b
                return None
            if string_like and isinstance(a, str) and isinstance(b, str):
                a, b = fold(a), fold(b)
            try:
                return bool(test(a, b))
            except TypeError:
                return None

        return run

    def _coerce(self, lkind: str, rkind: str, rget: Getter, op: str) -> Getter:
        if lkind == rkind or Kind.ANY in (lkind, rkind):
            return rget
        if lkind == Kind.DATETIME and rkind == Kind.DATE:
            return lambda row: parse_datetime(rget(row) + "T00:00:00Z")
        if lkind == Kind.DATE and rkind == Kind.DATETIME:
            return lambda row: datetime.fromtimestamp(rget(row), UTC).date().isoformat()
        if lkind == Kind.ENUM and rkind in (Kind.STRING, Kind.NUMBER):
            return rget
        raise bad_request(
            "A binary operator with incompatible types was detected. Found operand types "
            f"'{EDM[lkind]}' and '{EDM[rkind]}' for operator kind '{_OP_NAMES[op]}'."
        )

    def call(self, node: Call) -> Predicate:
        name = node.name
        if name not in ("contains", "startswith", "endswith"):
            raise bad_request(f"An unknown function with name '{name}' was found.")
        if len(node.args) != 2 or not isinstance(node.args[0], Prop) or not isinstance(node.args[1], Literal):
            raise bad_request(f"The function '{name}' takes a property and a string literal.")
        getter, kind = self.resolver(node.args[0].path)
        if kind not in (Kind.STRING, Kind.ANY) or node.args[1].kind != Kind.STRING:
            raise bad_request(f"No function signature for the function with name '{name}' matches the arguments.")
        pattern = str(node.args[1].value)
        like = {"contains": f"%{pattern}%", "startswith": f"{pattern}%", "endswith": f"%{pattern}"}[name]
        regex = like_to_regex(like, self.fold)
        fold = self.fold

        def run(row: Row) -> bool | None:
            value = getter(row)
            if value is None:
                return None
            return regex.fullmatch(fold(str(value))) is not None

        return run


def _and(left: Predicate, right: Predicate) -> Predicate:
    def run(row: Row) -> bool | None:
        a = left(row)
        if a is False:
            return False
        b = right(row)
        if b is False:
            return False
        return None if a is None or b is None else True

    return run


def _or(left: Predicate, right: Predicate) -> Predicate:
    def run(row: Row) -> bool | None:
        a = left(row)
        if a is True:
            return True
        b = right(row)
        if b is True:
            return True
        return None if a is None or b is None else False

    return run


_OPS: dict[str, Callable[[Any, Any], Any]] = {
    "eq": lambda a, b: a == b,
    "ne": lambda a, b: a != b,
    "gt": lambda a, b: a > b,
    "ge": lambda a, b: a >= b,
    "lt": lambda a, b: a < b,
    "le": lambda a, b: a <= b,
}
_MIRROR = {"eq": "eq", "ne": "ne", "gt": "lt", "ge": "le", "lt": "gt", "le": "ge"}
_OP_NAMES = {
    "eq": "Equal",
    "ne": "NotEqual",
    "gt": "GreaterThan",
    "ge": "GreaterThanOrEqual",
    "lt": "LessThan",
    "le": "LessThanOrEqual",
}


# --------------------------------------------------------------------------- helpers for callers


def iso_to_epoch(value: str | None) -> float | None:
    return None if value is None else _iso_epoch(value)


@lru_cache(maxsize=1 << 18)
def _iso_epoch(value: str) -> float:
    return parse_datetime(value)


@lru_cache(maxsize=256)
def epoch_to_iso(value: float) -> str:
    return datetime.fromtimestamp(int(value), UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def today_iso(value: float) -> str:
    return date.fromtimestamp(value).isoformat()


def dict_resolver(kinds: Mapping[str, str] | None = None) -> Resolver:
    """Resolver over plain (possibly nested) dicts, used for metadata; ``a/b`` walks into dicts."""

    def resolve(path: str) -> tuple[Getter, str]:
        parts = path.split("/")

        def get(row: Row) -> Any:
            value: Any = row
            for part in parts:
                if not isinstance(value, Mapping):
                    return None
                value = value.get(part)
            return value

        return get, (kinds or {}).get(path, Kind.ANY)

    return resolve
