"""The harness really talks to Azurite: tables are created and isolated per test."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest
from azure.data.tables import TableServiceClient

from devtools import azurite
from devtools.ports import free_port


def test_each_test_gets_fresh_tables(storage_connection_string: str, table_prefix: str) -> None:
    service = TableServiceClient.from_connection_string(storage_connection_string)
    table = service.create_table(f"{table_prefix}probe")
    table.create_entity({"PartitionKey": "p", "RowKey": "r", "v": 1})
    assert [e["v"] for e in table.list_entities()] == [1]
    names = {t.name for t in service.list_tables()}
    assert f"{table_prefix}probe" in names


def _listening_socket() -> socket.socket:
    s = socket.socket()
    s.bind(("127.0.0.1", free_port()))
    s.listen()
    return s


def test_a_port_taken_between_pick_and_start_is_retried_on_fresh_ports(monkeypatch: pytest.MonkeyPatch) -> None:
    # The flaky start seen under load: another server binds a picked port before Azurite does.
    with _listening_socket() as taken:
        busy = int(taken.getsockname()[1])
        picks = iter([busy, free_port(), free_port()])
        monkeypatch.setattr(azurite, "free_port", lambda: next(picks, None) or free_port())
        with azurite.running_azurite() as az:
            assert busy not in (az.table_port, az.queue_port, az.blob_port)
            TableServiceClient.from_connection_string(az.connection_string).create_table("probe")


def test_ports_given_and_taken_fail_with_the_ports_named() -> None:
    with _listening_socket() as taken:
        busy = int(taken.getsockname()[1])
        ports = azurite.Azurite(busy, free_port(), free_port())
        with pytest.raises(azurite.AzuriteExited, match=str(busy)), azurite.running_azurite(ports=ports, timeout=30):
            pass


def test_free_ports_are_outside_the_ephemeral_range() -> None:
    low = int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    assert all(free_port() < low for _ in range(50))
