"""Historical event dates for backtests and the `--missing-events` choice."""

from __future__ import annotations

from datetime import date

from shared.backtest.events import BacktestCalendar
from shared.event_calendar import EventCalendar


def test_the_packaged_history_covers_2014_to_2018_with_sourced_dates() -> None:
    calendar = EventCalendar(strict=True)
    for kind in ("fomc", "fomc_decision", "cpi", "ppi", "nfp"):
        assert all(calendar.covers(date(year, 6, 1), kind) for year in range(2014, 2019))
    assert calendar.has_event(date(2015, 9, 17), "fomc_decision")  # the Wed-Thu meeting
    assert calendar.has_event(date(2016, 1, 8), "nfp")  # a second-Friday report
    assert not calendar.has_event(date(2015, 1, 6), "cpi")


def test_skip_days_assumes_events_where_a_year_has_no_data_and_ignore_does_not() -> None:
    day = date(2012, 3, 6)  # 2012 has no packaged data
    assert BacktestCalendar("skip-days").has_event(day, "cpi")
    assert not BacktestCalendar("ignore").has_event(day, "cpi")
    assert BacktestCalendar("ignore").has_event(date(2015, 9, 17), "fomc_decision")


def test_uncovered_names_the_kinds_and_years_without_data() -> None:
    uncovered = BacktestCalendar("ignore").uncovered(date(2013, 1, 1), date(2015, 12, 31))
    assert uncovered == {kind: [2013] for kind in ("cpi", "fomc", "fomc_decision", "nfp", "ppi")}
