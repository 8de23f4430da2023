"""The backtest's event calendar: the packaged calendar plus the `--missing-events` choice.

`skip-days` keeps the live rule (a kind and year without data counts as an event day: no
entry); `ignore` drops those assumed events, so uncovered years trade as if eventless. Either
way `uncovered(start, end)` lists what was missing, for the report.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import Literal

from shared.event_calendar import ASSUMED_WHEN_UNCOVERED, EventCalendar, EventKind, MarketEvent

MissingEvents = Literal["skip-days", "ignore"]
MISSING_EVENT_CHOICES: tuple[MissingEvents, ...] = ("skip-days", "ignore")


class BacktestCalendar(EventCalendar):
    """`EventCalendar` whose uncovered days follow the chosen `missing` policy."""

    def __init__(self, missing: MissingEvents) -> None:
        super().__init__()
        self.missing = missing

    def events_on(self, day: date, kinds: Iterable[EventKind] | None = None) -> list[MarketEvent]:
        events = super().events_on(day, kinds)
        if self.missing == "ignore":
            return [event for event in events if not event.assumed]
        return events

    def uncovered(self, start: date, end: date) -> dict[EventKind, list[int]]:
        """Kinds (those assumed when uncovered) without data, with the years, in start..end."""
        found: dict[EventKind, list[int]] = {}
        for kind in sorted(ASSUMED_WHEN_UNCOVERED):
            years = [y for y in range(start.year, end.year + 1)
                     if not self.covers(date(y, 1, 1), kind)]  # fmt: skip
            if years:
                found[kind] = years
        return found
