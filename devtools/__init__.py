"""Local development helpers (Azurite launcher). Not deployed, not imported by sync_core."""
