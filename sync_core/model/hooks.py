"""The webhook URL's token: an HMAC of the connection id and the key version, under a key in the secret store.

Each connection's secret ``hook-key-<connection id>`` holds ``<version>:<key>``. A token is checked by
computing it again, so a wrong one is refused before anything is read from storage; rotating (a new
version and key) retires every URL made before. The token is a URL capability: never logged, never sent anywhere but AC.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

TOKEN_LENGTH = 43


def key_name(connection_id: str) -> str:
    return f"hook-key-{connection_id}"


def new_key(version: int) -> str:
    """The secret's value for a new key ``version``."""
    return f"{version}:{secrets.token_urlsafe(32)}"


def parse_key(value: str | None) -> tuple[int, str] | None:
    if not value:
        return None
    version, _, key = value.partition(":")
    return (int(version), key) if version.isdigit() and key else None


def token(key: tuple[int, str], connection_id: str) -> str:
    version, secret = key
    mac = hmac.new(secret.encode(), f"{connection_id}\n{version}".encode(), hashlib.sha256).hexdigest()
    return mac[:TOKEN_LENGTH]


def token_matches(key: tuple[int, str] | None, connection_id: str, presented: str) -> bool:
    return key is not None and hmac.compare_digest(token(key, connection_id), presented)
