"""Event calendar: packaged data against reference/events.md, queries, out-of-coverage policy.

Counts and dates below come from reference/events.md (Fed and BLS schedules), not from the code.
"""

from __future__ import annotations

import json
import logging
import re
import shutil
from datetime import date
from pathlib import Path

import pytest

from shared import event_calendar as ec
from shared import market_hours
from shared.event_calendar import (
    CalendarCoverageError,
    CalendarDataError,
    EventCalendar,
    is_economic_release_day,
)

DATA_DIR = Path(ec.__file__).parent / "data"


@pytest.fixture
def cal() -> EventCalendar:
    return EventCalendar()


def uncovered_warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [
        r.getMessage()
        for r in caplog.records
        if r.levelno == logging.WARNING and r.getMessage().startswith("event_calendar_uncovered ")
    ]


def days_of(cal: EventCalendar, kind: ec.EventKind, year: int) -> list[date]:
    return [
        e.day
        for e in cal.events_within(date(year, 1, 1), 364 + (year % 4 == 0), [kind])
        if not e.assumed
    ]


# --- data against the reference --------------------------------------------------------------


def test_decision_day_is_both_fomc_and_fomc_decision(cal: EventCalendar) -> None:
    kinds = {e.kind for e in cal.events_on(date(2026, 4, 29))}

    assert {"fomc", "fomc_decision"} <= kinds
    assert cal.has_event(date(2026, 4, 28), "fomc")
    assert not cal.has_event(date(2026, 4, 28), "fomc_decision")


@pytest.mark.parametrize("year", [2024, 2025, 2026, 2027])
def test_each_covered_year_has_eight_two_day_fomc_meetings(cal: EventCalendar, year: int) -> None:
    assert len(days_of(cal, "fomc", year)) == 16
    assert len(days_of(cal, "fomc_decision", year)) == 8


@pytest.mark.parametrize(
    ("kind", "year", "count"),
    [
        ("cpi", 2025, 11),
        ("cpi", 2026, 12),
        ("ppi", 2025, 10),
        ("ppi", 2026, 13),
        ("nfp", 2025, 11),
        ("nfp", 2026, 12),
    ],
)
def test_release_counts_match_the_reference(
    cal: EventCalendar, kind: ec.EventKind, year: int, count: int
) -> None:
    assert len(days_of(cal, kind, year)) == count


@pytest.mark.parametrize(
    ("day", "kind"),
    [
        (date(2024, 11, 7), "fomc_decision"),  # Thursday decision in 2024
        (date(2026, 12, 9), "fomc_decision"),  # Fed says Dec 9 (a rejected source said 8)
        (date(2028, 1, 26), "fomc_decision"),  # first 2028 meeting, published with 2027's
        (date(2025, 10, 24), "cpi"),  # moved by the 2025 shutdown
        (date(2026, 2, 13), "cpi"),  # moved by the 2026 partial shutdown
        (date(2026, 2, 11), "nfp"),
        (date(2026, 7, 2), "nfp"),  # Thursday: July 3 is the observed holiday
        (date(2026, 1, 14), "ppi"),
    ],
)
def test_notable_dates_from_the_reference(
    cal: EventCalendar, day: date, kind: ec.EventKind
) -> None:
    assert any(e.kind == kind and not e.assumed for e in cal.events_on(day, [kind]))


def test_cancelled_october_2025_cpi_is_absent(cal: EventCalendar) -> None:
    assert days_of(cal, "cpi", 2025)[9:] == [date(2025, 10, 24), date(2025, 12, 18)]


def test_every_fomc_day_is_an_nyse_trading_day(cal: EventCalendar) -> None:
    for year in (2024, 2025, 2026, 2027):
        for day in days_of(cal, "fomc", year):
            assert market_hours.is_trading_day(day), day


def test_earnings_are_four_approximate_dates_per_megacap(cal: EventCalendar) -> None:
    events = [e for e in cal.events_within(date(2026, 1, 1), 364, ["earnings"])]

    by_symbol: dict[str | None, list[date]] = {}
    for event in events:
        by_symbol.setdefault(event.symbol, []).append(event.day)
    assert set(by_symbol) == {"AAPL", "MSFT", "NVDA", "AMZN", "GOOGL", "META", "TSLA"}
    assert all(len(days) == 4 for days in by_symbol.values())
    assert all({(d.month - 1) // 3 for d in days} == {0, 1, 2, 3} for days in by_symbol.values())
    assert all(e.approximate for e in events)


def test_every_earnings_entry_is_flagged_approximate_in_the_data_file() -> None:
    entries = json.loads((DATA_DIR / "events_earnings.json").read_text())["events"]

    assert entries and all(entry["approximate"] is True for entry in entries)


def test_data_files_name_their_source_and_coverage() -> None:
    for name in ec.DATA_FILES:
        content = json.loads((DATA_DIR / name).read_text())
        assert content["source"].strip()
        assert content["coverage"]


def test_data_sources_name_references_not_paths_outside_the_repository() -> None:
    for path in sorted(DATA_DIR.glob("events_*.json")):
        source = json.loads(path.read_text())["source"]
        # an absolute, home or parent-relative path (`/work/...`, `~/...`, `../...`, `C:\...`)
        assert not re.search(r"(?:^|[\s(\"'\[])(?:/|~/|\.\./|[A-Za-z]:\\)\w", source), path.name


# --- queries ---------------------------------------------------------------------------------


def test_coverage_and_horizons(cal: EventCalendar) -> None:
    assert cal.horizon("fomc") == date(2027, 12, 31)
    assert cal.horizon("cpi") == date(2026, 12, 31)
    assert cal.horizon("earnings") == date(2026, 12, 31)
    assert cal.covers(date(2024, 6, 12), "fomc")
    assert not cal.covers(date(2027, 1, 13), "cpi")


def test_next_event_is_strictly_after(cal: EventCalendar) -> None:
    event = cal.next_event(date(2026, 4, 29), "fomc_decision")

    assert event is not None and event.day == date(2026, 6, 17) and not event.assumed


def test_events_within_includes_both_ends(cal: EventCalendar) -> None:
    events = cal.events_within(date(2026, 4, 28), 1, ["fomc"])

    assert [e.day for e in events] == [date(2026, 4, 28), date(2026, 4, 29)]
    assert cal.events_within(date(2026, 4, 27), 0, ["fomc"]) == []


def test_events_within_rejects_negative_days(cal: EventCalendar) -> None:
    with pytest.raises(ValueError, match="negative"):
        cal.events_within(date(2026, 4, 28), -1)


def test_unknown_kind_is_rejected(cal: EventCalendar) -> None:
    with pytest.raises(ValueError, match="unknown event kind 'gdp'"):
        cal.has_event(date(2026, 4, 28), "gdp")  # type: ignore[arg-type]


def test_economic_release_day(cal: EventCalendar) -> None:
    assert is_economic_release_day(cal, date(2026, 11, 10))  # CPI
    assert is_economic_release_day(cal, date(2026, 11, 13))  # PPI
    assert is_economic_release_day(cal, date(2026, 4, 3))  # NFP on Good Friday (market shut)
    assert not is_economic_release_day(cal, date(2026, 11, 12))


# --- out of coverage -------------------------------------------------------------------------


def test_uncovered_cpi_is_assumed_and_warned_once(
    cal: EventCalendar, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="shared.event_calendar"):
        first = cal.has_event(date(2030, 3, 12), "cpi")
        second = cal.has_event(date(2030, 7, 1), "cpi")

    assert first and second
    warnings = uncovered_warnings(caplog)
    assert len(warnings) == 1
    assert "kind=cpi" in warnings[0] and "day=2030-03-12" in warnings[0]


def test_uncovered_events_are_marked_assumed(cal: EventCalendar) -> None:
    events = cal.events_on(date(2030, 3, 12), ["cpi"])

    assert len(events) == 1 and events[0].assumed and events[0].kind == "cpi"
    assert is_economic_release_day(cal, date(2030, 3, 12))


def test_each_kind_and_year_warns_separately(
    cal: EventCalendar, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="shared.event_calendar"):
        cal.has_event(date(2030, 3, 12), "cpi")
        cal.has_event(date(2030, 3, 12), "ppi")
        cal.has_event(date(2031, 3, 12), "cpi")

    assert len(uncovered_warnings(caplog)) == 3


def test_uncovered_earnings_are_assumed_absent_with_a_warning(
    cal: EventCalendar, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="shared.event_calendar"):
        assert not cal.has_event(date(2027, 1, 28), "earnings")

    assert any("kind=earnings" in m for m in uncovered_warnings(caplog))


def test_covered_days_do_not_warn(cal: EventCalendar, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="shared.event_calendar"):
        assert not cal.has_event(date(2026, 11, 12), "cpi")

    assert uncovered_warnings(caplog) == []


def test_next_event_past_the_horizon_returns_an_assumed_event(cal: EventCalendar) -> None:
    event = cal.next_event(date(2026, 12, 20), "cpi")

    assert event is not None and event.assumed and event.day == date(2027, 1, 1)


def test_strict_mode_raises_on_uncovered_years() -> None:
    strict = EventCalendar(strict=True)

    assert strict.has_event(date(2026, 11, 10), "cpi")
    with pytest.raises(CalendarCoverageError, match=r"cpi.*2030"):
        strict.has_event(date(2030, 3, 12), "cpi")
    with pytest.raises(CalendarCoverageError):
        strict.next_event(date(2026, 12, 20), "cpi")


def test_kinds_near_horizon_warns_for_data_about_to_run_out(
    cal: EventCalendar, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="shared.event_calendar"):
        near = cal.kinds_near_horizon(date(2026, 11, 22))

    assert near == ["cpi", "ppi", "nfp", "earnings"]
    assert any("event_calendar_horizon_near kind=cpi" in r.getMessage() for r in caplog.records)


# --- bad data --------------------------------------------------------------------------------


def copy_data(tmp_path: Path) -> Path:
    for name in ec.DATA_FILES:
        shutil.copy(DATA_DIR / name, tmp_path / name)
    return tmp_path


def test_unknown_key_in_a_data_file_names_the_file(tmp_path: Path) -> None:
    folder = copy_data(tmp_path)
    path = folder / "events_macro.json"
    content = json.loads(path.read_text())
    content["releases"][0]["time"] = "08:30"
    path.write_text(json.dumps(content))

    with pytest.raises(CalendarDataError, match=r"events_macro\.json"):
        EventCalendar(data_dir=folder)


def test_weekend_event_is_rejected(tmp_path: Path) -> None:
    folder = copy_data(tmp_path)
    path = folder / "events_earnings.json"
    content = json.loads(path.read_text())
    content["events"][0]["date"] = "2026-01-31"  # a Saturday
    path.write_text(json.dumps(content))

    with pytest.raises(CalendarDataError, match="weekend"):
        EventCalendar(data_dir=folder)


def test_coverage_claim_without_events_is_rejected(tmp_path: Path) -> None:
    folder = copy_data(tmp_path)
    path = folder / "events_macro.json"
    content = json.loads(path.read_text())
    content["coverage"]["cpi"] = [2025, 2026, 2027]
    path.write_text(json.dumps(content))

    with pytest.raises(CalendarDataError, match=r"cpi for \[2027\]"):
        EventCalendar(data_dir=folder)
