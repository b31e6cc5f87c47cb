"""The hand-written $batch agrees with the SDK's: same rows, same ETags, same failures, all or nothing."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest
from azure.data.tables import EdmType, EntityProperty, TableTransactionError, TransactionOperation, UpdateMode
from azure.data.tables.aio import TableClient, TableServiceClient

from sync_core.store._batch import submit_transaction

ODD = "a/b\\c#d?e'f|g%h é😀"


@pytest.fixture
async def table(storage_connection_string: str, table_prefix: str) -> AsyncIterator[TableClient]:
    async with TableServiceClient.from_connection_string(storage_connection_string) as service:
        yield await service.create_table(table_prefix + "batch")


def _row(rk: str, **props: object) -> dict[str, object]:
    return {"PartitionKey": "p 1'", "RowKey": rk, **props}


async def test_values_and_etags_match_what_is_stored(table: TableClient) -> None:
    when = datetime(2026, 1, 5, 9, 0, 0, 123456, tzinfo=UTC)
    odd_key = "%41'|é😀 x"  # a RowKey may hold these (not / \\ # ?)
    ops = [
        (TransactionOperation.CREATE, _row(odd_key, s=ODD, n=EntityProperty(2**40, EdmType.INT64),
                                           i=7, f=1.0, b=True, d=when)),
        (TransactionOperation.UPSERT, _row("u", s="x" * 30_000), {"mode": UpdateMode.REPLACE}),
    ]
    results = await submit_transaction(table, ops)
    stored = {e["RowKey"]: e async for e in table.list_entities()}
    assert [r["etag"] for r in results] == [stored[k].metadata["etag"] for k in (odd_key, "u")]
    first = stored[odd_key]
    assert first["s"] == ODD and first["i"] == 7 and first["f"] == 1.0 and first["b"] is True
    assert first["d"] == when
    n = first["n"]
    assert (n.value if isinstance(n, EntityProperty) else n) == 2**40
    assert stored["u"]["s"] == "x" * 30_000

    # Upsert replaces (drops properties), delete removes; rows are addressed by the odd keys.
    await submit_transaction(table, [
        (TransactionOperation.UPSERT, _row(odd_key, s="new"), {"mode": UpdateMode.REPLACE}),
        (TransactionOperation.DELETE, _row("u")),
    ])
    after = [dict(e) async for e in table.list_entities()]
    assert len(after) == 1 and after[0]["s"] == "new" and "n" not in after[0]


@pytest.mark.parametrize("clash", ["create-existing", "delete-missing"])
async def test_a_failing_operation_rolls_back_the_whole_transaction(table: TableClient, clash: str) -> None:
    await table.create_entity(_row("existing"))
    bad = (TransactionOperation.CREATE, _row("existing")) if clash == "create-existing" else \
        (TransactionOperation.DELETE, _row("missing"))
    ops = [(TransactionOperation.UPSERT, _row(f"r{i}"), {"mode": UpdateMode.REPLACE}) for i in range(5)] + [bad]

    with pytest.raises(TableTransactionError) as ours:
        await submit_transaction(table, ops)
    with pytest.raises(TableTransactionError) as sdks:
        await table.submit_transaction(ops)
    assert getattr(ours.value, "error_code", None) == getattr(sdks.value, "error_code", None)
    assert ours.value.error_code in ("EntityAlreadyExists", "ResourceNotFound")  # type: ignore[attr-defined]
    assert [e["RowKey"] async for e in table.list_entities()] == ["existing"]


async def test_one_hundred_operations_fit(table: TableClient) -> None:
    ops = [(TransactionOperation.CREATE, _row(f"r{i:03d}", v=i)) for i in range(100)]
    assert len(await submit_transaction(table, ops)) == 100
    assert len([e async for e in table.list_entities()]) == 100
