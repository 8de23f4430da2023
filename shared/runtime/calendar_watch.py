"""A running bot's watch over its event data: once per New York trading day, re-read the
operator overlay and, when the day has no data for some event kind (or the overlay is
unreadable), record one `event_data_missing` safety event (journal + outbox, so it is alerted).

The bot stays fail-closed on such a day (FOMC and macro kinds are assumed to be event days, so
the Iron Fly does not enter); this makes it loud. Once per day also across restarts: a safety
event already journaled for the day is not repeated.
"""

from __future__ import annotations

from datetime import date, datetime, time

from shared import market_hours
from shared.event_calendar import ASSUMED_WHEN_UNCOVERED, EVENT_KINDS, EventCalendar
from shared.execution import Recorder
from shared.journal import Journal

EVENT_DATA_MISSING = "event_data_missing"


class CalendarWatch:
    """Call `check(now)` at every loop pass while the market is open; cheap after the first
    call of a day. Reads the overlay file once per day (the runtime's I/O, never a strategy's)."""

    def __init__(self, *, calendar: EventCalendar, recorder: Recorder, journal: Journal) -> None:
        self._calendar = calendar
        self._recorder = recorder
        self._journal = journal
        self._checked: date | None = None

    def check(self, now: datetime) -> None:
        day = now.astimezone(market_hours.NY).date()
        if day == self._checked:
            return
        self._checked = day
        self._calendar.reload_overlay()
        if market_hours.session(day, "index_options") is None:
            return
        missing: list[str] = [k for k in EVENT_KINDS if not self._calendar.covers(day, k)]
        problem = self._calendar.overlay_problem
        if (missing or problem) and not self._recorded(day):
            self._record(day, missing, problem)

    def _recorded(self, day: date) -> bool:
        midnight = datetime.combine(day, time(0), tzinfo=market_hours.NY)
        return any(e.event == EVENT_DATA_MISSING for e in self._journal.safety_events(midnight))

    def _record(self, day: date, missing: list[str], problem: str | None) -> None:
        assumed = [kind for kind in missing if kind in ASSUMED_WHEN_UNCOVERED]
        parts = []
        if missing:
            parts.append(f"no {', '.join(missing)} data for {day}")
        if assumed:
            kinds = ", ".join(assumed)
            parts.append(f"{kinds} assumed to be event days: no entries that rely on them")
        if problem:
            parts.append(problem)
        parts.append("add the schedule: calypso calendar update / calypso calendar import")
        details = {
            "day": day.isoformat(),
            "kinds": missing,
            "assumed": assumed,
            "overlay_problem": problem,
        }
        self._recorder.safety_event(EVENT_DATA_MISSING, "; ".join(parts), details)
