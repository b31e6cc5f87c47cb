"""What a pass costs in Table Storage round trips: the links of a page are read in batches (issue 23)."""

from __future__ import annotations

from tests.engine.conftest import HarnessFactory

SEEDED = 280
PAGE = 140


async def test_the_initial_sync_reads_the_links_of_a_page_in_batches_not_one_by_one(
        harness: HarnessFactory) -> None:
    h = await harness(seed_contacts=SEEDED, page_size=PAGE)
    await h.until_idle()
    calls = h.store.table_calls
    links = await h.links("contact")
    assert len(links) == SEEDED and all(link.ac_id for link in links)
    # Each record's link is read twice (the page's planning, the id read after its import): one read
    # each would be 2 x 280 = 560 requests; 14 links a query is 2 x ceil(140 / 14) a page = 40.
    assert calls.get("links get", 0) + calls.get("links query", 0) <= 2 * SEEDED // 10
