"""In-memory Dataverse organisation: rows, row versions, deletions, N:N links, and sandbox knobs.

``app.state.dataverse`` is one of these. Tests may call its methods directly:

- tables / rows: ``tables`` (schema), ``rows[logical][id]`` (stored dicts), ``get``, ``create``,
  ``update`` (same rules as a PATCH: read-only columns such as ``isdisabled`` are ignored), ``touch``
  (system-side change, no rules), ``set_user_disabled``, ``delete``, ``associate``, ``disassociate``,
  ``related``;
- ``seed(contacts=N, seed=S)`` / ``reset()``;
- ``switches`` (register, see switches.py) and ``set_switches``;
- ``faults`` (error_rate, error_status, latency, force_429, retry_after, drop_next) and ``set_faults``;
- change tracking: ``set_change_tracking(table, on)``, ``expire_change_tokens(table)``;
- tokens: ``tokens``, ``rotate_tokens``, ``expire_token``;
- counters: ``counters`` (requests, by method, throttled, faults, batch operations).
"""

from __future__ import annotations

import asyncio
import bisect
import random
from collections import Counter, deque
from collections.abc import Awaitable, Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from . import switches as sw
from .errors import DUPLICATE_KEY, VALIDATION, DataverseError, bad_request, not_found
from .latency import Latency, Meter
from .limits import ServiceLimits
from .odata_filter import epoch_to_iso
from .schema import RELATIONSHIPS, Column, Table, build_tables

Row = dict[str, Any]
LLN = "@Microsoft.Dynamics.CRM.lookuplogicalname"
MONEY_MIN, MONEY_MAX, MONEY_PRECISION = -1e12, 1e12, 2  # dynamics-webapi.md §7 (opportunity Money)


@dataclass
class Faults:
    error_rate: float = 0.0
    error_status: int = 503
    latency: float = 0.0
    force_429: int = 0
    retry_after: int = 30
    drop_next: int = 0
    batch_timeout_over: int = 0  # a $batch of more operations than this times out at the gateway (0: off)
    batch_timeout_seconds: float = 120.0  # how long the gateway waits before its 504
    batch_timeout_applied: float = 0.0  # share of the operations the server ran before the gateway gave up

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass
class Tombstone:
    version: int
    id: str


@dataclass
class _Undo:
    actions: list[Callable[[], None]] = field(default_factory=list)


class Dataverse:
    def __init__(self, clock: Any, tokens: Iterable[str], seed: int = 1) -> None:
        self.clock = clock
        self.seed_value = seed
        self.tokens: set[str] = set(tokens)
        self.expired_tokens: set[str] = set()
        self.switches: dict[str, Any] = sw.defaults()
        self.faults = Faults()
        self.counters: Counter[str] = Counter()
        self.rate_limit: int | None = None
        self.rate_window = 300.0
        self.rate_log: dict[str, deque[float]] = {}
        self.fault_rng = random.Random(seed)
        self.limits = ServiceLimits()
        self.latency = Latency(seed)
        self.meter = Meter()  # what the current request did (execution-time cost, latency)
        # Injected latency waits through this; tests replace it to avoid real sleeping.
        self.sleep: Callable[[float], Awaitable[None]] = asyncio.sleep
        self._reset_data()

    # ------------------------------------------------------------------ state

    def _reset_data(self) -> None:
        self.tables: dict[str, Table] = build_tables()
        self.by_set: dict[str, Table] = {t.entity_set: t for t in self.tables.values()}
        self.rows: dict[str, dict[str, Row]] = {name: {} for name in self.tables}
        self.tombstones: dict[str, list[Tombstone]] = {name: [] for name in self.tables}
        self.links: dict[str, set[tuple[str, str]]] = {name: set() for name in RELATIONSHIPS}
        self.version = 1000
        self.ct_floor: dict[str, int] = {name: 0 for name in self.tables}
        self.id_rng = random.Random(f"ids-{self.seed_value}")
        self._sorted: dict[str, list[str] | None] = {name: None for name in self.tables}
        # (version, id) of every row version written through _put, in version order (None: build from rows)
        self._log: dict[str, list[tuple[int, str]] | None] = {name: None for name in self.tables}
        self._undo: _Undo | None = None
        self.org_id = self.new_id()
        self.root_bu = ""
        self.app_user = ""
        self.base_currency = ""
        self.token_users: dict[str, str] = {}
        self.role_privileges: dict[str, dict[str, str]] = {}  # root role id -> privilege name -> depth

    def reset(self) -> None:
        """Empty organisation (only the built-in org row, root business unit and app user)."""
        self._reset_data()
        from .seed import seed_base

        seed_base(self)

    def seed(self, contacts: int = 0, seed: int | None = None) -> dict[str, int]:
        from .seed import seed_org

        if seed is not None:
            self.seed_value = seed
        self._reset_data()
        return seed_org(self, contacts)

    def now_iso(self) -> str:
        return epoch_to_iso(self.clock.time())

    def new_id(self) -> str:
        return random_guid(self.id_rng)

    def next_version(self) -> int:
        self.version += 1
        return self.version

    def set_switches(self, changes: dict[str, Any]) -> dict[str, Any]:
        sw.validate(changes)
        self.switches.update(changes)
        if "ct_expire_days" in changes:
            for org in self.rows["organization"].values():
                org["expirechangetrackingindays"] = changes["ct_expire_days"]
        if "root_role_parent_root" in changes:
            from .roles import apply_root_reading

            apply_root_reading(self)
        return dict(self.switches)

    def set_faults(self, changes: dict[str, Any]) -> dict[str, Any]:
        for key, value in changes.items():
            if not hasattr(self.faults, key):
                raise DataverseError(400, "sandbox", f"unknown fault {key!r}")
            setattr(self.faults, key, type(getattr(self.faults, key))(value))
        return self.faults.as_dict()

    def set_change_tracking(self, logical: str, enabled: bool) -> None:
        self.table(logical).change_tracking = enabled

    def expire_change_tokens(self, logical: str) -> None:
        """Every delta token issued so far for ``logical`` becomes expired."""
        self.ct_floor[logical] = self.next_version()

    def rotate_tokens(self, tokens: Iterable[str]) -> None:
        self.tokens = set(tokens)
        self.expired_tokens.clear()
        self.rate_log.clear()

    def expire_token(self, token: str) -> None:
        self.expired_tokens.add(token)

    def add_user_token(self, token: str, user_id: str) -> None:
        """Accept ``token`` as a bearer token of ``user_id`` (WhoAmI, access checks)."""
        self.token_users[token] = self.require("systemuser", user_id)["systemuserid"]
        self.tokens.add(token)

    def assign(self, logical: str, row_id: str, kind: str, owner_id: str) -> Row:
        """System-side assignment of a record to a user or team (bumps version and modifiedon)."""
        table = self.table(logical)
        if "ownerid" not in table.columns or kind not in ("systemuser", "team"):
            raise bad_request(f"'{logical}' records are not owned by users or teams.")
        owner = self.require(kind, owner_id)[self.tables[kind].pk]
        row = self.require(logical, row_id)
        return self.touch(logical, row, {"_ownerid_value": owner, "_ownerid_value" + LLN: kind})

    def table(self, logical: str) -> Table:
        try:
            return self.tables[logical]
        except KeyError:
            raise bad_request(f"The entity '{logical}' does not exist.") from None

    # ------------------------------------------------------------------ transactions

    def begin(self) -> None:
        self._undo = _Undo()

    def commit(self) -> None:
        self._undo = None

    def rollback(self) -> None:
        undo, self._undo = self._undo, None
        if undo:
            for action in reversed(undo.actions):
                action()

    def _remember(self, action: Callable[[], None]) -> None:
        if self._undo is not None:
            self._undo.actions.append(action)

    def _put(self, logical: str, row_id: str, row: Row | None) -> None:
        """Set or remove a row, remembering the previous state for rollback."""
        rows = self.rows[logical]
        previous = rows.get(row_id)
        ids = self._sorted[logical]
        if row is None:
            rows.pop(row_id, None)
            if previous is not None and ids is not None:  # keep the sorted ids instead of re-sorting 10^6 of them
                i = bisect.bisect_left(ids, row_id)
                if i < len(ids) and ids[i] == row_id:
                    del ids[i]
        else:
            rows[row_id] = row
            if previous is None and ids is not None:
                bisect.insort(ids, row_id)
            log = self._log[logical]
            if log is not None and (not log or row["versionnumber"] > log[-1][0]):
                log.append((row["versionnumber"], row_id))

        def undo() -> None:
            if previous is None:
                rows.pop(row_id, None)
            else:
                rows[row_id] = previous
            self._sorted[logical] = None

        self._remember(undo)

    # ------------------------------------------------------------------ reads

    def get(self, logical: str, row_id: str) -> Row | None:
        return self.rows[logical].get(row_id.lower())

    def require(self, logical: str, row_id: str) -> Row:
        row = self.get(logical, row_id)
        if row is None:
            raise not_found(logical, row_id)
        return row

    def build_indexes(self) -> None:
        """Sorted primary keys and the version-ordered change log of every table, built from the rows."""
        for name, rows in self.rows.items():
            self._sorted[name] = sorted(rows)
            self._log[name] = sorted((row["versionnumber"], rid) for rid, row in rows.items())

    def sorted_ids(self, logical: str) -> list[str]:
        cached = self._sorted[logical]
        if cached is None:
            cached = sorted(self.rows[logical])
            self._sorted[logical] = cached
        return cached

    def find_by_key(self, logical: str, key: dict[str, Any]) -> Row | None:
        for row in self.rows[logical].values():
            if all(_key_equal(row.get(k), v) for k, v in key.items()):
                return row
        return None

    def etag(self, row: Row) -> str:
        return f'W/"{row["versionnumber"]}"'

    # ------------------------------------------------------------------ writes

    def create(
        self, logical: str, values: dict[str, Any], binds: dict[str, tuple[str, str | None]] | None = None
    ) -> Row:
        """Create a row. ``values`` are column values; ``binds`` map lookup column -> (target, id)."""
        table = self.table(logical)
        row_id = str(values.get(table.pk) or self.new_id()).lower()
        if row_id in self.rows[logical]:
            raise DataverseError(412, DUPLICATE_KEY, "Cannot insert duplicate key.")
        now = self.now_iso()
        row: Row = {table.pk: row_id}
        self._apply(table, row, values, binds or {}, creating=True)
        _defaults(table, row)
        if "ownerid" in table.columns and "_ownerid_value" not in row and self.app_user:
            row["_ownerid_value"] = self.app_user  # the caller owns what it creates
            row["_ownerid_value" + LLN] = "systemuser"
        row["createdon"] = now
        row["modifiedon"] = now
        row["versionnumber"] = self.next_version()
        _derive(table, row)
        self._put(logical, row_id, row)
        self.meter.writes += 1
        return row

    def update(
        self, logical: str, row_id: str, values: dict[str, Any], binds: dict[str, tuple[str, str | None]] | None = None
    ) -> Row:
        table = self.table(logical)
        current = self.require(logical, row_id)
        row = dict(current)
        self._apply(table, row, values, binds or {}, creating=False)
        row["modifiedon"] = self.now_iso()
        row["versionnumber"] = self.next_version()
        _derive(table, row)
        self._put(logical, row[table.pk], row)
        self.meter.writes += 1
        return row

    def touch(self, logical: str, row: Row, changes: dict[str, Any]) -> Row:
        """System-side update (merge, qualify): no validation, bumps version and modifiedon."""
        table = self.table(logical)
        new = dict(row)
        new.update(changes)
        new["modifiedon"] = self.now_iso()
        new["versionnumber"] = self.next_version()
        _derive(table, new)
        self._put(logical, new[table.pk], new)
        return new

    def set_user_disabled(self, user_id: str, disabled: bool = True) -> Row:
        """Disable or enable a system user, as an administrator would outside the Web API.

        ``isdisabled`` is not valid for update, so ``update("systemuser", id, {"isdisabled": True})``
        is silently ignored exactly like a PATCH (§4.2); tests disable users through this instead.
        """
        return self.touch("systemuser", self.require("systemuser", user_id), {"isdisabled": bool(disabled)})

    def delete(self, logical: str, row_id: str) -> None:
        row = self.require(logical, row_id)
        rid = row[self.table(logical).pk]
        self._put(logical, rid, None)
        self.meter.writes += 1
        stones = self.tombstones[logical]
        stones.append(Tombstone(self.next_version(), rid))
        self._remember(lambda: stones.remove(stones[-1]))
        for name, (a, b) in RELATIONSHIPS.items():
            if logical in (a, b):
                pairs = self.links[name]
                gone = {p for p in pairs if (p[0] == rid and logical == a) or (p[1] == rid and logical == b)}
                pairs -= gone
                self._remember(lambda pairs=pairs, gone=gone: pairs.update(gone))  # type: ignore[misc]

    def _apply(
        self, table: Table, row: Row, values: dict[str, Any], binds: dict[str, tuple[str, str | None]], creating: bool
    ) -> None:
        for name, value in values.items():
            column = table.column(name)
            if column is None:
                raise bad_request(
                    f"The property '{name}' does not exist on type 'Microsoft.Dynamics.CRM.{table.logical}'. Make sure "
                    "to only use property names that are defined by the type or mark the type as open type.",
                    code="0x80060888",
                )
            if name == table.pk or not column.writable:
                continue  # columns not valid for create/update are silently ignored (§4.2)
            if (creating and column.create_only_ignored) or (not creating and not column.updatable):
                continue
            if column.is_lookup:
                if value is not None:
                    raise bad_request(f"Use '{name}@odata.bind' to set the lookup '{name}'.")
                self._set_lookup(row, column, None, None)
                continue
            row[name] = _check_value(table, column, value, self.switches["max_length_unit"] == "utf16")
        for column_name, (target, target_id) in binds.items():
            column = table.columns[column_name]
            if not column.writable or (not creating and not column.updatable):
                continue  # not valid for create/update: silently ignored (§4.2)
            if target_id is not None:
                found = self.get(target, target_id)
                if found is None:
                    raise not_found(target, target_id)
                target_id = found[self.tables[target].pk]
            self._set_lookup(row, column, target, target_id)

    @staticmethod
    def _set_lookup(row: Row, column: Column, target: str | None, target_id: str | None) -> None:
        key = f"_{column.name}_value"
        if target_id is None:
            row.pop(key, None)
            row.pop(key + LLN, None)
        else:
            row[key] = target_id
            if len(column.targets) > 1:
                row[key + LLN] = target
            else:
                row.pop(key + LLN, None)

    # ------------------------------------------------------------------ N:N

    def _pair(self, relationship: str, logical: str, row_id: str, other_id: str) -> tuple[str, str]:
        a, _b = RELATIONSHIPS[relationship]
        return (row_id, other_id) if logical == a else (other_id, row_id)

    def other_side(self, relationship: str, logical: str) -> str:
        a, b = RELATIONSHIPS[relationship]
        if logical not in (a, b):
            raise bad_request(f"'{relationship}' is not a navigation property of '{logical}'.")
        return b if logical == a else a

    def associate(self, relationship: str, logical: str, row_id: str, other_id: str) -> None:
        other = self.other_side(relationship, logical)
        row = self.require(logical, row_id)
        other_row = self.require(other, other_id)
        if "role" in (logical, other):
            holder, role = (row, other_row) if other == "role" else (other_row, row)
            if holder.get("_businessunitid_value") != role.get("_businessunitid_value"):
                raise DataverseError(
                    400,
                    self.switches["role_other_bu_code"],
                    "The role and the user or team must belong to the same business unit: a user or team can only "
                    "be assigned a role from its own business unit.",
                )
        if relationship == "teamroles_association":
            team, role = (row, other_row) if logical == "team" else (other_row, row)
            _team_may_hold(team, role)
        pair = self._pair(relationship, logical, row[self.tables[logical].pk], other_row[self.tables[other].pk])
        pairs = self.links[relationship]
        if pair in pairs:
            if self.switches["reassociate_duplicate"] == "error":
                raise DataverseError(412, DUPLICATE_KEY, "Cannot insert duplicate key.")
            return
        pairs.add(pair)
        self._remember(lambda: pairs.discard(pair))

    def disassociate(self, relationship: str, logical: str, row_id: str, other_id: str) -> None:
        other = self.other_side(relationship, logical)
        self.require(logical, row_id)
        pair = self._pair(relationship, logical, row_id.lower(), other_id.lower())
        pairs = self.links[relationship]
        if pair in pairs:
            pairs.discard(pair)
            self._remember(lambda: pairs.add(pair))
        del other

    def related(self, relationship: str, logical: str, row_id: str) -> list[str]:
        a, _b = RELATIONSHIPS[relationship]
        self.other_side(relationship, logical)
        rid = row_id.lower()
        if logical == a:
            return sorted(p[1] for p in self.links[relationship] if p[0] == rid)
        return sorted(p[0] for p in self.links[relationship] if p[1] == rid)

    # ------------------------------------------------------------------ change tracking

    def changes_since(self, logical: str, since: int, upto: int) -> Iterator[tuple[tuple[int, int], Row | str]]:
        """Changes in (since, upto]: updated/created rows by version first, then deletions.

        Yields (page key, row) for live rows and (page key, id) for deleted ones. A row changed
        several times appears once, with current values; a row created then deleted appears as
        deleted only.
        """
        live = self.rows[logical]
        log = self._log[logical]
        if log is None:
            log = sorted((row["versionnumber"], rid) for rid, row in live.items())
            self._log[logical] = log
        for i in range(bisect.bisect_right(log, (since, "\uffff")), len(log)):
            version, rid = log[i]
            if version > upto:
                break
            row = live.get(rid)
            if row is not None and row["versionnumber"] == version:  # the row's current version, not a stale one
                yield (0, version), row
        seen: set[str] = set()
        stones = self.tombstones[logical]
        for stone in stones[bisect.bisect_right(stones, since, key=lambda t: t.version) :]:
            if stone.version > upto:
                break
            if stone.id not in live and stone.id not in seen:
                seen.add(stone.id)
                yield (1, stone.version), stone.id

    # ------------------------------------------------------------------ rate limiting

    def requests_remaining(self, token: str) -> int:
        """Requests left in the current window (the x-ms-ratelimit-burst-remaining-xrm-requests header)."""
        if self.rate_limit is None:
            return 0
        return max(0, self.rate_limit - len(self.rate_log.get(token, ())))

    def throttle(self, token: str) -> float | None:
        """Seconds to wait if ``token`` is over the service-protection request limit, else None."""
        if self.rate_limit is None:
            return None
        now: float = self.clock.time()
        log = self.rate_log.setdefault(token, deque())
        while log and log[0] <= now - self.rate_window:
            log.popleft()
        if len(log) >= self.rate_limit:
            return max(1.0, log[0] + self.rate_window - now)
        log.append(now)
        return None


_VERSION_MASK = ~((0xF000 << 64) | (0xC000 << 48))
_VERSION_BITS = (0x4000 << 64) | (0x8000 << 48)


def random_guid(rng: random.Random) -> str:
    """A version-4 GUID string from ``rng`` (same layout as ``uuid.UUID(int=..., version=4)``)."""
    h = f"{(rng.getrandbits(128) & _VERSION_MASK) | _VERSION_BITS:032x}"
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def _team_may_hold(team: Row, role: Row) -> None:
    """Access teams take no roles; Entra group teams only roles with member privilege inheritance.

    data-service-error-codes.md: CannotAssignRolesOrProfilesToAccessTeam 0x80048331,
    AadGroupTeamsCanOnlyAssignInheritableRoles 0x80048350.
    """
    if team.get("teamtype") == 1:
        message = f"Cannot assign roles or profiles to an access team (TeamId = {team['teamid']})."
        raise bad_request(message, "0x80048331")
    if team.get("teamtype") in (2, 3) and role.get("isinherited", 1) == 0:
        raise bad_request(
            'Cannot assign security role with "Team Privileges only" Inheritance to AAD Group or Office Group '
            f"teams. (TeamId = {team['teamid']})",
            "0x80048350",
        )


def _key_equal(stored: Any, wanted: Any) -> bool:
    if isinstance(stored, str) and isinstance(wanted, str):
        return stored.casefold() == wanted.casefold()
    if isinstance(wanted, str) and stored is not None:  # an unquoted key value such as componentstate=0
        return str(stored).lower() == wanted.lower()
    return bool(stored == wanted)


def text_length(value: str, utf16: bool) -> int:
    """Length as MaxLength counts it: UTF-16 code units (an emoji counts 2) or code points."""
    return len(value.encode("utf-16-le")) // 2 if utf16 else len(value)


def _check_value(table: Table, column: Column, value: Any, utf16: bool = True) -> Any:
    if value is None:
        if column.required == "SystemRequired":
            raise bad_request(f"'{column.name}' is required and cannot be set to null.", code=VALIDATION)
        return None
    kind = column.type
    if kind in ("String", "Memo"):
        if not isinstance(value, str):
            raise bad_request(f"Cannot convert the literal '{value}' to the expected type 'Edm.String'.")
        if column.max_length is not None and text_length(value, utf16) > column.max_length:
            raise bad_request(  # wording (two spaces included) of the batch doc's example response
                f"A validation error occurred.  The length of the '{column.name}' attribute of the '{table.logical}' "
                f"entity exceeded the maximum allowed length of '{column.max_length}'.",
                code=VALIDATION,
            )
        return value
    if kind in ("Picklist", "State", "Status"):
        if not isinstance(value, int) or isinstance(value, bool):
            raise bad_request(f"Cannot convert the literal '{value}' to the expected type 'Edm.Int32'.")
        if column.options and value not in {v for v, _ in column.options}:
            raise bad_request(
                f"A validation error occurred. The value {value} of '{column.name}' on record of type "
                f"'{table.logical}' is outside the valid range.",
                code=VALIDATION,
            )
        return value
    if kind == "Boolean":
        if not isinstance(value, bool):
            raise bad_request(f"Cannot convert the literal '{value}' to the expected type 'Edm.Boolean'.")
        return value
    if kind in ("Money", "Integer", "BigInt", "Decimal", "Double"):
        if not isinstance(value, int | float) or isinstance(value, bool):
            raise bad_request(f"Cannot convert the literal '{value}' to the expected type 'Edm.Decimal'.")
        if kind == "Money" and not MONEY_MIN <= value <= MONEY_MAX:
            raise bad_request(
                f"A validation error occurred. The value {value} of '{column.name}' on record of type "
                f"'{table.logical}' is outside the valid range. Accepted Values: {MONEY_MIN:.0f} to {MONEY_MAX:.0f}",
                code=VALIDATION,
            )
        return value
    if kind in ("DateTime", "DateOnly", "Uniqueidentifier"):
        if not isinstance(value, str):
            raise bad_request(f"Cannot convert the literal '{value}' for column '{column.name}'.")
        return value.lower() if kind == "Uniqueidentifier" else value
    return value


def _defaults(table: Table, row: Row) -> None:
    for column in table.columns.values():
        if column.default is not None and row.get(column.name) is None:
            row[column.name] = column.default
    if "statecode" in table.columns and "statecode" not in row:
        row["statecode"] = 0
        row.setdefault("statuscode", 1)
    if "merged" in table.columns:
        row.setdefault("merged", False)
    if "isdisabled" in table.columns:
        row.setdefault("isdisabled", False)
    if "accessmode" in table.columns and row.get("accessmode") is None:
        row["accessmode"] = 4 if row.get("applicationid") else 0
    if "membershiptype" in table.columns and row.get("membershiptype") is None:
        row["membershiptype"] = 0


def _derive(table: Table, row: Row) -> None:
    if "fullname" in table.columns:
        parts = [row.get("firstname"), row.get("lastname")]
        row["fullname"] = " ".join(p for p in parts if p) or None
