"""Reading a schedule (iCalendar or CSV) into a validated overlay entry: what
`calypso calendar import` and `update` add to `CALYPSO_HOME/data/events_local.json`.

An import claims the complete schedule of one kind in one year. Every date is checked: a
YYYY-MM-DD day, a weekday, a trading day (NYSE) and inside the claimed year (CSV rows; an
iCalendar feed spans years, so its events of other years are skipped and counted). Any bad date
rejects the whole import, each named with its reason; nothing is written then. Days are US
Eastern calendar dates (an iCalendar date-time is converted to America/New_York first).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Literal

import icalendar

from shared import market_hours
from shared.event_overlay import ImportKind, Overlay, OverlayDay, OverlayYear

Timing = Literal["before_open", "after_close"]
TIMINGS: tuple[Timing, ...] = ("before_open", "after_close")
# iCalendar SUMMARY of each kind's release in the BLS feed (exact, case-insensitive): the feed
# also lists e.g. "Employment Situation of Veterans", which is not the payrolls report.
BLS_TITLES: dict[ImportKind, str] = {
    "cpi": "Consumer Price Index",
    "ppi": "Producer Price Index",
    "nfp": "Employment Situation",
}
DEFAULT_NAMES: dict[ImportKind, str] = {
    "cpi": "CPI release 08:30 ET",
    "ppi": "PPI release 08:30 ET",
    "nfp": "Employment Situation (nonfarm payrolls) 08:30 ET",
    "fomc": "FOMC meeting",
    "earnings": "earnings",
}
# A full year's schedule has at least this many dates (meetings for fomc); fewer is refused,
# since an import claims the whole year and unlisted days would be treated as event-free.
MIN_PER_YEAR: dict[ImportKind, int] = {"cpi": 10, "ppi": 10, "nfp": 10, "fomc": 8, "earnings": 1}


class ScheduleFileError(ValueError):
    """The file cannot be read as a schedule at all (not a date problem); names the file."""


@dataclass(frozen=True)
class Candidate:
    """One date read from the file; `where` names it for messages (`line 4`, `event "..."`)."""

    day: date | None
    where: str
    text: str
    name: str | None = None
    symbol: str | None = None
    timing: Timing | None = None


@dataclass(frozen=True)
class ImportPlan:
    """What an import would do. `entry` is None when `rejected` is not empty."""

    kind: ImportKind
    year: int
    entry: OverlayYear | None
    rejected: tuple[str, ...] = ()
    new_days: tuple[date, ...] = ()
    known_days: tuple[date, ...] = ()
    replaced: OverlayYear | None = None
    skipped_other_years: int = 0
    notes: tuple[str, ...] = field(default=())

    @property
    def ok(self) -> bool:
        return self.entry is not None


# ----------------------------------------------------------------------------- readers


def read_schedule(
    data: bytes, *, kind: ImportKind, filename: str, symbol: str | None = None
) -> list[Candidate]:
    """The dates of `kind` in `data`: iCalendar when it starts with BEGIN:VCALENDAR (or the name
    ends in .ics), else CSV. Raises ScheduleFileError when the file cannot be parsed at all."""
    head = data.lstrip()[:15].upper()
    if filename.lower().endswith(".ics") or head.startswith(b"BEGIN:VCALENDAR"):
        return read_ics(data, kind=kind, filename=filename, symbol=symbol)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ScheduleFileError(f"{filename}: not UTF-8 text ({exc.reason})") from exc
    return read_csv(text, kind=kind, filename=filename, symbol=symbol)


def read_ics(
    data: bytes, *, kind: ImportKind, filename: str, symbol: str | None = None
) -> list[Candidate]:
    """VEVENTs whose SUMMARY names `kind`: the BLS title (cpi, ppi, nfp), an FOMC meeting
    ("FOMC" or "Federal Open Market Committee" with "meeting"), or "earnings". An all-day event
    spanning days yields each day (DTEND exclusive)."""
    try:
        calendar = icalendar.Calendar.from_ical(data)
    except ValueError as exc:
        raise ScheduleFileError(f"{filename}: not an iCalendar file ({exc})") from exc
    found: list[Candidate] = []
    for event in calendar.walk("VEVENT"):
        summary = str(event.get("SUMMARY", "")).strip()
        if not _matches(kind, summary):
            continue
        where = f'event "{summary}"'
        start = event.get("DTSTART")
        if start is None:
            found.append(Candidate(None, where, "no DTSTART"))
            continue
        first, timing = _eastern_day(start.dt)
        days = [first]
        end = event.get("DTEND")
        if end is not None and not isinstance(start.dt, datetime):
            last = end.dt if not isinstance(end.dt, datetime) else _eastern_day(end.dt)[0]
            days = [first + timedelta(days=n) for n in range(max(1, (last - first).days))]
        for day in days:
            when = timing or "after_close"
            label = f"{where} on {day}"
            found.append(
                Candidate(day, label, day.isoformat(), name=summary, symbol=symbol, timing=when)
            )
    return found


def read_csv(
    text: str, *, kind: ImportKind, filename: str, symbol: str | None = None
) -> list[Candidate]:
    """Rows of `date[,name]`, or for earnings `date,symbol,timing`; a header row naming those
    columns is optional; blank lines and lines starting with `#` are skipped."""
    columns: tuple[str, ...] = ("date", "name")
    if kind == "earnings":
        columns = ("date", "symbol", "timing")
    rows = [
        (number, row)
        for number, row in enumerate(csv.reader(io.StringIO(text)), start=1)
        if row and row[0].strip() and not row[0].lstrip().startswith("#")
    ]
    if rows and rows[0][1][0].strip().lower() == "date":
        header = tuple(cell.strip().lower() for cell in rows[0][1])
        unknown = [c for c in header if c not in columns]
        if unknown:
            raise ScheduleFileError(
                f"{filename}: unknown column(s) {', '.join(unknown)}; expected {', '.join(columns)}"
            )
        columns = header
        rows = rows[1:]
    found: list[Candidate] = []
    for number, row in rows:
        cells = dict(zip(columns, (cell.strip() for cell in row), strict=False))
        raw = cells.get("date", "")
        where = f"line {number}"
        raw_timing = cells.get("timing") or None
        try:
            day: date | None = date.fromisoformat(raw)
        except ValueError:
            day = None
        timing = next((t for t in TIMINGS if t == raw_timing), None)
        if raw_timing is not None and timing is None:
            found.append(Candidate(None, where, f"{raw} (timing {raw_timing!r})"))
            continue
        name = cells.get("name") or None
        row_symbol = cells.get("symbol") or symbol
        found.append(Candidate(day, where, raw, name=name, symbol=row_symbol, timing=timing))
    return found


def _matches(kind: ImportKind, summary: str) -> bool:
    text = summary.lower()
    if kind in BLS_TITLES:
        return text == BLS_TITLES[kind].lower()
    if kind == "fomc":
        named = "fomc" in text or "federal open market committee" in text
        return named and "meeting" in text
    return "earnings" in text


def _eastern_day(value: date | datetime) -> tuple[date, Timing | None]:
    if not isinstance(value, datetime):
        return value, None
    local = value.astimezone(market_hours.NY) if value.tzinfo else value
    return local.date(), "before_open" if local.hour < 12 else "after_close"


# ----------------------------------------------------------------------------- validation


def plan_import(
    candidates: Sequence[Candidate],
    *,
    kind: ImportKind,
    year: int,
    source: str,
    now: datetime,
    overlay: Overlay,
    known: Iterable[date],
    from_feed: bool,
    allow_closed_days: bool = False,
) -> ImportPlan:
    """Validate `candidates` as the complete `kind` schedule of `year` and build the overlay
    entry. `known`: the days the calendar already lists for the kind (shown, not an error).
    `from_feed`: an iCalendar feed, whose other years are skipped instead of rejected.
    `allow_closed_days`: accept a weekday market holiday (e.g. payrolls on Good Friday)."""
    rejected: list[str] = []
    notes: list[str] = []
    accepted: dict[tuple[date, str | None], Candidate] = {}
    skipped = 0
    for c in candidates:
        problem = _problem(c, kind, year, from_feed, allow_closed_days)
        if problem == "other year":
            skipped += 1
        elif problem:
            rejected.append(f"{c.text or '(empty)'} ({c.where}): {problem}")
        elif c.day is not None:
            if market_hours.session(c.day) is None:
                notes.append(f"{c.day} is not a trading day ({market_hours.holiday_name(c.day)})")
            accepted.setdefault((c.day, c.symbol), c)
    days = _overlay_days(kind, list(accepted.values()), rejected)
    count = len([d for d in days if d.decision]) if kind == "fomc" else len(days)
    if not rejected and count < MIN_PER_YEAR[kind]:
        unit = "meetings" if kind == "fomc" else "dates"
        rejected.append(
            f"only {count} {kind} {unit} for {year}: a full year has at least "
            f"{MIN_PER_YEAR[kind]}, and the import claims the whole year"
        )
    replaced = overlay.entry(kind, year)
    if rejected:
        return ImportPlan(kind, year, None, tuple(rejected), replaced=replaced,
                          skipped_other_years=skipped)  # fmt: skip
    if kind == "earnings" and replaced is not None:  # one import per symbol: keep the others
        symbols = {d.symbol for d in days}
        days = sorted([*days, *(d for d in replaced.days if d.symbol not in symbols)],
                      key=lambda d: (d.date, d.symbol or ""))  # fmt: skip
    entry = OverlayYear(kind=kind, year=year, source=source, imported_at=now, days=tuple(days))
    listed = set(known)
    new = tuple(sorted({d.date for d in days} - listed))
    old = tuple(sorted({d.date for d in days} & listed))
    return ImportPlan(kind, year, entry, (), new, old, replaced, skipped, tuple(notes))


def _problem(
    c: Candidate, kind: ImportKind, year: int, from_feed: bool, allow_closed_days: bool
) -> str | None:
    if c.day is None:
        return "not a YYYY-MM-DD date"
    if c.day.year != year:
        return "other year" if from_feed else f"not in {year}, the year this import claims"
    if c.day.weekday() > 4:
        return f"a {c.day:%A}, not a weekday"
    if not allow_closed_days and market_hours.session(c.day) is None:
        holiday = market_hours.holiday_name(c.day) or "market closed"
        return f"not a trading day ({holiday}); pass --allow-closed-days if the source lists it"
    if kind == "earnings" and (c.symbol is None or not c.symbol.isalnum()):
        return "no symbol (CSV column `symbol`, or --symbol for an iCalendar file)"
    return None


def _overlay_days(
    kind: ImportKind, accepted: list[Candidate], rejected: list[str]
) -> list[OverlayDay]:
    ordered = sorted(accepted, key=lambda c: (c.day or date.min, c.symbol or ""))
    if kind == "earnings":
        return [
            OverlayDay(date=c.day, name=f"{(c.symbol or '').upper()} earnings",
                       symbol=(c.symbol or "").upper(), timing=c.timing or "after_close")
            for c in ordered if c.day is not None
        ]  # fmt: skip
    if kind != "fomc":
        return [
            OverlayDay(date=c.day, name=_release_name(kind, c.name))
            for c in ordered
            if c.day is not None
        ]
    return _meetings([c.day for c in ordered if c.day is not None], rejected)


def _release_name(kind: ImportKind, name: str | None) -> str:
    default = DEFAULT_NAMES[kind]
    return default if not name or name.lower() == BLS_TITLES.get(kind, "").lower() else name


def _meetings(days: list[date], rejected: list[str]) -> list[OverlayDay]:
    """Consecutive days form one meeting; each meeting has exactly two, the last is decided."""
    groups: list[list[date]] = []
    for day in days:
        if groups and day == groups[-1][-1] + timedelta(days=1):
            groups[-1].append(day)
        else:
            groups.append([day])
    result: list[OverlayDay] = []
    for group in groups:
        if len(group) != 2:
            shown = ", ".join(d.isoformat() for d in group)
            found = len(group)
            rejected.append(f"{shown}: an FOMC meeting has two consecutive days, found {found}")
            continue
        span = f"{group[0]:%b} {group[0].day}-{group[1].day}"
        result.append(OverlayDay(date=group[0], name=f"FOMC meeting day 1 of 2 ({span})"))
        result.append(
            OverlayDay(date=group[1], name=f"FOMC meeting day 2 of 2 ({span})", decision=True)
        )
    return result
