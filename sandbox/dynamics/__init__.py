"""Dataverse (Dynamics 365) Web API stand-in: ``create_app(...)`` → ASGI app (see README.md)."""

from __future__ import annotations

from .app import create_app
from .dataverse import Dataverse

__all__ = ["Dataverse", "create_app"]
