"""The runtime's event-data watch: one `event_data_missing` safety event per trading day without
data (also across a restart), none on covered or closed days; an overlay import is picked up."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from shared.clock import ManualClock
from shared.event_calendar import EventCalendar
from shared.event_overlay import save_overlay
from shared.execution import Recorder
from shared.journal import Journal
from shared.runtime.calendar_watch import EVENT_DATA_MISSING, CalendarWatch
from tests.shared.calendar_files import macro_overlay_2027

BOT = "iron_fly_0dte"
MONDAY_2027 = datetime(2027, 1, 4, 14, 0, tzinfo=UTC)  # 09:00 ET, a trading day without data


def _watch(journal: Journal, overlay_file: Path, clock: ManualClock) -> CalendarWatch:
    recorder = Recorder(journal, BOT, lambda: ("idle", {}), clock=clock)
    calendar = EventCalendar(overlay_file=overlay_file)
    return CalendarWatch(calendar=calendar, recorder=recorder, journal=journal)


def _missing(journal: Journal) -> list[dict[str, object]]:
    return [e.details for e in journal.safety_events() if e.event == EVENT_DATA_MISSING]


def test_one_safety_event_per_day_also_across_a_restart(tmp_path: Path) -> None:
    clock = ManualClock(MONDAY_2027)
    overlay_file = tmp_path / "events_local.json"
    with Journal.open(tmp_path / "bot.sqlite", clock=clock) as journal:
        first = _watch(journal, overlay_file, clock)
        first.check(clock.now())
        first.check(clock.now())
        _watch(journal, overlay_file, clock).check(clock.now())  # a restart the same day

        events = _missing(journal)
        assert len(events) == 1
        assert events[0]["kinds"] == ["cpi", "ppi", "nfp", "earnings"]
        assert events[0]["assumed"] == ["cpi", "ppi", "nfp"]

        clock.advance(timedelta(days=1))  # Tuesday 2027-01-05
        first.check(clock.now())
        assert len(_missing(journal)) == 2


def test_no_event_on_a_closed_day_or_a_covered_day(tmp_path: Path) -> None:
    saturday = datetime(2027, 1, 2, 15, 0, tzinfo=UTC)
    covered = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)  # a Monday of the packaged data
    clock = ManualClock(covered)
    with Journal.open(tmp_path / "bot.sqlite", clock=clock) as journal:
        _watch(journal, tmp_path / "none.json", clock).check(saturday)
        _watch(journal, tmp_path / "none.json", clock).check(covered)

        assert _missing(journal) == []


def test_an_import_made_before_the_day_is_read_at_its_first_pass(tmp_path: Path) -> None:
    clock = ManualClock(MONDAY_2027)
    overlay_file = tmp_path / "events_local.json"
    with Journal.open(tmp_path / "bot.sqlite", clock=clock) as journal:
        watch = _watch(journal, overlay_file, clock)  # started before the import
        save_overlay(overlay_file, macro_overlay_2027())

        watch.check(clock.now())

        assert [e["kinds"] for e in _missing(journal)] == [["earnings"]]
