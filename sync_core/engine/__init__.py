"""Sync passes: initial sync, backfills, deltas, reconcile (DESIGN.md §3, §5)."""

from sync_core.engine.clients import ClientFactory, ConnectionClients, DefaultClientFactory
from sync_core.engine.runner import PassResult, SyncEngine

__all__ = ["ClientFactory", "ConnectionClients", "DefaultClientFactory", "PassResult", "SyncEngine"]
