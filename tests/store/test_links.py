"""Links: atomic pairs, 100-operation transactions, both-way and email lookups, pending links."""

from __future__ import annotations

import pytest
from azure.data.tables import TableTransactionError, TransactionOperation

from sync_core.model.state import RecordLink
from sync_core.store import SyncStore, ValueTooLargeError
from sync_core.store.links import forward_key, link_ops

CID = "conn-1"


async def _rows(store: SyncStore) -> list[str]:
    return sorted([e["RowKey"] async for e in store.tables["links"].list_entities()])


async def test_a_failed_transaction_leaves_no_row_of_the_link(store: SyncStore) -> None:
    existing = RecordLink("contact", "d-old", "ac-old", email="old@x.com")
    await store.save_links(CID, [existing])
    before = await _rows(store)

    new = RecordLink("contact", "d-new", "ac-new", email="New@X.com")
    ops = link_ops(CID, new)
    assert len(ops) == 3  # forward row, reverse index, email index
    clash = (TransactionOperation.CREATE, {"PartitionKey": CID, "RowKey": forward_key("contact", "d-old")})
    with pytest.raises(TableTransactionError):
        await store._links.submit([*ops, clash])

    assert await _rows(store) == before
    assert await store.get_link(CID, "contact", "d-new") is None
    assert await store.get_links_by_ac(CID, "contact", "ac-new") == []
    assert await store.find_links_by_email(CID, "new@x.com") == []


async def test_an_oversized_link_fails_the_call_before_anything_is_written(store: SyncStore) -> None:
    fine = RecordLink("contact", "d-1", "ac-1", email="a@x.com")
    huge = RecordLink("contact", "d-2", "ac-2", dynamics_values={"notes": "x" * 1_200_000})
    with pytest.raises(ValueTooLargeError, match="d-2"):
        await store.save_links(CID, [fine, huge])
    assert await _rows(store) == []


async def test_values_over_64_kib_are_split_and_round_trip(store: SyncStore) -> None:
    values = {"description": "é😀" * 40_000, "n": 5}
    link = RecordLink("lead", "d-1", "ac-1", dynamics_values=values, ac_values={"x": "y" * 70_000})
    await store.save_links(CID, [link])
    got = await store.get_link(CID, "lead", "d-1")
    assert got is not None
    assert got.dynamics_values == values
    assert got.ac_values == {"x": "y" * 70_000}


async def test_250_links_go_in_transactions_of_at_most_100_operations(store: SyncStore) -> None:
    links = [RecordLink("contact", f"d-{i}", f"ac-{i}", email=f"p{i}@x.com") for i in range(250)]
    await store.save_links(CID, links)
    # 3 operations per link, whole links per transaction: 33 links (99 ops) each → 8 transactions.
    assert store.link_transactions == 8
    assert await store.count_links(CID, "contact") == 250
    assert len(await _rows(store)) == 750
    got = await store.get_links(CID, "contact", [f"d-{i}" for i in range(0, 250, 7)] + ["missing"])
    assert set(got) == {f"d-{i}" for i in range(0, 250, 7)}
    assert got["d-7"].ac_id == "ac-7"
    assert all(lk.etag and lk.index_keys for lk in links)

    # Updates that move no index row are one operation each: 100 links per transaction.
    for lk in links:
        lk.dynamics_values = {"firstname": "changed"}
    await store.save_links(CID, links)
    assert store.link_transactions == 8 + 3


async def test_links_that_move_both_index_rows_pack_exactly_100_operations(store: SyncStore) -> None:
    links = [RecordLink("lead", f"l-{i}", f"ac-{i}", email=f"old{i}@x.com") for i in range(250)]
    await store.save_links(CID, links)
    used = store.link_transactions
    for lk in links:
        lk.ac_id, lk.email = f"ac2-{lk.dynamics_id}", f"new-{lk.email}"
    await store.save_links(CID, links)
    # forward + 2 new index rows + 2 stale ones = 5 operations: 20 links fill a transaction exactly.
    assert store.link_transactions - used == 13
    assert len(await _rows(store)) == 750
    assert [lk.dynamics_id for lk in await store.find_links_by_email(CID, "NEW-old7@x.com")] == ["l-7"]
    assert await store.find_links_by_email(CID, "old7@x.com") == []


async def test_more_than_100_operations_are_refused_before_sending(store: SyncStore) -> None:
    ops = [op for i in range(34) for op in link_ops(CID, RecordLink("contact", f"d-{i}", f"a-{i}", email=f"{i}@x"))]
    assert len(ops) == 102
    with pytest.raises(ValueError, match="102 operations"):
        await store._links.submit(ops)
    assert await _rows(store) == []


async def test_email_lookup_ignores_case_and_filters_by_entity(store: SyncStore) -> None:
    await store.save_links(CID, [
        RecordLink("contact", "c-1", "ac-1", email="Ann.Lee@Example.COM"),
        RecordLink("lead", "l-1", "ac-1", email="ann.lee@example.com"),
        RecordLink("contact", "c-2", "ac-2", email="ann.leex@example.com"),
    ])
    found = await store.find_links_by_email(CID, " ANN.LEE@example.com")
    assert sorted((lk.entity, lk.dynamics_id) for lk in found) == [("contact", "c-1"), ("lead", "l-1")]
    only_leads = await store.find_links_by_email(CID, "ann.lee@EXAMPLE.com", entity="lead")
    assert [lk.dynamics_id for lk in only_leads] == ["l-1"]


async def test_reverse_lookup_finds_the_contact_and_the_lead_of_one_ac_contact(store: SyncStore) -> None:
    await store.save_links(CID, [
        RecordLink("contact", "c-1", "17"),
        RecordLink("lead", "l-1", "17"),
        RecordLink("contact", "c-2", "170"),
        RecordLink("account", "a-1", "17"),
    ])
    found = await store.get_links_by_ac(CID, "contact", "17")
    assert sorted((lk.entity, lk.dynamics_id) for lk in found) == [("contact", "c-1"), ("lead", "l-1")]
    accounts = await store.get_links_by_ac(CID, "account", "17")
    assert [lk.dynamics_id for lk in accounts] == ["a-1"]


async def test_a_pending_link_completes_and_its_index_rows_follow(store: SyncStore) -> None:
    pending = RecordLink("contact", "c-1", None, email="Pat@x.com", pending_batch="b-9")
    await store.save_links(CID, [pending])
    got = await store.get_link(CID, "contact", "c-1")
    assert got is not None and got.pending and got.pending_batch == "b-9"
    assert [lk.dynamics_id for lk in await store.find_links_by_email(CID, "pat@x.com")] == ["c-1"]
    assert not any(k.startswith("a|") for k in await _rows(store))

    (found,) = await store.find_links_by_email(CID, "PAT@X.COM")
    found.ac_id = "ac-55"
    found.pending_batch = None
    await store.save_links(CID, [found])

    (by_ac,) = await store.get_links_by_ac(CID, "contact", "ac-55")
    assert by_ac.dynamics_id == "c-1" and not by_ac.pending and by_ac.pending_batch is None
    assert [lk.ac_id for lk in await store.find_links_by_email(CID, "pat@x.com")] == ["ac-55"]
    assert sorted(k.split("|")[0] for k in await _rows(store)) == ["a", "e", "f"]


async def test_changing_ac_id_and_email_removes_the_stale_index_rows(store: SyncStore) -> None:
    link = RecordLink("contact", "c-1", "ac-1", email="old@x.com")
    await store.save_links(CID, [link])
    link.ac_id, link.email = "ac-2", "new@x.com"
    await store.save_links(CID, [link])
    assert await store.get_links_by_ac(CID, "contact", "ac-1") == []
    assert await store.find_links_by_email(CID, "old@x.com") == []
    assert [lk.dynamics_id for lk in await store.get_links_by_ac(CID, "contact", "ac-2")] == ["c-1"]
    assert len(await _rows(store)) == 3


async def test_a_fresh_object_for_a_stored_link_replaces_it_without_stale_rows(store: SyncStore) -> None:
    await store.save_links(CID, [RecordLink("contact", "c-1", "ac-1", email="old@x.com")])
    # The engine built a new object (no etag, no index keys) for a record that is already linked.
    await store.save_links(CID, [RecordLink("contact", "c-1", "ac-2", email="new@x.com"),
                                 RecordLink("contact", "c-2", "ac-3")])
    assert await store.find_links_by_email(CID, "old@x.com") == []
    assert await store.get_links_by_ac(CID, "contact", "ac-1") == []
    got = await store.get_link(CID, "contact", "c-1")
    assert got is not None and got.ac_id == "ac-2"
    assert await store.get_link(CID, "contact", "c-2") is not None
    assert len(await _rows(store)) == 5


async def test_awkward_ids_and_emails_round_trip(store: SyncStore) -> None:
    odd = "a/b\\c#d?e'f|g%h\x01 i"
    email = "o'Brien+tag/x#y?@Example.com"
    await store.save_links(CID, [RecordLink("opportunity", odd, odd, email=email)])
    got = await store.get_link(CID, "opportunity", odd)
    assert got is not None and got.dynamics_id == odd and got.ac_id == odd
    assert [lk.dynamics_id for lk in await store.get_links_by_ac(CID, "customObjectRecord", odd)] == [odd]
    assert [lk.dynamics_id for lk in await store.find_links_by_email(CID, email.upper())] == [odd]


async def test_iterate_count_and_delete(store: SyncStore) -> None:
    await store.save_links(CID, [RecordLink("contact", f"c-{i}", f"ac-{i}", email=f"{i}@x.com") for i in range(5)]
                           + [RecordLink("lead", "l-1", "ac-1")])
    await store.save_links("conn-2", [RecordLink("contact", "c-0", "other")])
    assert sorted([lk.dynamics_id async for lk in store.iter_links(CID, "contact")]) == [f"c-{i}" for i in range(5)]
    assert len([lk async for lk in store.iter_links(CID)]) == 6
    assert await store.count_links(CID, "lead") == 1

    await store.delete_link(CID, RecordLink("contact", "c-1", None))
    assert await store.get_link(CID, "contact", "c-1") is None
    assert await store.find_links_by_email(CID, "1@x.com") == []
    assert await store.get_links_by_ac(CID, "contact", "ac-1") != []  # the lead's link stays
    assert await store.count_links(CID, "contact") == 4
    assert (await store.get_link("conn-2", "contact", "c-0")) is not None


async def test_a_save_from_an_outdated_copy_still_leaves_consistent_index_rows(store: SyncStore) -> None:
    await store.save_links(CID, [RecordLink("contact", "c-1", "ac-1", email="one@x.com")])
    a = await store.get_link(CID, "contact", "c-1")
    b = await store.get_link(CID, "contact", "c-1")
    assert a is not None and b is not None
    a.email = "two@x.com"
    await store.save_links(CID, [a])
    b.email = "three@x.com"  # b still believes the "one@" index row exists; deleting it would fail
    await store.save_links(CID, [b])
    assert [lk.email for lk in await store.find_links_by_email(CID, "three@x.com")] == ["three@x.com"]
    assert await store.find_links_by_email(CID, "two@x.com") == []
    assert await store.find_links_by_email(CID, "one@x.com") == []
    assert len(await _rows(store)) == 3


def _link_reads(store: SyncStore) -> dict[str, int]:
    calls = store.table_calls
    return {k: calls.get(k, 0) for k in ("links get", "links query")}


async def test_a_page_of_links_is_read_in_queries_of_14_keys_not_a_read_each(store: SyncStore) -> None:
    await store.save_links(CID, [RecordLink("contact", f"d-{i:03}", f"ac-{i}", email=f"p{i}@x.com",
                                            dynamics_values={"n": i}) for i in range(200)])
    await store.save_links(CID, [RecordLink("lead", f"d-{i:03}", f"lead-{i}") for i in range(20)])
    await store.save_links("conn-2", [RecordLink("contact", f"d-{i:03}", "other") for i in range(20)])
    before = _link_reads(store)

    wanted = [f"d-{i:03}" for i in range(219, -1, -1)]  # 200 stored, 20 never linked
    got = await store.get_links(CID, "contact", wanted)

    after = _link_reads(store)
    # 220 keys at most 14 a query (Table Storage allows 15 comparisons a filter, one is the partition).
    assert after["links query"] - before["links query"] == 16
    assert after["links get"] == before["links get"]
    assert sorted(got) == [f"d-{i:03}" for i in range(200)]
    assert all(lk.entity == "contact" and lk.ac_id == f"ac-{lk.dynamics_values['n']}" for lk in got.values())


async def test_links_read_in_a_batch_save_back_without_stale_rows(store: SyncStore) -> None:
    await store.save_links(CID, [RecordLink("contact", f"c-{i}", f"ac-{i}", email=f"{i}@x.com") for i in range(30)])
    got = await store.get_links(CID, "contact", [f"c-{i}" for i in range(30)])
    for link in got.values():
        assert link.etag is not None and link.index_keys
        link.email = f"new-{link.dynamics_id}@x.com"
    await store.save_links(CID, list(got.values()))
    assert await store.find_links_by_email(CID, "3@x.com") == []
    assert [lk.dynamics_id for lk in await store.find_links_by_email(CID, "new-c-3@x.com")] == ["c-3"]
    assert len(await _rows(store)) == 90


async def test_links_found_by_email_come_in_index_order(store: SyncStore) -> None:
    await store.save_links(CID, [RecordLink("contact", f"c-{i}", None, email="same@x.com") for i in (3, 1, 2)]
                           + [RecordLink("lead", "l-0", None, email="same@x.com")])
    found = await store.find_links_by_email(CID, "same@x.com")
    assert [(lk.entity, lk.dynamics_id) for lk in found] == [("contact", "c-1"), ("contact", "c-2"),
                                                            ("contact", "c-3"), ("lead", "l-0")]


async def test_a_link_inserted_on_request_is_named_until_a_pass_forgets_it(store: SyncStore) -> None:
    await store.save_links(CID, [RecordLink("contact", "d-pass", "ac-1", email="p@x.com")])  # a pass's: no row
    assert await store.insert_link(CID, RecordLink("lead", "d-req", "ac-2", email="Req@x.com")) is True
    assert await store.insert_link(CID, RecordLink("lead", "d-req", "ac-3", email="req@x.com")) is False
    listed = await store.list_requested_links(CID)
    assert [(r.entity, r.dynamics_id, r.email, r.ac_id) for r in listed] == [("lead", "d-req", "Req@x.com", "ac-2")]
    assert await store.insert_link(CID, RecordLink("contact", "d-later", "ac-4", email="l@x.com")) is True
    await store.forget_requested_links(CID, listed)
    assert [r.dynamics_id for r in await store.list_requested_links(CID)] == ["d-later"]
    # A row written again after it was listed (the record unlinked and synced on request again) is kept.
    again = await store.list_requested_links(CID)
    link = await store.get_link(CID, "contact", "d-later")
    assert link is not None
    await store.delete_link(CID, link)
    assert await store.insert_link(CID, RecordLink("contact", "d-later", "ac-5", email="l@x.com")) is True
    await store.forget_requested_links(CID, again)
    assert [r.ac_id for r in await store.list_requested_links(CID)] == ["ac-5"]
    assert (await store.count_links(CID, "lead"), await store.count_links(CID, "contact")) == (1, 2)  # not links
