"""Switches for behaviour no primary source confirms (see ASSUMPTIONS.md, one entry each).

``Switches`` is a dict-like with validation: unknown names and values outside a switch's allowed set are
rejected, so a typo in a test cannot silently test the default.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, MutableMapping
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sandbox import register_reads


@dataclass(frozen=True)
class SwitchSpec:
    name: str
    default: Any
    choices: tuple[Any, ...] | None  # None: validated by ``check`` instead
    summary: str
    check: Callable[[Any], bool] | None = None


def _is_zone(value: Any) -> bool:
    if not isinstance(value, str):
        return False
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


def _is_delay(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and 0 <= value <= 3600


SPECS: tuple[SwitchSpec, ...] = (
    SwitchSpec("bulk_import_spends_rps", True, (True, False),
               "POST import/bulk_import also counts against the 5 req/s account budget"),
    SwitchSpec("udate_on_tag_change", False, (True, False), "adding/removing a contact tag moves the contact's udate"),
    SwitchSpec("udate_on_list_change", False, (True, False),
               "subscribing/unsubscribing a contact to a list moves its udate"),
    SwitchSpec("udate_on_import", True, (True, False), "a processed bulk-import row moves an existing contact's udate"),
    SwitchSpec("udate_on_noop_update", False, (True, False),
               "PUT/sync that changes nothing still moves udate"),
    SwitchSpec("account_timezone", "America/Chicago", None,
               "account time zone used to render cdate/udate offsets", _is_zone),
    SwitchSpec("updated_after_tz", "account", ("account", "utc"),
               "zone in which a filters[updated_*]/created_* value without an offset is read"),
    SwitchSpec("updated_after_granularity", "datetime", ("datetime", "date"),
               "datetime: the time of day counts; date: only the date part counts (from 00:00 that day)"),
    SwitchSpec("customer_acct_name", "link_or_create", ("link_or_create", "link_only", "ignore"),
               "what bulk-import customer_acct_name does with accounts"),
    SwitchSpec("failure_row_base", 0, (0, 1), "failureReasons[].contact counts rows from 0 or from 1"),
    SwitchSpec("plan_limit_status", 403, (403, 404, 402),
               "status of a feature the plan lacks (accounts, custom objects)"),
    SwitchSpec("sync_update_status", 201, (201, 200), "status of contact/sync when it updated an existing contact"),
    SwitchSpec("custom_object_update_status", 201, (201, 200),
               "status of POST customObjects/records when it updated an existing record"),
    SwitchSpec("import_info_success", "ids", ("ids", "emails"), "what import/info lists under success"),
    SwitchSpec("import_info_pending", "outstanding", ("outstanding", "processing"),
               "import/info status before the batch completed"),
    SwitchSpec("import_delay_seconds", 5, None, "seconds on the sandbox clock until a batch is processed", _is_delay),
    SwitchSpec("dropdown_value_format", "plain", ("plain", "pipes"),
               "stored/returned value of dropdown and radio fields: 'X' or '||X||'"),
    SwitchSpec("custom_object_date_fields", "accepted", ("accepted", "rejected"),
               "whether custom-object schemas accept date/datetime fields"),
    SwitchSpec("v1_header_auth", True, (True, False), "whether v1 /admin/api.php accepts the Api-Token header"),
    SwitchSpec("contacts_default_order", "email", ("email", "id"), "order of GET /contacts without orders[...]"),
    SwitchSpec("account_udate_on_noop", False, (False, True),
               "PUT accounts/{id} or a custom-field write that changes nothing still moves updatedTimestamp"),
    SwitchSpec("account_udate_on_contact_link", False, (False, True),
               "creating, moving or deleting an accountContacts association moves the account's updatedTimestamp"),
    SwitchSpec("contacts_list_include", "ignored", ("ignored", "honoured"),
               "GET /contacts?include=fieldValues,contactLists,contactTags side-loads those for the page"),
    SwitchSpec("bounce_scope", "list", ("list", "all_lists"),
               "a bounce that marks the contact bounced sets status 3 on the list of the send, or on all its lists"),
    SwitchSpec("global_unsubscribe_reading", "unreadable", ("unreadable", "all_lists"),
               "an account-wide unsubscribe shows in no API read, or as status 2 on every list of the contact"),
    SwitchSpec("webhook_duplicates", "never", ("never", "always"),
               "at-least-once delivery: each webhook event and automation webhook step is posted once, or twice"),
    SwitchSpec("import_fires_webhooks", False, (False, True),
               "bulk-import rows fire subscribe/unsubscribe/update/tag webhook events"),
    SwitchSpec("automation_webhook_envelope", "with_envelope", ("with_envelope", "contact_only"),
               "an automation's webhook step posts type/date_time/initiated_* besides contact[...] and seriesid"),
    SwitchSpec("campaign_events_in_activities", True, (True, False),
               "campaign sends, opens, clicks, replies, ... and finished automations appear in GET /activities"),
    SwitchSpec("undocumented_list_filters", "ignored", ("ignored", "honoured"),
               "filters[status|type|name] on GET /campaigns and /automations (not in the doc)"),
    SwitchSpec("automation_reentry", "refused", ("refused", "duplicate"),
               "POST contactAutomations for a contact already in that automation: 403, or a second entry"),
    SwitchSpec("rate_limit_status", 429, (429, 503), "status returned when the 5 req/s budget is exceeded"),
)

SPEC_BY_NAME: dict[str, SwitchSpec] = {s.name: s for s in SPECS}


class Switches(MutableMapping[str, Any]):
    def __init__(self) -> None:
        self._values: dict[str, Any] = {s.name: s.default for s in SPECS}

    @staticmethod
    def validate(name: str, value: Any) -> Any:
        spec = SPEC_BY_NAME.get(name)
        if spec is None:
            raise KeyError(f"unknown switch {name!r}")
        if spec.choices is not None:
            # bool is an int subclass: compare type as well as value so True does not pass for 1.
            for choice in spec.choices:
                if value == choice and type(value) is type(choice):
                    return choice
            raise ValueError(f"switch {name!r} takes one of {list(spec.choices)}, not {value!r}")
        assert spec.check is not None
        if not spec.check(value):
            raise ValueError(f"invalid value {value!r} for switch {name!r}")
        return value

    def __getitem__(self, name: str) -> Any:
        register_reads.note("ac", name)
        return self._values[name]

    def __setitem__(self, name: str, value: Any) -> None:
        self._values[name] = self.validate(name, value)

    def __delitem__(self, name: str) -> None:
        self._values[name] = SPEC_BY_NAME[name].default  # "deleting" restores the default

    def __iter__(self) -> Iterator[str]:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)

    def set_many(self, values: Mapping[str, Any]) -> None:
        checked = {k: self.validate(k, v) for k, v in values.items()}  # all or nothing
        self._values.update(checked)

    def reset(self) -> None:
        self._values = {s.name: s.default for s in SPECS}

    def describe(self) -> list[dict[str, Any]]:
        return [
            {"name": s.name, "value": self._values[s.name], "default": s.default,
             "choices": list(s.choices) if s.choices is not None else None, "summary": s.summary}
            for s in SPECS
        ]
