"""The circuit breaker: trip rules, cooldown, half-open probe, daily halt, persistence."""

from __future__ import annotations

import logging
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from shared.circuit_breaker import (
    BreakerSettings,
    BreakerState,
    CircuitBreaker,
    MemoryBreakerStore,
)
from shared.clock import ManualClock
from shared.journal import Journal

BOT = "iron_fly_0dte"
# Monday 2 March 2026, 10:00 New York.
START = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)
SETTINGS = BreakerSettings(
    consecutive_failures=5,
    window=10,
    failures_in_window=5,
    cooldown_seconds=600,
    trips_before_halt=3,
)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(START)


@pytest.fixture
def store() -> MemoryBreakerStore:
    return MemoryBreakerStore()


def _breaker(
    clock: ManualClock, store: MemoryBreakerStore, settings: BreakerSettings = SETTINGS
) -> CircuitBreaker:
    return CircuitBreaker(BOT, settings, clock=clock, store=store)


def _fail(breaker: CircuitBreaker, times: int) -> None:
    for n in range(times):
        breaker.record_failure(f"order rejected #{n}")


def _trip(breaker: CircuitBreaker, clock: ManualClock) -> None:
    """Trip a closed or half-open breaker, then let its cooldown pass."""
    _fail(breaker, 5 if breaker.status().state is BreakerState.CLOSED else 1)
    clock.advance(timedelta(seconds=SETTINGS.cooldown_seconds))


def test_a_new_breaker_allows_entries(clock: ManualClock, store: MemoryBreakerStore) -> None:
    assert _breaker(clock, store).allows_new_entries()


def test_five_consecutive_failures_open_it(clock: ManualClock, store: MemoryBreakerStore) -> None:
    breaker = _breaker(clock, store)
    _fail(breaker, 4)
    assert breaker.allows_new_entries()
    breaker.record_failure("timeout")
    status = breaker.status()
    assert status.state is BreakerState.OPEN and not status.allows_new_entries
    assert status.reopens_at == START + timedelta(seconds=600)


def test_a_success_resets_the_consecutive_count(
    clock: ManualClock, store: MemoryBreakerStore
) -> None:
    only_consecutive = BreakerSettings(consecutive_failures=5, window=10, failures_in_window=10)
    breaker = _breaker(clock, store, only_consecutive)
    _fail(breaker, 4)
    breaker.record_success()
    _fail(breaker, 4)
    status = breaker.status()
    assert (status.consecutive_failures, status.failures_in_window) == (4, 8)
    assert status.allows_new_entries


def test_five_failures_among_the_last_ten_open_it(
    clock: ManualClock, store: MemoryBreakerStore
) -> None:
    breaker = _breaker(clock, store)
    for _ in range(4):  # fail, ok, fail, ok, ... never two failures in a row
        breaker.record_failure("rejected")
        breaker.record_success()
    assert breaker.allows_new_entries()
    breaker.record_failure("rejected")  # 5th failure among the last 9 outcomes
    assert breaker.status().state is BreakerState.OPEN


def test_failures_older_than_the_window_do_not_count(
    clock: ManualClock, store: MemoryBreakerStore
) -> None:
    breaker = _breaker(clock, store)
    _fail(breaker, 4)
    for _ in range(10):
        breaker.record_success()
    _fail(breaker, 4)
    assert breaker.allows_new_entries()


def test_after_the_cooldown_it_is_half_open_and_a_success_closes_it(
    clock: ManualClock, store: MemoryBreakerStore
) -> None:
    breaker = _breaker(clock, store)
    _fail(breaker, 5)
    clock.advance(timedelta(seconds=599))
    assert not breaker.allows_new_entries()
    clock.advance(timedelta(seconds=1))
    assert breaker.allows_new_entries()
    assert breaker.status().state is BreakerState.HALF_OPEN
    breaker.record_success()
    assert breaker.status().state is BreakerState.CLOSED


def test_a_failed_half_open_probe_opens_it_again(
    clock: ManualClock, store: MemoryBreakerStore
) -> None:
    breaker = _breaker(clock, store)
    _trip(breaker, clock)
    assert breaker.status().state is BreakerState.HALF_OPEN
    breaker.record_failure("rejected again")
    status = breaker.status()
    assert status.state is BreakerState.OPEN and status.trips_today == 2


def test_failures_while_open_do_not_extend_the_cooldown(
    clock: ManualClock, store: MemoryBreakerStore
) -> None:
    breaker = _breaker(clock, store)
    _fail(breaker, 5)
    clock.advance(timedelta(seconds=300))
    _fail(breaker, 3)  # e.g. failed protective closes: counted by nothing
    clock.advance(timedelta(seconds=300))
    assert breaker.allows_new_entries()


def test_the_third_trip_of_a_day_halts_until_the_next_new_york_day(
    clock: ManualClock, store: MemoryBreakerStore
) -> None:
    breaker = _breaker(clock, store)
    _trip(breaker, clock)
    _trip(breaker, clock)
    _fail(breaker, 1)  # third trip (half-open probe fails)
    status = breaker.status()
    assert status.state is BreakerState.HALTED
    assert status.halted_until == date(2026, 3, 3)
    clock.set(datetime(2026, 3, 3, 4, 59, tzinfo=UTC))  # 23:59 on 2 March in New York
    assert not breaker.allows_new_entries()
    clock.set(datetime(2026, 3, 3, 5, 0, tzinfo=UTC))  # midnight New York
    assert breaker.allows_new_entries()
    assert breaker.status().trips_today == 0


def test_trips_on_different_days_do_not_add_up(
    clock: ManualClock, store: MemoryBreakerStore
) -> None:
    breaker = _breaker(clock, store)
    _trip(breaker, clock)
    breaker.record_success()
    _trip(breaker, clock)
    breaker.record_success()
    clock.advance(timedelta(days=1))
    _trip(breaker, clock)
    assert breaker.status().state is BreakerState.HALF_OPEN
    assert breaker.status().trips_today == 1


def test_trip_and_halt_are_logged_for_operators(
    clock: ManualClock, store: MemoryBreakerStore, caplog: pytest.LogCaptureFixture
) -> None:
    breaker = _breaker(
        clock,
        store,
        BreakerSettings(consecutive_failures=1, trips_before_halt=2, cooldown_seconds=0),
    )
    with caplog.at_level(logging.INFO, logger="shared.circuit_breaker"):
        breaker.record_failure("rejected: bearer abcdefghijklmnop")
        breaker.allows_new_entries()
        breaker.record_failure("rejected")
    events = {(r.levelno, r.getMessage().split()[0]) for r in caplog.records}
    assert (logging.WARNING, "circuit_breaker_open") in events
    assert (logging.ERROR, "circuit_breaker_halted") in events
    assert "abcdefghijklmnop" not in caplog.text


def test_state_survives_a_restart_through_the_journal(tmp_path: Path, clock: ManualClock) -> None:
    path = tmp_path / "data" / "bot.sqlite"
    with Journal.open(path, clock=clock) as journal:
        breaker = CircuitBreaker(BOT, SETTINGS, clock=clock, store=journal)
        _fail(breaker, 5)
    clock.advance(timedelta(seconds=60))
    with Journal.open(path, clock=clock) as journal:
        restarted = CircuitBreaker(BOT, SETTINGS, clock=clock, store=journal)
        status = restarted.status()
        assert status.state is BreakerState.OPEN
        assert status.reopens_at == START + timedelta(seconds=600)
        assert status.trips_today == 1


def test_a_restart_keeps_the_failure_window(clock: ManualClock, store: MemoryBreakerStore) -> None:
    _fail(_breaker(clock, store), 4)
    restarted = _breaker(clock, store)
    restarted.record_failure("one more")
    assert restarted.status().state is BreakerState.OPEN


def test_unreadable_saved_state_starts_open_not_closed(
    clock: ManualClock, store: MemoryBreakerStore
) -> None:
    store.save_breaker_state(BOT, {"version": 1, "state": "sideways"})
    breaker = _breaker(clock, store)
    assert not breaker.allows_new_entries()
    assert breaker.status().state is BreakerState.OPEN


def test_the_breaker_offers_nothing_a_close_path_could_call() -> None:
    public = {name for name in dir(CircuitBreaker) if not name.startswith("_")}
    assert public == {"allows_new_entries", "record_success", "record_failure", "status"}


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"consecutive_failures": 0}, "consecutive_failures"),
        ({"window": 4, "failures_in_window": 5}, "cannot exceed"),
        ({"cooldown_seconds": -1}, "cooldown_seconds"),
        ({"cooldown_seconds": float("inf")}, "cooldown_seconds"),
        ({"trips_before_halt": 1.5}, "trips_before_halt"),
    ],
)
def test_bad_settings_are_refused_naming_the_field(fields: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        BreakerSettings(**fields)  # type: ignore[arg-type]
