"""Scheduled market events (FOMC, CPI, PPI, payrolls, megacap earnings): packaged data files
merged with the operator's overlay.

Data: `shared/data/events_fomc.json`, `events_macro.json`, `events_earnings.json` (read-only in
the install). Each file names its `source` and, per event kind, the years it `coverage`s
completely. The operator overlay `CALYPSO_HOME/data/events_local.json` (`shared.event_overlay`,
written by `calypso calendar import`) adds complete schedules per kind and year: its events and
years are added to the packaged ones (never removed). A malformed overlay is ignored with an
ERROR and reported by `overlay_problem` (fail-closed: its years stay uncovered). Days are US
Eastern calendar dates. Kinds:

- `fomc`: every day of a scheduled FOMC meeting; `fomc_decision`: the meeting's last day
  (statement 14:00 ET), which is also an `fomc` day.
- `cpi`, `ppi`, `nfp` (Employment Situation): BLS releases at 08:30 ET.
- `earnings`: megacap reports; every one is `approximate=True` (estimated, not announced).

Out-of-coverage policy (a day whose year the data does not cover for that kind):

- A WARNING `event_calendar_uncovered kind=... day=...` is logged once per kind and year
  (per calendar instance), never on every call.
- `fomc`, `fomc_decision`, `cpi`, `ppi`, `nfp`: an event is ASSUMED on every uncovered day
  (a trading bot stands aside rather than trade blind). The calendar returns it as a
  `MarketEvent` with `assumed=True`, so `has_event`, `events_on`, `events_within` and
  `next_event` all agree.
- `earnings`: assumed absent (they are approximate anyway, and assuming them would block
  every day); only a warning.
- `strict=True`: any question about an uncovered kind and year raises CalendarCoverageError.
"""

from __future__ import annotations

import bisect
import functools
import logging
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Literal, TypeVar, get_args

from pydantic import BaseModel, ConfigDict, ValidationError, field_validator, model_validator

from shared import paths
from shared.event_overlay import ImportKind, Overlay, OverlayError, load_overlay
from shared.logger_service import kv

logger = logging.getLogger(__name__)

EventKind = Literal["fomc", "fomc_decision", "cpi", "ppi", "nfp", "earnings"]
EVENT_KINDS: tuple[EventKind, ...] = get_args(EventKind)
ECONOMIC_RELEASE_KINDS: tuple[EventKind, ...] = ("cpi", "ppi", "nfp")
# Kinds assumed to happen on uncovered days (see the module docstring).
ASSUMED_WHEN_UNCOVERED: frozenset[EventKind] = frozenset(
    {"fomc", "fomc_decision", "cpi", "ppi", "nfp"}
)
DATA_FILES: tuple[str, ...] = ("events_fomc.json", "events_macro.json", "events_earnings.json")
# The calendar kinds an overlay (import) kind covers.
KINDS_OF_IMPORT: Mapping[ImportKind, tuple[EventKind, ...]] = {
    "cpi": ("cpi",),
    "ppi": ("ppi",),
    "nfp": ("nfp",),
    "fomc": ("fomc", "fomc_decision"),
    "earnings": ("earnings",),
}
FOMC_DECISION_NAME = "FOMC decision: statement 14:00 ET, press conference 14:30 ET"
# Past years for backtests, kept apart from the current files; optional in a test `data_dir`.
HISTORY_FILES: tuple[str, ...] = ("events_history_fomc.json", "events_history_macro.json")


@dataclass(frozen=True)
class MarketEvent:
    """One event on one US Eastern calendar day."""

    day: date
    kind: EventKind
    name: str
    approximate: bool = False
    symbol: str | None = None
    assumed: bool = False  # True: not in the data, assumed because the year is not covered


class CalendarCoverageError(LookupError):
    """Raised in strict mode when a question needs data for a year the calendar does not cover."""


class CalendarDataError(ValueError):
    """A packaged event data file is missing or malformed; the message names the file."""


# ----------------------------------------------------------------------------- file schemas


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class _DataFile(_Strict):
    description: str
    source: str
    compiled: date
    coverage: dict[EventKind, list[int]]


class _Meeting(_Strict):
    days: tuple[date, date]
    note: str | None = None

    @model_validator(mode="after")
    def _consecutive_weekdays(self) -> _Meeting:
        first, second = self.days
        if second != first + timedelta(days=1) or second.weekday() > 4:
            raise ValueError(f"meeting days {first}..{second} are not two consecutive weekdays")
        return self


class _FomcFile(_DataFile):
    meetings: list[_Meeting]


class _Release(_Strict):
    date: date
    kind: Literal["cpi", "ppi", "nfp"]
    name: str
    note: str | None = None


class _MacroFile(_DataFile):
    releases: list[_Release]


class _Earnings(_Strict):
    date: date
    symbol: str
    timing: Literal["before_open", "after_close"]
    approximate: bool

    @field_validator("symbol")
    @classmethod
    def _upper(cls, value: str) -> str:
        if not value.isalnum() or value != value.upper():
            raise ValueError(f"symbol {value!r} must be upper-case letters/digits")
        return value


class _EarningsFile(_DataFile):
    events: list[_Earnings]


# ----------------------------------------------------------------------------- loading


@dataclass(frozen=True)
class _CalendarData:
    by_kind: Mapping[EventKind, tuple[MarketEvent, ...]]  # sorted by day
    by_day: Mapping[date, tuple[MarketEvent, ...]]
    coverage: Mapping[EventKind, frozenset[int]]


_FileT = TypeVar("_FileT", bound=_DataFile)


def _read(folder: Traversable, filename: str, model: type[_FileT]) -> _FileT:
    entry = folder / filename
    try:
        return model.model_validate_json(entry.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise CalendarDataError(f"event data file missing: {entry}") from exc
    except ValidationError as exc:
        raise CalendarDataError(f"invalid event data file {entry}: {exc}") from exc


def _fomc_events(data: _FomcFile) -> list[MarketEvent]:
    events: list[MarketEvent] = []
    for meeting in data.meetings:
        first, decision = meeting.days
        same_month = decision.month == first.month
        end = f"{decision.day}" if same_month else f"{decision:%b} {decision.day}"
        span = f"{first:%b} {first.day}-{end}"
        events.append(MarketEvent(first, "fomc", f"FOMC meeting day 1 of 2 ({span})"))
        events.append(MarketEvent(decision, "fomc", f"FOMC meeting day 2 of 2 ({span})"))
        events.append(MarketEvent(decision, "fomc_decision", FOMC_DECISION_NAME))
    return events


def _earnings_events(data: _EarningsFile) -> list[MarketEvent]:
    when = {"after_close": "after the close", "before_open": "before the open"}
    return [
        MarketEvent(
            e.date,
            "earnings",
            f"{e.symbol} earnings {when[e.timing]} (approximate)",
            approximate=e.approximate,
            symbol=e.symbol,
        )
        for e in data.events
    ]


def _build(folder: Traversable) -> _CalendarData:
    events, coverage = _collect(folder)
    return _index(events, coverage)


def _collect(folder: Traversable) -> tuple[list[MarketEvent], dict[EventKind, frozenset[int]]]:
    fomc = _read(folder, "events_fomc.json", _FomcFile)
    macro = _read(folder, "events_macro.json", _MacroFile)
    earnings = _read(folder, "events_earnings.json", _EarningsFile)
    events = _fomc_events(fomc) + _earnings_events(earnings)
    events += [MarketEvent(r.date, r.kind, r.name) for r in macro.releases]

    coverage: dict[EventKind, frozenset[int]] = {}
    files: tuple[_DataFile, ...] = (fomc, macro, earnings)
    for data, filename in zip(files, DATA_FILES, strict=True):
        for kind, listed_years in data.coverage.items():
            if kind in coverage:
                raise CalendarDataError(f"{filename}: coverage for {kind!r} is given twice")
            coverage[kind] = frozenset(listed_years)
    events += _add_history(folder, coverage)
    missing = set(EVENT_KINDS) - set(coverage)
    if missing:
        raise CalendarDataError(f"no data file declares coverage for {sorted(missing)}")
    return events, coverage


def _index(
    events: list[MarketEvent], coverage: Mapping[EventKind, frozenset[int]]
) -> _CalendarData:
    by_kind: dict[EventKind, list[MarketEvent]] = {kind: [] for kind in EVENT_KINDS}
    by_day: dict[date, list[MarketEvent]] = {}
    for event in sorted(events, key=lambda e: (e.day, EVENT_KINDS.index(e.kind), e.symbol or "")):
        if event.day.weekday() > 4:
            raise CalendarDataError(f"{event.kind} event on a weekend: {event.day}")
        by_kind[event.kind].append(event)
        by_day.setdefault(event.day, []).append(event)
    for kind, years in coverage.items():
        seen = {e.day.year for e in by_kind[kind]}
        empty = sorted(years - seen)
        if empty:
            raise CalendarDataError(f"coverage claims {kind} for {empty} but lists no such event")
    return _CalendarData(
        by_kind={k: tuple(v) for k, v in by_kind.items()},
        by_day={d: tuple(v) for d, v in by_day.items()},
        coverage=dict(coverage),
    )


def _overlay_events(overlay: Overlay) -> tuple[list[MarketEvent], dict[EventKind, set[int]]]:
    """The overlay's days as events (operator dates are not approximate) and covered years."""
    when = {"after_close": "after the close", "before_open": "before the open", None: ""}
    events: list[MarketEvent] = []
    years: dict[EventKind, set[int]] = {}
    for entry in overlay.entries:
        for kind in KINDS_OF_IMPORT[entry.kind]:
            years.setdefault(kind, set()).add(entry.year)
        for day in entry.days:
            if entry.kind == "earnings":
                name = f"{day.symbol} earnings {when[day.timing]}"
                events.append(MarketEvent(day.date, "earnings", name, symbol=day.symbol))
                continue
            events.append(MarketEvent(day.date, entry.kind, day.name))
            if entry.kind == "fomc" and day.decision:
                events.append(MarketEvent(day.date, "fomc_decision", FOMC_DECISION_NAME))
    return events, years


def _merged(base: _CalendarData, overlay: Overlay) -> _CalendarData:
    """`base` plus the overlay's events (a day already listed for the kind and symbol is kept
    once, from `base`) and covered years."""
    if not overlay.entries:
        return base
    events = [e for listed in base.by_kind.values() for e in listed]
    known = {(e.day, e.kind, e.symbol) for e in events}
    added, years = _overlay_events(overlay)
    events += [e for e in added if (e.day, e.kind, e.symbol) not in known]
    coverage = {k: base.coverage[k] | frozenset(years.get(k, ())) for k in base.coverage}
    return _index(events, coverage)


def _add_history(
    folder: Traversable, coverage: dict[EventKind, frozenset[int]]
) -> list[MarketEvent]:
    """Events of the history files in `folder` (those present); their years join `coverage`
    (a year claimed by two files is an error)."""
    events: list[MarketEvent] = []
    fomc_file = HISTORY_FILES[0]
    for filename in HISTORY_FILES:
        if not (folder / filename).is_file():
            continue
        data: _DataFile
        if filename == fomc_file:
            fomc = _read(folder, filename, _FomcFile)
            events += _fomc_events(fomc)
            data = fomc
        else:
            macro = _read(folder, filename, _MacroFile)
            events += [MarketEvent(r.date, r.kind, r.name) for r in macro.releases]
            data = macro
        for kind, listed_years in data.coverage.items():
            twice = coverage.get(kind, frozenset()) & set(listed_years)
            if twice:
                raise CalendarDataError(f"{filename}: coverage for {kind!r} {sorted(twice)} "
                                        "is given twice")  # fmt: skip
            coverage[kind] = coverage.get(kind, frozenset()) | frozenset(listed_years)
    return events


@functools.cache
def _packaged() -> _CalendarData:
    return _build(resources.files("shared").joinpath("data"))


# ----------------------------------------------------------------------------- calendar


class EventCalendar:
    """Queries over the packaged event data and the operator overlay; see the module docstring
    for uncovered years."""

    def __init__(
        self,
        *,
        strict: bool = False,
        data_dir: Path | None = None,
        overlay_file: Path | None = None,
        packaged_only: bool = False,
    ) -> None:
        """Load the packaged data (once per process) or, for tests, the files in `data_dir`,
        then merge the overlay: `overlay_file`, else (with the packaged data) the operator's
        `CALYPSO_HOME/data/events_local.json`; none when `packaged_only`.

        Raises CalendarDataError when a packaged data file is missing or malformed; a bad
        overlay is logged and reported by `overlay_problem`, never raised.
        """
        self._base = _packaged() if data_dir is None else _build(data_dir)
        if packaged_only:
            overlay_file = None
        elif overlay_file is None and data_dir is None:
            overlay_file = paths.events_overlay_path()
        self._overlay_file = overlay_file
        self._overlay_signature: tuple[int, int] | None = None
        self._overlay_problem: str | None = None
        self._strict = strict
        self._warned: set[tuple[EventKind, int]] = set()
        self._lock = threading.Lock()
        self._install(self._base)
        self.reload_overlay()

    def _install(self, data: _CalendarData) -> None:
        self._data = data
        self._days = {k: [e.day for e in v] for k, v in data.by_kind.items()}

    @property
    def overlay_file(self) -> Path | None:
        """The overlay file merged (or looked for), None when packaged data only."""
        return self._overlay_file

    @property
    def overlay_problem(self) -> str | None:
        """Why the overlay file is not used (unreadable or malformed), else None."""
        return self._overlay_problem

    def reload_overlay(self) -> bool:
        """Re-read the overlay when its file changed (size or mtime); True when the data changed.

        Reads the filesystem: call from the runtime (start, new day), never from a strategy.
        A bad file keeps the data as they were and sets `overlay_problem` (logged once).
        """
        if self._overlay_file is None:
            return False
        try:
            info = self._overlay_file.stat()
            signature = (info.st_mtime_ns, info.st_size)
        except OSError:
            signature = None
        if signature == self._overlay_signature and self._overlay_problem is None:
            return False
        self._overlay_signature = signature
        try:
            overlay = load_overlay(self._overlay_file)
        except OverlayError as exc:
            if str(exc) != self._overlay_problem:
                logger.error(kv("event_overlay_invalid", path=self._overlay_file, error=exc))
            self._overlay_problem = str(exc)
            return False
        self._overlay_problem = None
        try:
            merged = _merged(self._base, overlay)
        except CalendarDataError as exc:
            self._overlay_problem = f"event overlay {self._overlay_file}: {exc}"
            logger.error(kv("event_overlay_invalid", path=self._overlay_file, error=exc))
            return False
        changed = merged is not self._data
        with self._lock:
            self._install(merged)
            self._warned.clear()
        if overlay.entries:
            logger.info(kv("event_overlay_loaded", path=self._overlay_file,
                           entries=len(overlay.entries)))  # fmt: skip
        return changed

    @property
    def strict(self) -> bool:
        return self._strict

    def covers(self, day: date, kind: EventKind) -> bool:
        """True when the data lists every `kind` event of `day`'s year. No logging."""
        return day.year in self._data.coverage[_checked_kind(kind)]

    def horizon(self, kind: EventKind) -> date:
        """The last covered day for `kind`: 31 December of its last covered year."""
        return date(max(self._data.coverage[_checked_kind(kind)]), 12, 31)

    def covered_years(self, kind: EventKind) -> frozenset[int]:
        """The years whose `kind` events are all listed (packaged or overlay)."""
        return self._data.coverage[_checked_kind(kind)]

    def listed(self, kind: EventKind, year: int) -> tuple[MarketEvent, ...]:
        """The `kind` events the data lists in `year` (never assumed ones); no logging."""
        events = self._data.by_kind[_checked_kind(kind)]
        days = self._days[kind]
        low = bisect.bisect_left(days, date(year, 1, 1))
        high = bisect.bisect_right(days, date(year, 12, 31))
        return events[low:high]

    def covered_through(self, kind: EventKind, today: date) -> date | None:
        """31 December of the last year of the unbroken run of covered years from `today`'s
        year on; None when `today`'s year itself is not covered for `kind`."""
        years = self._data.coverage[_checked_kind(kind)]
        if today.year not in years:
            return None
        year = today.year
        while year + 1 in years:
            year += 1
        return date(year, 12, 31)

    def kinds_near_horizon(self, today: date, min_days: int = 60) -> list[EventKind]:
        """Kinds whose coverage ends fewer than `min_days` after `today`; logs a WARNING each.

        Call at start-up and from health checks: it is the early notice to add data files.
        """
        near: list[EventKind] = []
        for kind in EVENT_KINDS:
            days_left = (self.horizon(kind) - today).days
            if days_left < min_days:
                near.append(kind)
                end = self.horizon(kind).isoformat()
                event = "event_calendar_horizon_near"
                logger.warning(kv(event, kind=kind, horizon=end, days_left=days_left))
        return near

    def events_on(self, day: date, kinds: Iterable[EventKind] | None = None) -> list[MarketEvent]:
        """Events on `day` of the given kinds (all when None), including assumed ones.

        Raises CalendarCoverageError in strict mode when a requested kind is not covered.
        """
        wanted = _checked_kinds(kinds)
        listed = self._data.by_day.get(day, ())
        found: list[MarketEvent] = []
        for kind in wanted:
            known = [e for e in listed if e.kind == kind]
            found.extend(known)
            if not self._covered(day, kind) and not known and kind in ASSUMED_WHEN_UNCOVERED:
                found.append(_assumed(day, kind))
        return found

    def has_event(self, day: date, kind: EventKind) -> bool:
        """True when a `kind` event is listed (or, on an uncovered day, assumed) on `day`."""
        return bool(self.events_on(day, [kind]))

    def next_event(self, after: date, kind: EventKind) -> MarketEvent | None:
        """The first `kind` event strictly after `after`, or None when none is known.

        If an uncovered year lies before the next listed event, that year's first day is
        returned as an assumed event (macro and FOMC kinds) or a warning is logged (earnings).
        """
        kind = _checked_kind(kind)
        index = bisect.bisect_right(self._days[kind], after)
        events = self._data.by_kind[kind]
        known = events[index] if index < len(events) else None
        gap = self._first_uncovered_day(after, kind, before=known.day if known else None)
        if gap is None:
            return known
        self._covered(gap, kind)  # warns once; raises in strict mode
        return _assumed(gap, kind) if kind in ASSUMED_WHEN_UNCOVERED else known

    def events_within(
        self, start: date, days: int, kinds: Iterable[EventKind] | None = None
    ) -> list[MarketEvent]:
        """Events from `start` through `start + days` (inclusive), in date order.

        Raises ValueError when `days` is negative.
        """
        if days < 0:
            raise ValueError(f"days must not be negative, got {days}")
        wanted = _checked_kinds(kinds)
        found: list[MarketEvent] = []
        for offset in range(days + 1):
            found.extend(self.events_on(start + timedelta(days=offset), wanted))
        return found

    def _first_uncovered_day(
        self, after: date, kind: EventKind, before: date | None
    ) -> date | None:
        covered = self._data.coverage[kind]
        last_year = before.year if before else max(max(covered) + 1, after.year + 1)
        for year in range(after.year, last_year + 1):
            if year in covered:
                continue
            candidate = max(after + timedelta(days=1), date(year, 1, 1))
            if candidate.year == year and (before is None or candidate < before):
                return candidate
        return None

    def _covered(self, day: date, kind: EventKind) -> bool:
        """Coverage check with the side effects of the policy: warn once, raise when strict."""
        years = self._data.coverage[kind]
        if day.year in years:
            return True
        span = _years_text(years)
        if self._strict:
            raise CalendarCoverageError(
                f"event calendar has no {kind} data for {day.year} (day {day}; covered {span})"
            )
        with self._lock:
            first = (kind, day.year) not in self._warned
            self._warned.add((kind, day.year))
        if first:
            assumed = "event" if kind in ASSUMED_WHEN_UNCOVERED else "none"
            logger.warning(kv("event_calendar_uncovered", kind=kind, day=day.isoformat(),
                              year=day.year, covered=span, assumed=assumed))  # fmt: skip
        return False


def _years_text(years: frozenset[int]) -> str:
    low, high = min(years), max(years)
    if high - low + 1 == len(years):
        return str(low) if low == high else f"{low}-{high}"
    return ",".join(str(y) for y in sorted(years))


def _assumed(day: date, kind: EventKind) -> MarketEvent:
    return MarketEvent(
        day, kind, f"{kind} assumed: no {kind} data for {day.year}", approximate=True, assumed=True
    )


def _checked_kind(kind: str) -> EventKind:
    if kind not in EVENT_KINDS:
        raise ValueError(f"unknown event kind {kind!r}; expected one of {', '.join(EVENT_KINDS)}")
    return kind


def _checked_kinds(kinds: Iterable[EventKind] | None) -> tuple[EventKind, ...]:
    if kinds is None:
        return EVENT_KINDS
    if isinstance(kinds, str):
        raise ValueError(f"kinds must be an iterable of kinds, not the string {kinds!r}")
    return tuple(_checked_kind(k) for k in kinds)


def is_economic_release_day(cal: EventCalendar, day: date) -> bool:
    """True when `day` has a CPI, PPI or payrolls release (listed, or assumed when uncovered)."""
    return any(cal.has_event(day, kind) for kind in ECONOMIC_RELEASE_KINDS)
