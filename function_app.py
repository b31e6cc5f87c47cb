"""Azure Functions entry point (Python v2 model): wiring only, no logic (DESIGN.md §2)."""

from __future__ import annotations

import azure.functions as func

from sync_core.api import create_app

# The API does its own auth (Entra ID bearer tokens, DESIGN.md §6), so the platform lets
# every request through to it.
app = func.AsgiFunctionApp(app=create_app(), http_auth_level=func.AuthLevel.ANONYMOUS)
