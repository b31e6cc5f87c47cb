"""Custom events for Application Insights: the names the alert rules in infra/modules/alerts.bicep query.

Each helper writes one log record on the ``sync_core.telemetry`` logger carrying the attribute
``microsoft.custom_event.name``; once :func:`configure_telemetry` has attached the Azure Monitor
OpenTelemetry distro, the exporter turns such a record into a custom event (``customEvents`` in
Application Insights, ``AppEvents`` in the workspace) named by that attribute, with every other
attribute as a string property (``customDimensions``) and ``microsoft.custom_measurements`` as
numeric measurements. Until then the logger is below INFO and every helper returns at the first
check, so tests and local runs pay nothing and need no Azure package.

Properties carry ids, entity names and counts only: never record data, keys, tokens or URLs.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from typing import Literal

TELEMETRY_LOGGER = "sync_core.telemetry"

# Event names (alerts.bicep filters on these; tests/infra/test_alert_names.py compares both sides).
EVENT_PASS_FINISHED = "SyncPassFinished"  # noqa: S105 (an event name, not a password)
EVENT_ERRORS_RECORDED = "SyncErrorsRecorded"
EVENT_CREDENTIALS_REJECTED = "SyncCredentialsRejected"
EVENT_CONNECTION_SYNCED = "SyncConnectionSynced"
EVENT_CONNECTION_OVERDUE = "SyncConnectionOverdue"
EVENT_MESSAGE_POISONED = "SyncMessagePoisoned"
EVENT_NAMES = frozenset({
    EVENT_PASS_FINISHED, EVENT_ERRORS_RECORDED, EVENT_CREDENTIALS_REJECTED,
    EVENT_CONNECTION_SYNCED, EVENT_CONNECTION_OVERDUE, EVENT_MESSAGE_POISONED,
})

# Property names (customDimensions.<name> in the alert queries).
PROP_CONNECTION_ID = "connection_id"
PROP_ENTITY = "entity"
PROP_DIRECTION = "direction"
PROP_DURATION_S = "duration_s"
PROP_ERROR_COUNT = "error_count"
PROP_SIDE = "side"
PROP_FREQUENCY_HOURS = "frequency_hours"
PROP_HOURS_SINCE_SYNC = "hours_since_sync"
PROP_QUEUE = "queue"
COUNT_PREFIX = "count_"
"""Pass counts become ``count_<name>`` properties (``created`` and friends are LogRecord attributes)."""
PROPERTY_NAMES = frozenset({
    PROP_CONNECTION_ID, PROP_ENTITY, PROP_DIRECTION, PROP_DURATION_S, PROP_ERROR_COUNT, PROP_SIDE,
    PROP_FREQUENCY_HOURS, PROP_HOURS_SINCE_SYNC, PROP_QUEUE,
})

Side = Literal["activecampaign", "dynamics"]
SIDES: frozenset[str] = frozenset({"activecampaign", "dynamics"})

# Attribute names the Azure Monitor exporter interprets (azure-monitor-opentelemetry-exporter _constants).
_CUSTOM_EVENT_NAME = "microsoft.custom_event.name"
_CUSTOM_MEASUREMENTS = "microsoft.custom_measurements"

# Only our events are exported: the host already reports requests and logs, and request
# instrumentation would record webhook URLs, whose query string carries a secret.
_DISABLED_INSTRUMENTATIONS = ("azure_sdk", "django", "fastapi", "flask", "httpx", "httpx2", "psycopg2",
                              "requests", "urllib", "urllib3")

_log = logging.getLogger(TELEMETRY_LOGGER)
_configured = False


def configure_telemetry(env: Mapping[str, str] | None = None) -> bool:
    """Attach Azure Monitor when ``APPLICATIONINSIGHTS_CONNECTION_STRING`` is set; a no-op otherwise.

    In Azure the exporter authenticates with the app's user-assigned identity (``AZURE_CLIENT_ID``),
    because the Application Insights resource has local (key) auth off. Idempotent; returns whether
    events are exported.
    """
    global _configured
    if _configured:
        return True
    e = os.environ if env is None else env
    connection_string = (e.get("APPLICATIONINSIGHTS_CONNECTION_STRING") or "").strip()
    if not connection_string:
        return False
    in_azure = bool(e.get("WEBSITE_INSTANCE_ID") or e.get("WEBSITE_SITE_NAME"))
    # Imported here: the distro is heavy and only needed when exporting.
    from azure.monitor.opentelemetry import configure_azure_monitor

    credential = None
    if in_azure:
        from azure.identity import ManagedIdentityCredential

        credential = ManagedIdentityCredential(client_id=e.get("AZURE_CLIENT_ID") or None)
    configure_azure_monitor(
        connection_string=connection_string,
        credential=credential,
        logger_name=TELEMETRY_LOGGER,
        enable_live_metrics=False,
        enable_performance_counters=False,
        instrumentation_options={name: {"enabled": False} for name in _DISABLED_INSTRUMENTATIONS},
    )
    _log.setLevel(logging.INFO)
    _configured = True
    return True


def _emit(event: str, properties: Mapping[str, str | int | float], measurements: Mapping[str, float]) -> None:
    extra: dict[str, object] = {_CUSTOM_EVENT_NAME: event, **properties}
    if measurements:
        extra[_CUSTOM_MEASUREMENTS] = dict(measurements)
    _log.info(event, extra=extra)


def pass_finished(connection_id: str, entity: str, direction: str, counts: Mapping[str, int],
                  duration_s: float) -> None:
    """One engine pass over one entity and direction finished (read/created/updated/... counts)."""
    if not _log.isEnabledFor(logging.INFO):
        return
    props: dict[str, str | int | float] = {
        PROP_CONNECTION_ID: connection_id, PROP_ENTITY: entity, PROP_DIRECTION: direction,
        PROP_DURATION_S: round(duration_s, 3),
    }
    props.update({f"{COUNT_PREFIX}{k}": int(v) for k, v in counts.items()})
    measures = {f"{COUNT_PREFIX}{k}": float(v) for k, v in counts.items()}
    measures[PROP_DURATION_S] = float(duration_s)
    _emit(EVENT_PASS_FINISHED, props, measures)


def errors_recorded(connection_id: str, entity: str, n: int) -> None:
    """``n`` records of ``entity`` failed in a pass and went to the errors table (0 emits nothing)."""
    if n <= 0 or not _log.isEnabledFor(logging.INFO):
        return
    _emit(EVENT_ERRORS_RECORDED, {PROP_CONNECTION_ID: connection_id, PROP_ENTITY: entity, PROP_ERROR_COUNT: n},
          {PROP_ERROR_COUNT: float(n)})


def credentials_rejected(connection_id: str, side: Side) -> None:
    """ActiveCampaign refused the stored API key, or Entra ID / Dataverse refused the product's identity."""
    if side not in SIDES:
        raise ValueError(f"side must be one of {sorted(SIDES)}")
    if not _log.isEnabledFor(logging.INFO):
        return
    _emit(EVENT_CREDENTIALS_REJECTED, {PROP_CONNECTION_ID: connection_id, PROP_SIDE: side}, {})


def connection_synced(connection_id: str, frequency_hours: float) -> None:
    """A connection finished a full sync (every enabled entity); the staleness alert's heartbeat."""
    if not _log.isEnabledFor(logging.INFO):
        return
    _emit(EVENT_CONNECTION_SYNCED, {PROP_CONNECTION_ID: connection_id, PROP_FREQUENCY_HOURS: frequency_hours}, {})


def connection_overdue(connection_id: str, frequency_hours: float, hours_since_sync: float) -> None:
    """The scheduler found a connection whose last finished sync is older than twice its frequency."""
    if not _log.isEnabledFor(logging.INFO):
        return
    _emit(EVENT_CONNECTION_OVERDUE,
          {PROP_CONNECTION_ID: connection_id, PROP_FREQUENCY_HOURS: frequency_hours,
           PROP_HOURS_SINCE_SYNC: round(hours_since_sync, 2)},
          {PROP_HOURS_SINCE_SYNC: float(hours_since_sync)})


def message_poisoned(connection_id: str, queue: str) -> None:
    """A pass request reached the poison queue (emitted by the poison-queue handler)."""
    if not _log.isEnabledFor(logging.INFO):
        return
    _emit(EVENT_MESSAGE_POISONED, {PROP_CONNECTION_ID: connection_id, PROP_QUEUE: queue}, {})
