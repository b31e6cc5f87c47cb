"""Collection reads: $select/$filter/$orderby/$top/$count/$expand, paging and change tracking.

Paging (dynamics-webapi.md §3): ``Prefer: odata.maxpagesize`` (≤ 5,000, default 5,000), an
opaque ``$skiptoken`` in ``@odata.nextLink``. Without ``$orderby`` pages are keyset pages on the
primary key, so rows created or deleted between pages do not shift the others.
Change tracking (§2.1): the initial read returns every row and, on the last page only,
``@odata.deltaLink``; a delta read returns rows changed since (each once, current values), then
deletions as ``$deletedEntity``.
"""

from __future__ import annotations

import base64
import bisect
import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote, unquote

from .dataverse import LLN, Dataverse, Row
from .errors import GENERIC, DataverseError, bad_request
from .http import ApiRequest, ApiResponse, encode_query
from .odata_filter import FilterOptions, Getter, Kind, compile_filter, folder, iso_to_epoch
from .schema import RELATIONSHIPS, Column, Table
from .security import derived_value

MAX_PAGE = 5000
COUNT_CAP = 5000
FORMATTED = "@OData.Community.Display.V1.FormattedValue"
ALLOWED_OPTIONS = {"$select", "$filter", "$orderby", "$top", "$count", "$expand", "$skiptoken", "$deltatoken", "$apply"}
REFUSED_OPTIONS = {"$skip", "$search", "$format"}


# ------------------------------------------------------------------ options


def check_options(req: ApiRequest) -> None:
    for key, _ in req.query:
        if key in REFUSED_OPTIONS:
            raise bad_request(f"The query parameter '{key}' is not supported.")
        if key.startswith("$") and key not in ALLOWED_OPTIONS and key != "$id":
            raise bad_request(f"The query parameter '{key}' is not supported.")


def filter_options(dv: Dataverse) -> FilterOptions:
    return FilterOptions(
        accent_insensitive=bool(dv.switches["filter_accent_insensitive"]),
        ne_matches_null=bool(dv.switches["ne_matches_null"]),
    )


def no_property(table: Table, name: str) -> DataverseError:
    return bad_request(f"Could not find a property named '{name}' on type 'Microsoft.Dynamics.CRM.{table.logical}'.")


def column_key(table: Table, name: str) -> tuple[str, str]:
    """(stored key, filter kind) for a $select/$filter/$orderby name."""
    if name.startswith("_") and name.endswith("_value"):
        column = table.column(name[1:-6])
        if column is not None and column.is_lookup:
            return name, Kind.GUID
    column = table.column(name)
    if column is None:
        raise no_property(table, name)
    if column.is_lookup:
        return f"_{name}_value", Kind.GUID
    return name, column.filter_kind


def getter(dv: Dataverse, table: Table, key: str) -> Getter:
    """Value of a stored key, or of a derived owner column (owninguser, owningteam, owningbusinessunit)."""
    column = table.column(key[1:-6] if key.startswith("_") and key.endswith("_value") else key)
    if column is not None and column.derived:
        return lambda row: derived_value(dv, column.name, row)
    return lambda row: row.get(key)


def resolver(table: Table, dv: Dataverse) -> Callable[[str], tuple[Getter, str]]:
    def resolve(path: str) -> tuple[Getter, str]:
        if "/" in path:
            raise bad_request(f"Navigation paths such as '{path}' are not supported by the sandbox.")
        key, kind = column_key(table, path)
        get = getter(dv, table, key)
        if kind == Kind.DATETIME:
            return (lambda row: iso_to_epoch(get(row))), kind
        return get, kind

    return resolve


def predicate(dv: Dataverse, table: Table, req: ApiRequest) -> Callable[[Row], bool] | None:
    """$filter combined with what the caller may read (queries return only readable rows)."""
    text = req.param("$filter")
    match = compile_filter(text, resolver(table, dv), filter_options(dv), req.aliases()) if text else None
    visible = req.caller.visible(dv, table.logical) if req.caller is not None else None
    if match is None or visible is None:
        return match or visible
    return lambda row: bool(visible(row) and match(row))


def parse_select(table: Table, text: str | None) -> list[str] | None:
    if not text:
        return None
    names = [n.strip() for n in text.split(",") if n.strip()]
    for name in names:
        column_key(table, name)
    return names


def annotations_wanted(req: ApiRequest) -> set[str]:
    value = req.prefer().get("odata.include-annotations", "")
    return {v.strip() for v in value.split(",") if v.strip()}


def _wants(annotations: set[str], name: str) -> bool:
    return (
        "*" in annotations
        or name in annotations
        or any(a.endswith("*") and name.startswith(a[:-1]) for a in annotations)
    )


# ------------------------------------------------------------------ shaping


@dataclass(frozen=True)
class _Field:
    """One output property: stored key, its column (None for unknown keys) and picklist labels."""

    key: str
    column: Column | None
    labels: dict[int, str] | None

    @property
    def derived(self) -> bool:
        return self.column is not None and self.column.derived


def shape_plan(table: Table, select: list[str] | None) -> tuple[_Field, ...]:
    """Output properties of ``select`` (all columns when None) plus the primary key, computed once per request."""
    names = select if select is not None else list(table.columns)
    fields: list[_Field] = []
    seen: set[str] = set()
    for name in [*names, table.pk]:
        key, _kind = column_key(table, name)
        if key in seen:
            continue
        seen.add(key)
        column = table.column(key[1:-6] if key.startswith("_") and key.endswith("_value") else key)
        labels = dict(column.options) if column is not None and column.options else None
        fields.append(_Field(key, column, labels))
    return tuple(fields)


def shape(dv: Dataverse, table: Table, row: Row, select: list[str] | None, annotations: set[str]) -> dict[str, Any]:
    return shape_rows(dv, table, [row], select, annotations)[0]


def shape_rows(
    dv: Dataverse, table: Table, rows: Iterable[Row], select: list[str] | None, annotations: set[str]
) -> list[dict[str, Any]]:
    """Rows as the Web API writes them: ``@odata.etag``, the selected properties, wanted annotations."""
    plan = shape_plan(table, select)
    lln = _wants(annotations, "Microsoft.Dynamics.CRM.lookuplogicalname")
    fmt = _wants(annotations, "OData.Community.Display.V1.FormattedValue")
    keys = [f.key for f in plan if not f.derived]
    derived = [(f.key, f.column.name) for f in plan if f.derived and f.column is not None]
    out_rows: list[dict[str, Any]] = []
    for row in rows:
        out: dict[str, Any] = {"@odata.etag": dv.etag(row)}
        out.update(zip(keys, map(row.get, keys), strict=True))
        for key, name in derived:
            out[key] = derived_value(dv, name, row)
        if lln or fmt:
            _annotate(dv, plan, row, out, lln, fmt)
        out_rows.append(out)
    return out_rows


def _annotate(dv: Dataverse, plan: tuple[_Field, ...], row: Row, out: dict[str, Any], lln: bool, fmt: bool) -> None:
    for f in plan:
        value = out[f.key]
        column = f.column
        if column is None or value is None:
            continue
        key = f.key
        if column.is_lookup:
            target_name = (None if column.derived else row.get(key + LLN)) or column.targets[0]
            if lln:
                out[key + LLN] = target_name
            if fmt:
                target = dv.rows.get(target_name, {}).get(value)
                if target is not None:
                    out[key + FORMATTED] = target.get(dv.tables[target_name].primary_name)
        elif fmt and f.labels is not None:
            label = f.labels.get(value)
            if label is not None:
                out[key + FORMATTED] = label


def context(req: ApiRequest, table: Table, select: list[str] | None, suffix: str = "") -> str:
    sel = f"({','.join(select)})" if select else ""
    return f"{req.base}$metadata#{table.entity_set}{sel}{suffix}"


# ------------------------------------------------------------------ skiptoken / deltatoken


def encode_skiptoken(dv: Dataverse, state: dict[str, Any], page: int, tracking: bool) -> str:
    raw = base64.urlsafe_b64encode(json.dumps(state, separators=(",", ":")).encode()).decode()
    if dv.switches["skiptoken_format"] == "opaque":
        return raw
    cookie = quote(quote(f'<cookie page="{page - 1}" sandbox="{raw}" />', safe=""), safe="")
    return f'<cookie pagenumber="{page}" pagingcookie="{cookie}" istracking="{tracking}" />'


def decode_skiptoken(token: str) -> tuple[dict[str, Any], int]:
    try:
        if token.startswith("<cookie"):
            page = int(token.split('pagenumber="', 1)[1].split('"', 1)[0])
            inner = unquote(unquote(token.split('pagingcookie="', 1)[1].split('"', 1)[0]))
            raw = inner.split('sandbox="', 1)[1].split('"', 1)[0]
        else:
            raw, page = token, 0
        state = json.loads(base64.urlsafe_b64decode(raw.encode()))
    except (ValueError, IndexError) as exc:
        raise bad_request("The $skiptoken value is not valid.") from exc
    if not isinstance(state, dict):
        raise bad_request("The $skiptoken value is not valid.")
    return state, page or int(state.get("p", 1))


def encode_deltatoken(version: int, issued: float) -> str:
    return f"{version}!{datetime.fromtimestamp(issued, UTC).strftime('%m/%d/%Y %H:%M:%S')}"


def decode_deltatoken(token: str) -> tuple[int, float]:
    try:
        version, _, stamp = token.partition("!")
        issued = datetime.strptime(stamp, "%m/%d/%Y %H:%M:%S").replace(tzinfo=UTC).timestamp()
        return int(version), issued
    except ValueError as exc:
        raise bad_request("The $deltatoken value is not valid.") from exc


# ------------------------------------------------------------------ page size


def page_size(req: ApiRequest) -> tuple[int, bool]:
    """(rows per page, whether odata.maxpagesize was asked for)."""
    raw = req.prefer().get("odata.maxpagesize")
    if raw is None:
        return MAX_PAGE, False
    try:
        size = int(raw)
    except ValueError as exc:
        raise bad_request(f"The value '{raw}' of odata.maxpagesize is not valid.") from exc
    if size <= 0:
        raise bad_request(f"The value '{raw}' of odata.maxpagesize is not valid.")
    return min(size, MAX_PAGE), True


def _link(req: ApiRequest, table: Table, extra: list[tuple[str, str]], drop: Iterable[str]) -> str:
    dropped = set(drop)
    pairs = [(k, v) for k, v in req.query if k not in dropped] + extra
    query = encode_query(pairs)
    return f"{req.base}{table.entity_set}" + (f"?{query}" if query else "")


# ------------------------------------------------------------------ plain reads


def _ordered(dv: Dataverse, table: Table, rows: list[Row], orderby: str) -> list[Row]:
    fold = folder(filter_options(dv))
    keys: list[tuple[str, bool]] = []
    for part in orderby.split(","):
        bits = part.strip().split()
        if not bits or len(bits) > 2 or (len(bits) == 2 and bits[1] not in ("asc", "desc")):
            raise bad_request(f"The $orderby expression '{orderby}' is not valid.")
        key, _kind = column_key(table, bits[0])
        keys.append((key, len(bits) == 2 and bits[1] == "desc"))
    ordered = sorted(rows, key=lambda r: r[table.pk])
    for key, desc in reversed(keys):
        get = getter(dv, table, key)

        def sort_key(row: Row, get: Callable[[Row], Any] = get) -> tuple[int, Any]:
            value = get(row)
            if value is None:
                return (0, 0)  # nulls sort first ascending, as in SQL Server
            return (1, fold(value) if isinstance(value, str) else value)

        ordered.sort(key=sort_key, reverse=desc)
    return ordered


def read_collection(dv: Dataverse, req: ApiRequest, table: Table, restrict: set[str] | None = None) -> ApiResponse:
    """GET <entityset> (or an N:N navigation, restricted to ``restrict`` ids)."""
    check_options(req)
    prefer = req.prefer()
    token = req.param("$skiptoken")
    state: dict[str, Any] = {}
    page = 1
    if token:
        state, page = decode_skiptoken(token)
    if req.param("$deltatoken") is not None or state.get("k") in ("ct0", "delta"):
        return read_changes(dv, req, table, state, page)
    if "odata.track-changes" in prefer and restrict is None:
        if table.change_tracking:
            return read_changes(dv, req, table, state, page)
        if dv.switches["ct_disabled"] == "error":
            raise bad_request(f"Change tracking is not enabled for the entity '{table.logical}'.")
    select = parse_select(table, req.param("$select"))
    match = predicate(dv, table, req)
    annotations = annotations_wanted(req)
    size, size_asked = page_size(req)
    top_text = req.param("$top")
    top: int | None = None
    if top_text is not None:
        try:
            top = int(top_text)
        except ValueError as exc:
            raise bad_request(f"Invalid value '{top_text}' for $top query option.") from exc
        if size_asked and dv.switches.get("top_with_maxpagesize", "ignore_top") == "ignore_top":
            top = None
    if top is not None:
        size = min(top, MAX_PAGE)
    orderby = req.param("$orderby")
    rows_store = dv.rows[table.logical]
    page_rows: list[Row] = []
    more = False
    next_state: dict[str, Any] = {}
    if orderby:
        candidates = [
            r for i, r in rows_store.items() if (restrict is None or i in restrict) and (match is None or match(r))
        ]
        ordered = _ordered(dv, table, candidates, orderby)
        offset = int(state.get("o", 0))
        page_rows = ordered[offset : offset + size]
        more = offset + size < len(ordered)
        next_state = {"k": "ord", "o": offset + size, "p": page + 1}
    else:
        ids = sorted(restrict) if restrict is not None else dv.sorted_ids(table.logical)
        start = bisect.bisect_right(ids, state["last"]) if "last" in state else 0
        for rid in _slice(ids, start):
            row = rows_store.get(rid)
            if row is None or (match is not None and not match(row)):
                continue
            if len(page_rows) == size:
                more = True
                break
            page_rows.append(row)
        if page_rows:
            next_state = {"k": "pk", "last": page_rows[-1][table.pk], "p": page + 1}
    if top is not None:
        more = False
    dv.meter.rows += len(page_rows)
    body: dict[str, Any] = {"@odata.context": context(req, table, select)}
    if (req.param("$count") or "").lower() == "true":
        total = sum(
            1 for i, r in rows_store.items() if (restrict is None or i in restrict) and (match is None or match(r))
        )
        body["@odata.count"] = min(total, COUNT_CAP)
        if _wants(annotations, "Microsoft.Dynamics.CRM.totalrecordcount"):
            body["@Microsoft.Dynamics.CRM.totalrecordcount"] = min(total, COUNT_CAP)
        if _wants(annotations, "Microsoft.Dynamics.CRM.totalrecordcountlimitexceeded"):
            body["@Microsoft.Dynamics.CRM.totalrecordcountlimitexceeded"] = total > COUNT_CAP
    body["value"] = shape_rows(dv, table, page_rows, select, annotations)
    expand_rows(dv, req, table, page_rows, body["value"])
    if more:
        skip = encode_skiptoken(dv, next_state, page + 1, tracking=False)
        body["@odata.nextLink"] = _link(req, table, [("$skiptoken", skip)], ["$skiptoken"])
    headers = {"Preference-Applied": f"odata.maxpagesize={size}"} if size_asked else {}
    return ApiResponse.json(200, body, headers)


def _slice(ids: list[str], start: int) -> Iterator[str]:
    for i in range(start, len(ids)):
        yield ids[i]


def count_only(dv: Dataverse, req: ApiRequest, table: Table) -> ApiResponse:
    """GET <entityset>/$count → plain-text number (changes when a $deltatoken is given)."""
    delta = req.param("$deltatoken")
    if delta is not None:
        if req.caller is not None:
            req.caller.require_global(dv, table.logical, "Read")
        since, _issued = _valid_delta(dv, table, delta)
        total = sum(1 for _ in dv.changes_since(table.logical, since, dv.version))
    else:
        match = predicate(dv, table, req)
        total = sum(1 for r in dv.rows[table.logical].values() if match is None or match(r))
        if dv.switches["count_endpoint_capped"]:
            total = min(total, COUNT_CAP)
    return ApiResponse(200, {"Content-Type": "text/plain", "OData-Version": "4.0"}, str(total).encode())


# ------------------------------------------------------------------ change tracking


CT_MESSAGE = 'The "{}" query parameter isn\'t supported when Change Tracking is enabled.'
EXPIRED_MESSAGE = "Version stamp associated with the client has expired. Please perform a full sync."


def _valid_delta(dv: Dataverse, table: Table, token: str) -> tuple[int, float]:
    if not table.change_tracking:
        raise bad_request(f"Change tracking is not enabled for the entity '{table.logical}'.")
    since, issued = decode_deltatoken(token)
    age_limit = float(dv.switches["ct_expire_days"]) * 86400
    if since < dv.ct_floor[table.logical] or dv.clock.time() - issued > age_limit:
        raise DataverseError(int(dv.switches["ct_expired_status"]), "", EXPIRED_MESSAGE)
    return since, issued


def read_changes(dv: Dataverse, req: ApiRequest, table: Table, state: dict[str, Any], page: int) -> ApiResponse:
    if req.caller is not None:
        req.caller.require_global(dv, table.logical, "Read")  # §2.1: organization-level Read
    for option in ("$filter", "$orderby", "$expand", "$top"):
        if req.param(option) is not None:
            raise DataverseError(400, GENERIC, CT_MESSAGE.format(option))
    select = parse_select(table, req.param("$select"))
    annotations = annotations_wanted(req)
    size, size_asked = page_size(req)
    delta_param = req.param("$deltatoken")
    values: list[dict[str, Any]] = []
    more = False
    if delta_param is not None or state.get("k") == "delta":
        if state:
            since, upto = int(state["f"]), int(state["v"])
        else:
            since, _issued = _valid_delta(dv, table, delta_param or "")
            upto = dv.version
        last = tuple(state.get("last", (-1, -1)))
        last_key: tuple[int, int] | None = None
        items: list[Row | str] = []
        for key, item in dv.changes_since(table.logical, since, upto):
            if key <= last:
                continue
            if len(items) == size:
                more = True
                break
            last_key = key
            items.append(item)
        shaped = iter(shape_rows(dv, table, [i for i in items if not isinstance(i, str)], select, annotations))
        deleted_context = f"{req.base}$metadata#{table.entity_set}/$deletedEntity"
        values = [
            {"@odata.context": deleted_context, "id": item, "reason": "deleted"}
            if isinstance(item, str)
            else next(shaped)
            for item in items
        ]
        next_state = {"k": "delta", "f": since, "v": upto, "last": list(last_key or last), "p": page + 1}
        ctx = context(req, table, select, "/$delta")
    else:
        snapshot = int(state.get("v", dv.version))
        rows = _tracked_page(dv, table, state, size + 1)
        more = len(rows) > size
        rows = rows[:size]
        values = shape_rows(dv, table, rows, select, annotations)
        upto = snapshot
        order = dv.switches["ct_page_order"]
        last_value: Any = state.get("last")
        if rows:
            last_value = rows[-1][table.pk] if order == "pk" else rows[-1]["versionnumber"]
        next_state = {"k": "ct0", "v": snapshot, "last": last_value, "o": order, "p": page + 1}
        ctx = context(req, table, select)
    dv.meter.rows += len(values)
    body: dict[str, Any] = {"@odata.context": ctx, "value": values}
    if more:
        skip = encode_skiptoken(dv, next_state, page + 1, tracking=True)
        body["@odata.nextLink"] = _link(req, table, [("$skiptoken", skip)], ["$skiptoken", "$deltatoken"])
    else:
        version = upto if dv.switches["ct_token_from"] == "first_page" else dv.version
        token = encode_deltatoken(version, dv.clock.time())
        body["@odata.deltaLink"] = _link(req, table, [("$deltatoken", token)], ["$skiptoken", "$deltatoken"])
    applied = ["odata.track-changes"] + ([f"odata.maxpagesize={size}"] if size_asked else [])
    return ApiResponse.json(200, body, {"Preference-Applied": ",".join(applied)})


def _tracked_page(dv: Dataverse, table: Table, state: dict[str, Any], limit: int) -> list[Row]:
    rows = dv.rows[table.logical]
    order = state.get("o", dv.switches["ct_page_order"])
    last = state.get("last")
    if order == "version":
        ordered = sorted(
            (r for r in rows.values() if last is None or r["versionnumber"] > last), key=lambda r: r["versionnumber"]
        )
        return ordered[:limit]
    ids = dv.sorted_ids(table.logical)
    start = bisect.bisect_right(ids, last) if last is not None else 0
    return [rows[i] for i in ids[start : start + limit]]


# ------------------------------------------------------------------ $expand


def parse_expand(text: str) -> list[tuple[str, dict[str, str]]]:
    """``a($select=x,y;$filter=...),b`` → [(a, {"$select": "x,y", ...}), (b, {})]."""
    items: list[tuple[str, dict[str, str]]] = []
    depth = 0
    current = ""
    parts: list[str] = []
    for ch in text:
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        if ch == "," and depth == 0:
            parts.append(current)
            current = ""
        else:
            current += ch
    parts.append(current)
    for part in parts:
        part = part.strip()
        if not part:
            continue
        name, _, rest = part.partition("(")
        options: dict[str, str] = {}
        if rest:
            for opt in rest[:-1].split(";"):
                key, _, value = opt.partition("=")
                options[key.strip()] = value
        items.append((name.strip(), options))
    return items


_EXPAND_OPTIONS = {"$select", "$filter", "$orderby", "$top"}


def _expand_options(nav: str, options: dict[str, str], collection: bool) -> None:
    allowed = _EXPAND_OPTIONS if collection else {"$select"}
    for key in options:
        if key not in allowed:
            raise bad_request(f"The query option '{key}' is not supported inside $expand of '{nav}'.")


def _expanded_collection(
    dv: Dataverse, req: ApiRequest, other: Table, ids: list[str], options: dict[str, str]
) -> list[dict[str, Any]]:
    rows = [dv.rows[other.logical][i] for i in ids]
    if options.get("$filter"):
        match = compile_filter(options["$filter"], resolver(other, dv), filter_options(dv), req.aliases())
        rows = [r for r in rows if match(r)]
    if options.get("$orderby"):
        rows = _ordered(dv, other, rows, options["$orderby"])
    if options.get("$top"):
        try:
            rows = rows[: int(options["$top"])]
        except ValueError as exc:
            raise bad_request(f"Invalid value '{options['$top']}' for $top query option.") from exc
    return shape_rows(dv, other, rows, parse_select(other, options.get("$select")), set())


def _principal_selects(dv: Dataverse, text: str | None) -> dict[str, list[str] | None]:
    """$select inside $expand=ownerid(...): a principal is a user or a team, so each name must exist on one."""
    asked = [n.strip() for n in (text or "").split(",") if n.strip()]
    for name in asked:
        if not any(dv.tables[k].column(name) or name == dv.tables[k].pk for k in ("systemuser", "team")):
            raise no_property(dv.tables["systemuser"], name)
    return {k: [n for n in asked if dv.tables[k].column(n)] if asked else None for k in ("systemuser", "team")}


def _expand_single(
    dv: Dataverse, table: Table, nav: str, options: dict[str, str], rows: list[Row], shaped: list[dict[str, Any]]
) -> None:
    column, target = table.nav[nav]
    owner = table.columns[column].type == "Owner"
    selects = (
        _principal_selects(dv, options.get("$select"))
        if owner
        else {target: parse_select(dv.tables[target], options.get("$select"))}
    )
    get = getter(dv, table, f"_{column}_value")
    for row, out in zip(rows, shaped, strict=True):
        linked = get(row)
        kind = row.get(f"_{column}_value" + LLN) or target  # a customer lookup may point at the other table
        found = dv.rows[kind].get(linked) if linked and kind in selects else None
        out[nav] = shape(dv, dv.tables[kind], found, selects[kind], set()) if found else None


def expand_rows(dv: Dataverse, req: ApiRequest, table: Table, rows: list[Row], shaped: list[dict[str, Any]]) -> None:
    text = req.param("$expand")
    if not text:
        return
    for nav, options in parse_expand(text):
        if nav in table.nav:
            _expand_options(nav, options, collection=False)
            _expand_single(dv, table, nav, options, rows, shaped)
        elif nav in RELATIONSHIPS:
            _expand_options(nav, options, collection=True)
            other = dv.tables[dv.other_side(nav, table.logical)]
            for row, out in zip(rows, shaped, strict=True):
                ids = dv.related(nav, table.logical, row[table.pk])
                out[nav] = _expanded_collection(dv, req, other, ids, options)
        else:
            raise bad_request(
                f"Could not find a property named '{nav}' on type 'Microsoft.Dynamics.CRM.{table.logical}'."
            )
