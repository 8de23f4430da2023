"""The injected clocks."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from shared.clock import ManualClock, WallClock


def test_wall_clock_is_timezone_aware_utc() -> None:
    assert WallClock().now().utcoffset() == timedelta(0)


def test_manual_clock_sleep_advances_without_blocking() -> None:
    clock = ManualClock(datetime(2026, 3, 2, 15, 0, tzinfo=UTC))
    clock.sleep(90)
    assert clock.now() == datetime(2026, 3, 2, 15, 1, 30, tzinfo=UTC)
    assert clock.monotonic() == pytest.approx(90.0)


def test_manual_clock_normalises_to_utc() -> None:
    eastern = timezone(timedelta(hours=-5))
    clock = ManualClock(datetime(2026, 3, 2, 10, 0, tzinfo=eastern))
    assert clock.now() == datetime(2026, 3, 2, 15, 0, tzinfo=UTC)
    assert clock.now().tzinfo is UTC


def test_manual_clock_refuses_naive_datetimes_and_going_backwards() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        ManualClock(datetime(2026, 3, 2, 10, 0))
    clock = ManualClock(datetime(2026, 3, 2, 15, 0, tzinfo=UTC))
    with pytest.raises(ValueError, match="backwards"):
        clock.set(datetime(2026, 3, 2, 14, 0, tzinfo=UTC))
    with pytest.raises(ValueError, match="backwards"):
        clock.advance(timedelta(seconds=-1))
