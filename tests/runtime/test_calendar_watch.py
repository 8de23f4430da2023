"""The runtime's event-data watch: one `event_data_missing` safety event per trading day without
data (also across a restart), none on covered or closed days; an overlay import is picked up."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

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


def test_the_bot_process_gives_its_strategy_and_its_runtime_one_calendar(
    sim_factory: Callable[..., Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`calypso run` builds one EventCalendar: the one whose overlay the runtime re-reads each
    trading day is the one the strategy asks, so an import made while the bot runs reaches the
    strategy (with two, the watch would go quiet while the strategy still saw no data)."""
    from shared import bot_runtime
    from shared.runtime import startup
    from shared.testing.probe_strategy import ProbeSettings, ProbeStrategy

    server = sim_factory()
    monkeypatch.setenv("CALYPSO_HOME", str(tmp_path))
    monkeypatch.setattr(startup, "install_handlers", lambda stop: None)  # no process signals
    monkeypatch.setattr(startup, "configure_logging", lambda *a, **k: None)  # pytest's logging
    seen: dict[str, object] = {}

    def factory(config: object, calendar: EventCalendar) -> ProbeStrategy:
        seen["strategy"] = calendar
        return ProbeStrategy(bot=BOT, settings=ProbeSettings())

    class Runtime:  # stands in for the loop: this test is about what it is given
        def __init__(self, **parts: object) -> None:
            seen["runtime"] = parts["calendar"]

        def run(self) -> int:
            return 0

    monkeypatch.setattr(bot_runtime, "BotRuntime", Runtime)
    args = argparse.Namespace(env="local", dry_run=False, config=None, sim_url=server.base_url)

    assert startup.run_bot(BOT, factory, args) == 0
    assert isinstance(seen["strategy"], EventCalendar)
    assert seen["runtime"] is seen["strategy"]
