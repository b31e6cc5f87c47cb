"""The harness really talks to Azurite: tables are created and isolated per test."""

from __future__ import annotations

from azure.data.tables import TableServiceClient


def test_each_test_gets_fresh_tables(storage_connection_string: str, table_prefix: str) -> None:
    service = TableServiceClient.from_connection_string(storage_connection_string)
    table = service.create_table(f"{table_prefix}probe")
    table.create_entity({"PartitionKey": "p", "RowKey": "r", "v": 1})
    assert [e["v"] for e in table.list_entities()] == [1]
    names = {t.name for t in service.list_tables()}
    assert f"{table_prefix}probe" in names
