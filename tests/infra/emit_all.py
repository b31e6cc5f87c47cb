"""One call of every telemetry helper; run in-process (caplog) and in the exporter subprocess."""

from __future__ import annotations

from sync_core import telemetry


def emit_all() -> None:
    telemetry.pass_finished("c1", "contacts", "dynamics_to_ac", {"read": 5, "created": 2}, 1.5)
    telemetry.errors_recorded("c1", "contacts", 3)
    telemetry.credentials_rejected("c1", "activecampaign")
    telemetry.connection_synced("c1", 4)
    telemetry.connection_overdue("c1", 24, 50.0)
    telemetry.message_poisoned("c1", "sync-passes-poison")
