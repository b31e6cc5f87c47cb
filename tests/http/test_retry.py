"""The send loop's waits: Retry-After in both forms, backoff, the guard, and hold_off shared by a budget's holders."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest

from sync_core.clock import FakeClock
from sync_core.http import parse_retry_after
from sync_core.model.budget import SlidingWindowBudget
from tests.http.conftest import Answer, RecordingGuard, ScriptedApp, ac_client, identity, make_client

NOW = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


@pytest.mark.parametrize(("value", "expected"), [
    ("30", 30.0), (" 7 ", 7.0), ("0", 0.0), ("1.5", 1.5),
    (format_datetime(NOW + timedelta(seconds=90), usegmt=True), 90.0),
    ("Mon, 05 Jan 2026 09:02:00 -0000", 120.0),  # a zone-less HTTP-date is GMT
    (format_datetime(NOW - timedelta(seconds=90), usegmt=True), 0.0),  # already past: now
    (None, None), ("", None), ("-5", None), ("nan", None), ("inf", None), ("soon", None),
])
def test_retry_after_reads_delta_seconds_and_http_dates(value: str | None, expected: float | None) -> None:
    assert parse_retry_after(value, NOW) == expected


def _http_date(clock: FakeClock, seconds: float) -> str:
    return format_datetime(clock.now() + timedelta(seconds=seconds), usegmt=True)


@pytest.mark.parametrize("service", ["ac", "dv"])
@pytest.mark.parametrize("form", ["seconds", "http-date"])
async def test_a_429_waits_what_retry_after_says_through_the_guard(clock: FakeClock, service: str,
                                                                   form: str) -> None:
    value = "30" if form == "seconds" else _http_date(clock, 30)
    app = ScriptedApp(clock, script=[Answer(429, {"Retry-After": value})])
    guard = RecordingGuard(clock)
    async with make_client(service, app, clock, guard=guard) as client:
        await identity(client)
        assert client.calls.total == 2
    assert guard.waits == [30.0]
    assert app.seen[1].at - app.seen[0].at == 30.0
    assert clock.slept == 30.0  # no sleep but the guard's


@pytest.mark.parametrize("service", ["ac", "dv"])
async def test_the_guard_is_asked_before_every_attempt_and_waits_every_wait(clock: FakeClock, service: str) -> None:
    app = ScriptedApp(clock, script=[Answer(429, {"Retry-After": _http_date(clock, 20)}), Answer(502),
                                     Answer(503, {"Retry-After": "7"}), Answer(504)])
    guard = RecordingGuard(clock)
    async with make_client(service, app, clock, guard=guard) as client:
        await identity(client)
        assert client.calls.total == 5
    assert [e for e, _ in guard.events] == ["before_call", "wait"] * 4 + ["before_call"]
    assert guard.questions == len(app.seen) == 5
    first, second, third, fourth = guard.waits
    assert (first, third) == (20.0, 7.0)
    if service == "ac":  # capped exponential backoff: 0.5 · 2^attempt
        assert (second, fourth) == (1.0, 4.0)
    else:  # with jitter: 2^attempt · [0.5, 1)
        assert 1.0 <= second < 2.0 and 4.0 <= fourth < 8.0
    assert clock.slept == pytest.approx(sum(guard.waits))


@pytest.mark.parametrize("service", ["ac", "dv"])
@pytest.mark.parametrize("shared", [True, False])
async def test_a_429_pauses_every_holder_of_the_budget(clock: FakeClock, service: str, shared: bool) -> None:
    """While the throttled caller waits, another holder of the same budget sends nothing until the wait is over."""
    throttled_app = ScriptedApp(clock, script=[Answer(429, {"Retry-After": "30"})])
    other_app = ScriptedApp(clock)
    budget = SlidingWindowBudget(100, 1.0, clock=clock)
    other = make_client(service, other_app, clock, budget=budget if shared else SlidingWindowBudget(100, 1.0,
                                                                                                      clock=clock))

    async def other_calls() -> None:
        await identity(other)

    guard = RecordingGuard(clock, during_wait=other_calls, sleeps=False)
    async with make_client(service, throttled_app, clock, budget=budget, guard=guard) as throttled, other:
        t0 = clock.time()
        await identity(throttled)
    (arrival,) = [s.at for s in other_app.seen]
    assert arrival - t0 == (30.0 if shared else 0.0)
    assert other.calls.total == 1  # held by the budget, not refused by the service
    # the throttled caller's own retry also waited for the pause (its guard did not sleep)
    assert throttled_app.seen[1].at - t0 >= 30.0


ROWS = [{"email": "a@example.com"}, {"email": "b@example.com"}]
IMPORTED = Answer(200, body={"success": 1, "queued_contacts": 2, "batchId": "b-1"})


class RecordingBudget(SlidingWindowBudget):
    """An in-process budget that also notes every hold_off it is asked for."""

    def __init__(self, limit: int, window: float, *, clock: FakeClock) -> None:
        super().__init__(limit, window, clock=clock)
        self.holds: list[float] = []

    async def hold_off(self, seconds: float) -> None:
        self.holds.append(seconds)
        await super().hold_off(seconds)


@pytest.mark.parametrize("spends_account", [True, False])
async def test_ac_bulk_import_throttled_pauses_its_window_and_the_account_budget(clock: FakeClock,
                                                                                 spends_account: bool) -> None:
    app = ScriptedApp(clock, script=[Answer(429, {"Retry-After": "12"}), IMPORTED])
    account = RecordingBudget(5, 1.0, clock=clock)
    window = RecordingBudget(100, 60.0, clock=clock)
    async with ac_client(app, clock, budget=account, import_budget=window,
                         bulk_import_spends_request_budget=spends_account) as ac:
        await ac.bulk_import(ROWS)
    assert account.holds == [12.0] and window.holds == [12.0]  # each once, even when the call spent both


async def test_ac_bulk_import_rate_limit_400_pauses_only_its_window(clock: FakeClock) -> None:
    app = ScriptedApp(clock, script=[Answer(400, body={"message": "Rate limit exceeded."}), IMPORTED])
    account = RecordingBudget(5, 1.0, clock=clock)
    window = RecordingBudget(100, 60.0, clock=clock)
    guard = RecordingGuard(clock)
    async with ac_client(app, clock, budget=account, import_budget=window, guard=guard) as ac:
        await ac.bulk_import(ROWS)
    assert window.holds == [60.0] and account.holds == []
    assert guard.waits == [60.0]
