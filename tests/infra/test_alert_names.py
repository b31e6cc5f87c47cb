"""The alert rules query only events and properties the app emits, and the exporter really turns the
app's records into Application Insights custom events with those names."""

from __future__ import annotations

import gzip
import json
import logging
import os
import re
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar

import pytest

from sync_core import telemetry
from tests.infra.bicep import INFRA, ROOT, expr, resources, string_variables
from tests.infra.emit_all import emit_all

ALERTS = INFRA / "modules" / "alerts.bicep"


def _queries() -> dict[str, str]:
    return {k: v for k, v in string_variables(ALERTS).items() if k.endswith("Query")}


def _events_in(kql: str) -> set[str]:
    names = set(re.findall(r'\bname\s*==\s*"([^"]+)"', kql))
    for group in re.findall(r"\bname\s+in\s*\(([^)]*)\)", kql):
        names |= set(re.findall(r'"([^"]+)"', group))
    return names


def _properties_in(kql: str) -> set[str]:
    return set(re.findall(r"customDimensions\.(\w+)", kql)) | set(
        re.findall(r"customDimensions\[['\"](\w+)['\"]\]", kql))


def test_every_rule_uses_one_of_the_checked_queries() -> None:
    queries = _queries()
    # The app-telemetry rules; the Key Vault secret-read rule (audit.bicep) is tested in test_audit.py.
    rules = list(resources("Microsoft.Insights/scheduledQueryRules", ALERTS))
    assert len(rules) == 4
    used = set()
    for rule in rules:
        (criterion,) = rule.body["properties"]["criteria"]["allOf"]
        rendered = expr(criterion["query"])
        refs = {name for name in queries if re.search(rf"\b{name}\b", rendered)}
        assert len(refs) == 1, f"{rule.symbol}: query {rendered!r} must be one of {sorted(queries)}"
        used |= refs
    assert used == set(queries)


@pytest.mark.parametrize("var", sorted(_queries()))
def test_alert_queries_name_only_emitted_events_and_properties(var: str) -> None:
    kql = _queries()[var]
    events = _events_in(kql)
    assert events, f"{var} filters on no event name"
    unknown = events - telemetry.EVENT_NAMES
    assert not unknown, f"{var} queries events the app never emits: {unknown}"
    props = _properties_in(kql)
    assert props <= telemetry.PROPERTY_NAMES, f"{var} queries unknown properties {props - telemetry.PROPERTY_NAMES}"


def test_the_alerts_cover_errors_credentials_staleness_and_poison() -> None:
    queried = set().union(*(_events_in(q) for q in _queries().values()))
    assert queried == {telemetry.EVENT_ERRORS_RECORDED, telemetry.EVENT_CREDENTIALS_REJECTED,
                       telemetry.EVENT_CONNECTION_SYNCED, telemetry.EVENT_CONNECTION_OVERDUE,
                       telemetry.EVENT_MESSAGE_POISONED}


EXPECTED = {
    telemetry.EVENT_PASS_FINISHED: {"connection_id": "c1", "entity": "contacts", "direction": "dynamics_to_ac",
                                    "count_read": "5", "count_created": "2", "duration_s": "1.5"},
    telemetry.EVENT_ERRORS_RECORDED: {"connection_id": "c1", "entity": "contacts", "error_count": "3"},
    telemetry.EVENT_CREDENTIALS_REJECTED: {"connection_id": "c1", "side": "activecampaign"},
    telemetry.EVENT_CONNECTION_SYNCED: {"connection_id": "c1", "frequency_hours": "4"},
    telemetry.EVENT_CONNECTION_OVERDUE: {"connection_id": "c1", "frequency_hours": "24", "hours_since_sync": "50.0"},
    telemetry.EVENT_MESSAGE_POISONED: {"connection_id": "c1", "queue": "sync-passes-poison"},
}


def test_helpers_are_silent_until_configured(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING)
    emit_all()
    assert not [r for r in caplog.records if r.name == telemetry.TELEMETRY_LOGGER]
    assert telemetry.configure_telemetry({}) is False


def test_helpers_write_one_named_record_each(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger=telemetry.TELEMETRY_LOGGER)
    emit_all()
    records = [r for r in caplog.records if r.name == telemetry.TELEMETRY_LOGGER]
    got = {r.__dict__["microsoft.custom_event.name"]: r for r in records}
    assert set(got) == set(EXPECTED) == set(telemetry.EVENT_NAMES)
    for name, props in EXPECTED.items():
        assert {k: str(got[name].__dict__[k]) for k in props} == props
    assert got[telemetry.EVENT_ERRORS_RECORDED].__dict__["microsoft.custom_measurements"] == {"error_count": 3.0}


def test_zero_errors_and_unknown_sides_are_refused_or_dropped(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger=telemetry.TELEMETRY_LOGGER)
    telemetry.errors_recorded("c1", "contacts", 0)
    assert not caplog.records
    with pytest.raises(ValueError, match="side"):
        telemetry.credentials_rejected("c1", "salesforce")  # type: ignore[arg-type]


class _Ingestion(BaseHTTPRequestHandler):
    envelopes: ClassVar[list[dict[str, Any]]] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        if self.headers.get("Content-Encoding") == "gzip" or body[:2] == b"\x1f\x8b":
            body = gzip.decompress(body)
        items = json.loads(body)
        items = items if isinstance(items, list) else [items]
        type(self).envelopes.extend(items)
        reply = json.dumps({"itemsReceived": len(items), "itemsAccepted": len(items), "errors": []}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(reply)))
        self.end_headers()
        self.wfile.write(reply)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def ingestion() -> Iterator[tuple[str, list[dict[str, Any]]]]:
    _Ingestion.envelopes = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Ingestion)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/", _Ingestion.envelopes
    finally:
        server.shutdown()
        server.server_close()


_CHILD = """
import logging
from opentelemetry._logs import get_logger_provider
from sync_core import telemetry
from tests.infra.emit_all import emit_all
assert telemetry.configure_telemetry() is True
emit_all()
logging.getLogger("sync_core.other").warning("not an event; must not be exported")
assert get_logger_provider().force_flush(10_000)
"""


def test_exporter_sends_custom_events_with_the_alerted_names(
        ingestion: tuple[str, list[dict[str, Any]]]) -> None:
    pytest.importorskip("azure.monitor.opentelemetry", reason="azure-monitor-opentelemetry is not installed")
    endpoint, envelopes = ingestion
    env = {k: v for k, v in os.environ.items() if not k.startswith(("APPLICATIONINSIGHTS_", "WEBSITE_", "OTEL_"))}
    env |= {
        "APPLICATIONINSIGHTS_CONNECTION_STRING":
            f"InstrumentationKey=00000000-0000-0000-0000-000000000000;IngestionEndpoint={endpoint}",
        "APPLICATIONINSIGHTS_STATSBEAT_DISABLED_ALL": "true",
    }
    run = subprocess.run([sys.executable, "-c", _CHILD], cwd=ROOT, env=env, capture_output=True, text=True,
                         timeout=90, check=False)
    assert run.returncode == 0, run.stderr[-3000:]
    events = {e["data"]["baseData"]["name"]: e["data"]["baseData"] for e in envelopes
              if e["data"]["baseType"] == "EventData"}
    assert set(events) == set(EXPECTED)
    for name, props in EXPECTED.items():
        sent = events[name]["properties"]
        assert {k: sent[k] for k in props} == props
        assert "microsoft.custom_event.name" not in sent
    assert events[telemetry.EVENT_PASS_FINISHED]["measurements"]["count_created"] == 2.0
    assert not [e for e in envelopes if e["data"]["baseType"] == "MessageData"], "only events are exported"
