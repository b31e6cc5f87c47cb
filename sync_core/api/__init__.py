"""The HTTP API (admin configuration, status, sales actions) and its auth."""

from sync_core.api.app import create_app

__all__ = ["create_app"]
