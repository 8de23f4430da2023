"""SimClock: accelerated simulated time that skips closed hours."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from shared.clock import ManualClock
from shared.saxo_sim.sim_clock import SimClock
from tests.sim.market.factory import ny


def _clock(start: datetime, speed: float = 1.0) -> tuple[SimClock, ManualClock]:
    real = ManualClock(datetime(2030, 1, 1, tzinfo=UTC))
    return SimClock(start, speed, real=real), real


def test_runs_at_speed() -> None:
    clock, real = _clock(ny(2026, 3, 2, 10, 0), speed=60)
    real.advance(timedelta(seconds=10))
    assert clock.now() == ny(2026, 3, 2, 10, 10)
    assert clock.monotonic() == pytest.approx(600.0)


def test_now_is_utc() -> None:
    clock, _ = _clock(ny(2026, 3, 2, 10, 0))
    assert clock.now().utcoffset() == timedelta(0)


def test_skips_from_friday_close_to_monday_pre_open() -> None:
    clock, real = _clock(ny(2026, 3, 6, 16, 14, 59))
    real.advance(timedelta(seconds=2))
    assert clock.now() == ny(2026, 3, 9, 9, 25, 1)
    assert clock.jumps == 1


def test_at_the_close_itself_no_skip_yet() -> None:
    clock, real = _clock(ny(2026, 3, 2, 16, 14, 59))
    real.advance(timedelta(seconds=1))
    assert clock.now() == ny(2026, 3, 2, 16, 15)
    assert clock.jumps == 0


def test_skips_over_a_holiday() -> None:
    # Good Friday 2026 is April 3 (Easter Sunday April 5): NYSE and Cboe are closed.
    clock, real = _clock(ny(2026, 4, 2, 16, 14))
    real.advance(timedelta(minutes=2))
    assert clock.now() == ny(2026, 4, 6, 9, 26)


def test_respects_early_close() -> None:
    # The day after Thanksgiving 2026 (Nov 27) closes early: index options at 13:15 ET.
    clock, real = _clock(ny(2026, 11, 27, 13, 14))
    real.advance(timedelta(minutes=2))
    assert clock.now() == ny(2026, 11, 30, 9, 26)


def test_fast_clock_can_cross_several_sessions_in_one_step() -> None:
    # One active window is 6h50m; 20h of simulated time crosses two closes.
    clock, real = _clock(ny(2026, 3, 2, 9, 25), speed=3600)
    real.advance(timedelta(seconds=20))
    assert clock.jumps == 2
    window = timedelta(hours=6, minutes=50)
    assert clock.now() == ny(2026, 3, 4, 9, 25) + (timedelta(hours=20) - 2 * window)


def test_start_outside_hours_moves_to_next_pre_open_without_a_jump() -> None:
    clock, _ = _clock(ny(2026, 3, 7, 12, 0))  # a Saturday
    assert clock.now() == ny(2026, 3, 9, 9, 25)
    assert clock.jumps == 0


def test_start_before_pre_open_on_a_trading_day_waits_for_that_day() -> None:
    clock, _ = _clock(ny(2026, 3, 2, 6, 0))
    assert clock.now() == ny(2026, 3, 2, 9, 25)


def test_without_skipping_time_flows_through_the_night() -> None:
    real = ManualClock(datetime(2030, 1, 1, tzinfo=UTC))
    clock = SimClock(ny(2026, 3, 2, 16, 14), real=real, skip_closed=False)
    real.advance(timedelta(hours=1))
    assert clock.now() == ny(2026, 3, 2, 17, 14)


def test_set_jumps_backward_and_counts_but_monotonic_never_decreases() -> None:
    clock, real = _clock(ny(2026, 3, 3, 11, 0))
    real.advance(timedelta(seconds=30))
    before = clock.monotonic()
    clock.set(ny(2026, 3, 2, 10, 0))
    assert clock.now() == ny(2026, 3, 2, 10, 0)
    assert clock.jumps == 1
    assert clock.monotonic() >= before


def test_set_into_closed_hours_lands_on_next_pre_open() -> None:
    clock, _ = _clock(ny(2026, 3, 2, 10, 0))
    clock.set(ny(2026, 3, 2, 20, 0))
    assert clock.now() == ny(2026, 3, 3, 9, 25)


def test_set_speed_keeps_time_continuous() -> None:
    clock, real = _clock(ny(2026, 3, 2, 10, 0))
    real.advance(timedelta(seconds=60))
    clock.set_speed(10)
    real.advance(timedelta(seconds=6))
    assert clock.now() == ny(2026, 3, 2, 10, 2)
    assert clock.speed == 10


def test_sleep_is_real_sleep_divided_by_speed() -> None:
    clock, real = _clock(ny(2026, 3, 2, 10, 0), speed=100)
    clock.sleep(50)
    assert real.monotonic() == pytest.approx(0.5)
    assert clock.now() == ny(2026, 3, 2, 10, 0, 50)


@pytest.mark.parametrize("speed", [0, -1, float("nan"), float("inf")])
def test_rejects_bad_speed(speed: float) -> None:
    with pytest.raises(ValueError, match="speed"):
        _clock(ny(2026, 3, 2, 10, 0), speed=speed)


def test_rejects_naive_start() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        SimClock(datetime(2026, 3, 2, 10, 0))


def test_describe_reports_market_state() -> None:
    clock, real = _clock(ny(2026, 3, 2, 9, 25))
    assert clock.describe() == {
        "now": "2026-03-02T14:25:00Z",
        "speed": 1.0,
        "jumps": 0,
        "market_open": False,
    }
    real.advance(timedelta(minutes=5))
    assert clock.describe()["market_open"] is True
