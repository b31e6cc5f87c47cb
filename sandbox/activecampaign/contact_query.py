"""``GET /contacts`` filters and orders, planned over the indexes so no filter the product uses scans the account.

Indexed filters (email, ids, tagid, listid/status, seriesid, filters[updated_after]) each give a candidate set; the
smallest drives, the others and the plain predicates (email_like, search, phone, exclude, the other date filters)
are checked on it. Without an indexed filter the candidates are the sorted ids cut by id_greater/id_less with a
bisection, so ``id_greater=…&orders[id]=ASC`` touches only the page.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable, Sequence
from datetime import UTC
from typing import Any, overload
from zoneinfo import ZoneInfo

from starlette.requests import Request

from .errors import ACError
from .state import ACState, Contact, as_int
from .timefmt import parse_filter_time

ORDER_KEYS: dict[str, Callable[[Contact], Any]] = {
    "id": lambda c: c.id, "cdate": lambda c: (c.cdate, c.id), "email": lambda c: (c.email.lower(), c.id),
    "first_name": lambda c: (c.first_name.lower(), c.id), "last_name": lambda c: (c.last_name.lower(), c.id),
    "name": lambda c: ((c.first_name + " " + c.last_name).lower(), c.id),
}
DATE_FILTERS = (("filters[updated_after]", "udate", True), ("filters[updated_before]", "udate", False),
                ("filters[created_after]", "cdate", True), ("filters[created_before]", "cdate", False))


def threshold(ac: ACState, value: str) -> float:
    zone = ZoneInfo(ac.switches["account_timezone"]) if ac.switches["updated_after_tz"] == "account" else UTC
    try:
        return parse_filter_time(value, naive_zone=zone, granularity=ac.switches["updated_after_granularity"])
    except ValueError as err:
        raise ACError(400, {"errors": [{"status": 400, "title": "Bad Request",
                                        "detail": f"Invalid date value {value!r}"}]}) from err


def int_param(request: Request, name: str) -> int | None:
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return None
    value = as_int(raw[1:]) if raw.startswith("-") else as_int(raw)
    if value is None:
        raise ACError(400, {})
    return -value if raw.startswith("-") else value


def _ids_param(request: Request) -> set[int] | None:
    raw = request.query_params.getlist("ids[]") + request.query_params.getlist("ids")
    if not raw:
        return None
    return {v for item in raw for part in item.split(",") if (v := as_int(part)) is not None}


def _indexed(request: Request, ac: ACState) -> list[set[int]]:
    """Candidate id sets of the indexed filters present."""
    q = request.query_params
    sets: list[set[int]] = []
    if (email := q.get("email")) is not None:
        sets.append({c.id for c in ac.contacts_by_email(email)})
    if (ids := _ids_param(request)) is not None:
        sets.append(ids)
    if (tagid := int_param(request, "tagid")) is not None:
        sets.append(ac.contacts_with_tag(tagid))
    if (seriesid := int_param(request, "seriesid")) is not None:
        sets.append(ac.contacts_in_automation(seriesid))
    listid, status = int_param(request, "listid"), int_param(request, "status")
    status = None if status == -1 else status
    if listid is not None or status is not None:
        sets.append(ac.contacts_on_list(listid, status))
    if (after := q.get("filters[updated_after]")) not in (None, ""):
        assert after is not None
        sets.append(set(ac.by_udate.at_or_after(threshold(ac, after))))
    return sets


def _predicates(request: Request, ac: ACState) -> list[Callable[[Contact], bool]]:
    q = request.query_params
    out: list[Callable[[Contact], bool]] = []
    if (like := q.get("email_like")) is not None:
        fragment = like.lower()
        out.append(lambda c: fragment in c.email.lower())
    if (search := q.get("search")) not in (None, "", "null"):
        s = str(search).lower()
        out.append(lambda c: s in c.email.lower() or s in c.first_name.lower() or s in c.last_name.lower()
                   or s in c.phone.lower())
    if (phone := q.get("phone")) is not None:
        out.append(lambda c: c.phone.startswith(phone))
    if (exclude := int_param(request, "exclude")) is not None:
        out.append(lambda c: c.id != exclude)
    for name, attr, after in DATE_FILTERS:
        if (value := q.get(name)) not in (None, ""):
            assert value is not None
            out.append(_time_bound(attr, after, threshold(ac, value)))
    return out


def _time_bound(attr: str, after: bool, limit: float) -> Callable[[Contact], bool]:
    def check(c: Contact) -> bool:
        value: float = getattr(c, attr)
        return value >= limit if after else value < limit

    return check


class IdRange(Sequence[int]):
    """``ids[start:end]`` (optionally reversed) without copying: a page of ``id_greater`` touches only the page."""

    def __init__(self, ids: list[int], start: int, end: int, backwards: bool = False) -> None:
        self.ids, self.start, self.end, self.backwards = ids, start, max(start, end), backwards

    def __len__(self) -> int:
        return self.end - self.start

    @overload
    def __getitem__(self, index: int) -> int: ...

    @overload
    def __getitem__(self, index: slice) -> list[int]: ...

    def __getitem__(self, index: int | slice) -> int | list[int]:
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self)))]
        if not 0 <= index < len(self):
            raise IndexError(index)
        return self.ids[self.end - 1 - index] if self.backwards else self.ids[self.start + index]

    def reversed_view(self) -> IdRange:
        return IdRange(self.ids, self.start, self.end, not self.backwards)


def _id_range(request: Request, ids: list[int]) -> IdRange:
    start, end = 0, len(ids)
    if (greater := int_param(request, "id_greater")) is not None:
        start = bisect.bisect_right(ids, greater)
    if (less := int_param(request, "id_less")) is not None:
        end = bisect.bisect_left(ids, less)
    return IdRange(ids, start, end)


def match_ids(request: Request, ac: ACState) -> Sequence[int]:
    """Ids of the matching contacts in the requested order."""
    sets = _indexed(request, ac)
    ids: Sequence[int]
    if sets:
        sets.sort(key=len)
        matching = sets[0].intersection(*sets[1:]) & ac.contacts.keys()  # set operations, in C
        ids = _id_range(request, sorted(matching))
    else:
        ids = _id_range(request, ac.contact_ids.get())
    predicates = _predicates(request, ac)
    if predicates:
        contacts = ac.contacts
        ids = [i for i in ids if all(p(contacts[i]) for p in predicates)]
    return _order(request, ac, ids)


def _order(request: Request, ac: ACState, ids: Sequence[int]) -> Sequence[int]:
    given = [(k[len("orders["):-1], v) for k, v in request.query_params.multi_items()
             if k.startswith("orders[") and k.endswith("]")]
    orders = [(k, v.strip().lower() == "desc") for k, v in given if k in ORDER_KEYS]
    if not orders:
        orders = [(ac.switches["contacts_default_order"], False)]
    if len(orders) == 1 and orders[0][0] == "id":  # already in id order
        if not orders[0][1]:
            return ids
        return ids.reversed_view() if isinstance(ids, IdRange) else list(ids)[::-1]
    if len(orders) == 1 and orders[0][0] == "email" and len(ids) > len(ac.contacts) // 4:
        if len(ids) == len(ac.contacts):  # the whole account: the cached email order as it is
            ordered = ac.email_order()
        else:  # most of it: filter the cached order instead of sorting
            wanted = set(ids)
            ordered = [i for i in ac.email_order() if i in wanted]
        return ordered[::-1] if orders[0][1] else ordered
    contacts = ac.contacts
    records = [contacts[i] for i in ids]
    for key, descending in reversed(orders):  # several criteria apply in query-string order (stable sorts)
        records.sort(key=ORDER_KEYS[key], reverse=descending)
    return [c.id for c in records]
