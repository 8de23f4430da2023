"""Market hours: sessions, holidays, DST, option-venue closes, next open, sleeping, horizon.

Expected values come from NYSE/Cboe published rules (reference/libraries.md A1, Cboe notices)
and US DST rules, not from this code's output.
"""

from __future__ import annotations

import logging
import math
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from shared import market_hours as mh
from shared.clock import ManualClock

NY = ZoneInfo("America/New_York")


def ny(y: int, m: int, d: int, hh: int = 0, mm: int = 0, ss: int = 0) -> datetime:
    return datetime(y, m, d, hh, mm, ss, tzinfo=NY)


# --- DST -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("day", "utc_offset_hours"),
    [
        (date(2026, 3, 6), -5),  # Friday before DST starts (Sun 2026-03-08): EST
        (date(2026, 3, 9), -4),  # Monday after: EDT
        (date(2026, 10, 30), -4),  # Friday before DST ends (Sun 2026-11-01): EDT
        (date(2026, 11, 2), -5),  # Monday after: EST
    ],
)
def test_session_opens_0930_local_with_the_dst_offset(day: date, utc_offset_hours: int) -> None:
    s = mh.session(day)

    assert s is not None
    assert (s.open.hour, s.open.minute) == (9, 30)
    assert s.open.utcoffset() == timedelta(hours=utc_offset_hours)
    assert s.open.astimezone(UTC).hour == 9 - utc_offset_hours  # 14:30Z in EST, 13:30Z in EDT


def test_is_market_open_accepts_utc_instants_across_dst() -> None:
    # 13:45Z is 09:45 EDT in March after the switch, but 08:45 EST the week before.
    assert mh.is_market_open(datetime(2026, 3, 9, 13, 45, tzinfo=UTC))
    assert not mh.is_market_open(datetime(2026, 3, 6, 13, 45, tzinfo=UTC))


# --- closes and early closes ---------------------------------------------------------------


def test_regular_day_closes_1600_nyse_and_1615_index_options() -> None:
    day = date(2026, 4, 29)

    nyse = mh.session(day)
    index = mh.session(day, "index_options")
    equity = mh.session(day, "equity_options")

    assert nyse is not None and index is not None and equity is not None
    assert nyse.close == ny(2026, 4, 29, 16, 0)
    assert index.close == ny(2026, 4, 29, 16, 15)
    assert equity.close == ny(2026, 4, 29, 16, 0)
    assert not (nyse.early_close or index.early_close or equity.early_close)


def test_day_after_thanksgiving_closes_early_on_every_venue() -> None:
    day = date(2026, 11, 27)

    nyse = mh.session(day)
    index = mh.session(day, "index_options")
    equity = mh.session(day, "equity_options")

    assert nyse is not None and index is not None and equity is not None
    assert nyse.close == ny(2026, 11, 27, 13, 0)
    assert index.close == ny(2026, 11, 27, 13, 15)
    assert index.close.astimezone(UTC) == datetime(2026, 11, 27, 18, 15, tzinfo=UTC)
    assert equity.close == ny(2026, 11, 27, 13, 0)
    assert nyse.early_close and index.early_close and equity.early_close


def test_christmas_eve_index_options_close_1315_like_nyse_early_close() -> None:
    # The library's Cboe calendar lacks this early close; Cboe follows NYSE's early closes.
    index = mh.session(date(2026, 12, 24), "index_options")
    nyse = mh.session(date(2026, 12, 24))

    assert nyse is not None and nyse.close == ny(2026, 12, 24, 13, 0)
    assert index is not None and index.close == ny(2026, 12, 24, 13, 15)
    assert index.early_close


def test_july_2_2026_is_a_full_day_because_july_4_is_a_saturday() -> None:
    s = mh.session(date(2026, 7, 2))

    assert s is not None and s.close == ny(2026, 7, 2, 16, 0) and not s.early_close


def test_index_options_are_not_open_after_the_early_close() -> None:
    assert mh.is_market_open(ny(2026, 11, 27, 13, 14), "index_options")
    assert not mh.is_market_open(ny(2026, 11, 27, 13, 15), "index_options")
    assert not mh.is_market_open(ny(2026, 12, 24, 14, 0), "index_options")


# --- holidays ------------------------------------------------------------------------------

NYSE_2026_HOLIDAYS = {  # reference/libraries.md A1, from NYSE's published calendar
    date(2026, 1, 1),
    date(2026, 1, 19),
    date(2026, 2, 16),
    date(2026, 4, 3),
    date(2026, 5, 25),
    date(2026, 6, 19),
    date(2026, 7, 3),
    date(2026, 9, 7),
    date(2026, 11, 26),
    date(2026, 12, 25),
}


def test_2026_trading_days_are_the_weekdays_minus_the_published_holidays() -> None:
    weekdays = [date(2026, 1, 1) + timedelta(days=i) for i in range(365)]
    expected = [d for d in weekdays if d.weekday() < 5 and d not in NYSE_2026_HOLIDAYS]

    assert mh.trading_days_between(date(2026, 1, 1), date(2026, 12, 31)) == expected


@pytest.mark.parametrize(
    ("day", "name"),
    [
        (date(2026, 11, 26), "Thanksgiving Day"),
        (date(2026, 7, 3), "Independence Day (observed)"),
        (date(2026, 4, 3), "Good Friday"),
        (date(2026, 12, 25), "Christmas"),
        (date(2027, 12, 24), "Christmas (observed)"),
    ],
)
def test_holiday_names(day: date, name: str) -> None:
    assert not mh.is_trading_day(day)
    assert mh.holiday_name(day) == name


def test_carter_day_of_mourning_is_a_named_closure_on_every_venue() -> None:
    day = date(2025, 1, 9)

    name = mh.holiday_name(day)

    assert name is not None and "Carter" in name and "mourning" in name.lower()
    assert all(mh.session(day, venue) is None for venue in mh.VENUES)


@pytest.mark.parametrize("day", [date(2026, 11, 27), date(2026, 11, 28), date(2026, 11, 29)])
def test_holiday_name_is_none_on_trading_days_and_plain_weekends(day: date) -> None:
    assert mh.holiday_name(day) is None


def test_nyse_2027_observes_juneteenth_on_friday_and_no_saturday_new_year() -> None:
    assert mh.holiday_name(date(2027, 6, 18)) == "Juneteenth (observed)"
    assert mh.is_trading_day(date(2027, 12, 31))


# --- is_market_open / next_open / neighbours -----------------------------------------------


def test_open_is_inclusive_and_close_exclusive() -> None:
    assert not mh.is_market_open(ny(2026, 4, 29, 9, 29, 59))
    assert mh.is_market_open(ny(2026, 4, 29, 9, 30))
    assert mh.is_market_open(ny(2026, 4, 29, 15, 59, 59))
    assert not mh.is_market_open(ny(2026, 4, 29, 16, 0))


def test_naive_datetime_is_rejected() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        mh.is_market_open(datetime(2026, 4, 29, 10, 0))


def test_unknown_venue_is_rejected() -> None:
    with pytest.raises(ValueError, match="unknown venue"):
        mh.session(date(2026, 4, 29), "nasdaq")  # type: ignore[arg-type]


def test_next_open_skips_the_good_friday_weekend() -> None:
    opened = mh.next_open(ny(2026, 4, 2, 16, 30))  # Thursday after the close

    assert opened == ny(2026, 4, 6, 9, 30)
    assert opened.tzinfo is not None and opened.utcoffset() == timedelta(hours=-4)


def test_next_open_is_strictly_after() -> None:
    assert mh.next_open(ny(2026, 4, 29, 9, 30)) == ny(2026, 4, 30, 9, 30)
    assert mh.next_open(ny(2026, 4, 29, 9, 29)) == ny(2026, 4, 29, 9, 30)


def test_next_open_from_utc_input_after_thanksgiving() -> None:
    # 2026-11-26 02:00Z is Wednesday 21:00 ET; Thursday is Thanksgiving.
    assert mh.next_open(datetime(2026, 11, 26, 2, 0, tzinfo=UTC)) == ny(2026, 11, 27, 9, 30)


def test_previous_and_next_session_skip_closures() -> None:
    assert mh.previous_session(date(2026, 4, 6)).day == date(2026, 4, 2)
    assert mh.next_session(date(2026, 12, 24)).day == date(2026, 12, 28)
    assert mh.next_session(date(2025, 1, 8)).day == date(2025, 1, 10)


def test_trading_days_between_is_inclusive_and_empty_when_reversed() -> None:
    assert mh.trading_days_between(date(2026, 4, 2), date(2026, 4, 6)) == [
        date(2026, 4, 2),
        date(2026, 4, 6),
    ]
    assert mh.trading_days_between(date(2026, 4, 6), date(2026, 4, 2)) == []


def test_trading_days_between_spans_a_year_end() -> None:
    days = mh.trading_days_between(date(2026, 12, 30), date(2027, 1, 5))

    assert days == [date(2026, 12, 30), date(2026, 12, 31), date(2027, 1, 4), date(2027, 1, 5)]


# --- sleeping ------------------------------------------------------------------------------


def test_sleep_seconds_is_zero_when_open_or_within_lead() -> None:
    assert mh.sleep_seconds_until_open(ny(2026, 4, 29, 11, 0)) == 0.0
    assert mh.sleep_seconds_until_open(ny(2026, 4, 29, 9, 26)) == 0.0


def test_sleep_seconds_counts_to_lead_before_the_next_open() -> None:
    now = ny(2026, 4, 29, 9, 0)

    assert mh.sleep_seconds_until_open(now, timedelta(minutes=5)) == 25 * 60


def test_sleep_until_open_wakes_exactly_lead_before_the_open_after_a_holiday_weekend() -> None:
    clock = ManualClock(ny(2026, 4, 2, 18, 0))  # Thursday evening, Good Friday next
    chunks: list[datetime] = []

    mh.sleep_until_open(
        clock,
        lead=timedelta(minutes=5),
        max_chunk=timedelta(hours=1),
        on_chunk=lambda: chunks.append(clock.now()),
    )

    assert clock.now() == ny(2026, 4, 6, 9, 25)
    total_hours = (ny(2026, 4, 6, 9, 25) - ny(2026, 4, 2, 18, 0)).total_seconds() / 3600
    assert len(chunks) == math.ceil(total_hours)  # bounded chunks, no oversleep


def test_sleep_until_open_returns_at_once_inside_the_lead() -> None:
    clock = ManualClock(ny(2026, 4, 29, 9, 27))

    mh.sleep_until_open(clock, lead=timedelta(minutes=5))

    assert clock.now() == ny(2026, 4, 29, 9, 27)


# --- horizon -------------------------------------------------------------------------------


def test_known_horizon_is_quiet_far_from_the_end(caplog: pytest.LogCaptureFixture) -> None:
    clock = ManualClock(ny(2026, 11, 22, 12, 0))

    with caplog.at_level(logging.WARNING, logger="shared.market_hours"):
        horizon = mh.known_horizon(clock=clock)

    assert horizon == date(2027, 12, 31)  # a normal session per NYSE's 2027 calendar
    assert not [r for r in caplog.records if "market_hours_horizon_near" in r.getMessage()]


def test_known_horizon_warns_when_fewer_than_60_days_remain(
    caplog: pytest.LogCaptureFixture,
) -> None:
    clock = ManualClock(ny(2027, 11, 15, 12, 0))

    with caplog.at_level(logging.WARNING, logger="shared.market_hours"):
        mh.known_horizon(clock=clock)

    messages = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert any(m.startswith("market_hours_horizon_near ") and "days_left=46" in m for m in messages)


def test_years_outside_the_supported_range_are_rejected() -> None:
    with pytest.raises(ValueError, match="outside the supported range"):
        mh.session(date(1, 1, 1))
