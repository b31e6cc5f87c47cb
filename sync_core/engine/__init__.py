"""Sync passes: initial sync, backfills, deltas, reconcile (DESIGN.md §3, §5)."""

from sync_core.engine.clients import BoundClients, ClientFactory, ConnectionClients, ConnectionOpener
from sync_core.engine.runner import PassResult, SyncEngine

__all__ = ["BoundClients", "ClientFactory", "ConnectionClients", "ConnectionOpener", "PassResult", "SyncEngine"]
