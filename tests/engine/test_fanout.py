"""``engine.fanout.fan_out``: items in order, up to ``width`` at once, one key after another, a stop and errors."""

from __future__ import annotations

import asyncio

import pytest

from sync_core.engine.fanout import fan_out


async def _turns(n: int) -> None:
    for _ in range(n):
        await asyncio.sleep(0)


async def test_width_bounds_what_runs_at_once_and_items_start_in_order() -> None:
    running, peak, started = 0, 0, []

    async def work(i: int) -> None:
        nonlocal running, peak
        started.append(i)
        running += 1
        peak = max(peak, running)
        await _turns(3 + i % 4)
        running -= 1

    await fan_out(list(range(20)), work, width=4)
    assert peak == 4 and started == list(range(20))


async def test_items_of_one_key_run_one_after_another_in_their_order() -> None:
    log: list[tuple[str, str, int]] = []

    async def work(item: tuple[str, int]) -> None:
        log.append(("start", *item))
        await _turns(5 if item[1] == 0 else 1)
        log.append(("end", *item))

    items = [("a", 0), ("b", 0), ("a", 1), ("b", 1)]
    await fan_out(items, work, width=4, key=lambda x: x[0])
    for k in ("a", "b"):
        assert log.index(("end", k, 0)) < log.index(("start", k, 1))
    assert log.index(("start", "b", 0)) < log.index(("end", "a", 0))  # other keys overlap


async def test_stop_is_asked_before_each_start_and_what_started_finishes() -> None:
    done: list[int] = []

    async def work(i: int) -> None:
        await _turns(2)
        done.append(i)

    await fan_out(list(range(10)), work, width=1, stop=lambda: len(done) >= 3)
    assert done == [0, 1, 2]


async def test_the_first_error_cancels_the_rest_and_is_raised() -> None:
    finished: list[int] = []

    async def work(i: int) -> None:
        if i == 1:
            raise ValueError("boom")
        await _turns(50)
        finished.append(i)

    with pytest.raises(ValueError, match="boom"):
        await fan_out(list(range(10)), work, width=3)
    assert finished == []
