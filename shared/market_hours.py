"""Trading sessions for NYSE and Cboe options from pandas_market_calendars, in America/New_York.

All session times are timezone-aware America/New_York (zoneinfo), correct across DST. Schedules
are computed lazily per (venue, year) and cached, so lookups are dictionary reads.

Venues: "nyse" (09:30-16:00, 13:00 on early-close days), "index_options" (Cboe, SPX: 09:30-16:15,
13:15 on early-close days), "equity_options" (Cboe: 09:30-16:00, 13:00 on early-close days).

Option venues follow NYSE's days: pandas_market_calendars 5.5 omits Cboe's early close on
Christmas Eve (its Cboe calendars have no such rule; NYSE's has), and Cboe closes early whenever
NYSE does (index options 15 minutes after NYSE). So an option venue trades only on days both its
own calendar and NYSE trade, and on NYSE early-close days it closes at the earlier of its own
close and NYSE's close plus the venue's regular offset. Erring early is the safe side: a bot
that thinks the market is still open when it is not would send orders into a closed book.

No holiday dates are written here: every date comes from the library.
"""

from __future__ import annotations

import functools
import logging
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from types import MappingProxyType
from typing import Any, Literal
from zoneinfo import ZoneInfo

import pandas as pd  # type: ignore[import-untyped, unused-ignore]
import pandas_market_calendars as mcal
import pandas_market_calendars.holidays.nyse as nyse_holidays

from shared.clock import Clock, WallClock
from shared.logger_service import kv

logger = logging.getLogger(__name__)

NY = ZoneInfo("America/New_York")

Venue = Literal["nyse", "index_options", "equity_options"]
VENUES: tuple[Venue, ...] = ("nyse", "index_options", "equity_options")
_LIBRARY_CALENDARS: dict[Venue, str] = {
    "nyse": "NYSE",
    "index_options": "CBOE_Index_Options",
    "equity_options": "CBOE_Equity_Options",
}

# Last year whose library schedule was checked against NYSE's published holiday and early-close
# calendar (reference/libraries.md A1: 2026-2027). The library extrapolates its rules to any year
# but cannot know future one-off closures or rule changes; bump this after re-checking.
VERIFIED_THROUGH_YEAR = 2027
HORIZON_WARNING_DAYS = 60
# Years the library's NYSE rules describe (it starts in 1885); outside them answers are fiction.
MIN_YEAR, MAX_YEAR = 1900, 2200

# Longest modern NYSE closure is 4 weekdays (2001-09-11); a year bounds every search loop.
_MAX_SEARCH_DAYS = 370

# The library's rule names, as operators say them. Fixed-date holidays carry their nominal
# (month, day) so an observed date (e.g. 2026-07-03 for July 4) is labelled "(observed)".
_HOLIDAY_DISPLAY: dict[str, tuple[str, tuple[int, int] | None]] = {
    "New Years Day": ("New Year's Day", (1, 1)),
    "Dr. Martin Luther King Jr. Day": ("Martin Luther King Jr. Day", None),
    "Presidents Day": ("Washington's Birthday (Presidents' Day)", None),
    "Good Friday 1908+": ("Good Friday", None),
    "Memorial Day": ("Memorial Day", None),
    "Juneteenth Starting at 2022": ("Juneteenth", (6, 19)),
    "July 4th": ("Independence Day", (7, 4)),
    "Labor Day": ("Labor Day", None),
    "Thanksgiving": ("Thanksgiving Day", None),
    "Christmas": ("Christmas", (12, 25)),
}
_MOURNING_WORDS = {"Death", "Mourning", "Funeral"}


@dataclass(frozen=True)
class TradingSession:
    """One venue's regular session on one day; open and close are tz-aware America/New_York."""

    day: date
    open: datetime
    close: datetime
    early_close: bool  # True when the close is earlier than the venue's regular close that day


# ----------------------------------------------------------------------------- schedules


@functools.cache
def _calendar(venue: Venue) -> Any:
    if venue not in _LIBRARY_CALENDARS:
        raise ValueError(f"unknown venue {venue!r}; expected one of {', '.join(VENUES)}")
    return mcal.get_calendar(_LIBRARY_CALENDARS[venue])


def _regular_close(venue: Venue, day: date) -> datetime:
    """The venue's regular (not early) close on `day`, America/New_York.

    Read from the library's `regular_market_times` table of (start date or None, time) rows;
    `close_time_on()` would return the special (early) close instead.
    """
    cal = _calendar(venue)
    close_time = None
    for row in cal.regular_market_times["market_close"]:
        since, at = row[0], row[1]
        if since is None or date.fromisoformat(str(since)) <= day:
            close_time = at
    if close_time is None:
        raise LookupError(f"{venue} has no regular close time for {day}")
    return datetime.combine(day, close_time, tzinfo=cal.tz).astimezone(NY)


def _library_sessions(venue: Venue, year: int) -> dict[date, TradingSession]:
    schedule = _calendar(venue).schedule(start_date=date(year, 1, 1), end_date=date(year, 12, 31))
    sessions: dict[date, TradingSession] = {}
    for stamp, row in schedule.iterrows():
        day = pd.Timestamp(stamp).date()
        opens = pd.Timestamp(row["market_open"]).to_pydatetime().astimezone(NY)
        closes = pd.Timestamp(row["market_close"]).to_pydatetime().astimezone(NY)
        early = closes < _regular_close(venue, day)
        sessions[day] = TradingSession(day=day, open=opens, close=closes, early_close=early)
    return sessions


@functools.cache
def _year_sessions(venue: Venue, year: int) -> Mapping[date, TradingSession]:
    """Every session of `venue` in `year`, keyed by New York date (computed once per process).

    Raises ValueError for a year outside MIN_YEAR..MAX_YEAR.
    """
    if not MIN_YEAR <= year <= MAX_YEAR:
        raise ValueError(f"year {year} is outside the supported range {MIN_YEAR}-{MAX_YEAR}")
    if venue == "nyse":
        if year > VERIFIED_THROUGH_YEAR:
            logger.warning(kv(
                "market_hours_unverified_year", year=year, verified_through=VERIFIED_THROUGH_YEAR
            ))
        return MappingProxyType(_library_sessions("nyse", year))
    nyse = _year_sessions("nyse", year)
    aligned: dict[date, TradingSession] = {}
    for day, own in _library_sessions(venue, year).items():
        stock = nyse.get(day)
        if stock is None:
            continue  # closed on NYSE: treat the option venue as closed too (safe side)
        regular = _regular_close(venue, day)
        close = own.close
        if stock.early_close:
            offset = regular - _regular_close("nyse", day)
            close = min(close, stock.close + offset)
        aligned[day] = TradingSession(
            day=day, open=own.open, close=close, early_close=close < regular
        )
    return MappingProxyType(aligned)


def _require_aware(at: datetime, what: str) -> None:
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError(f"{what} needs a timezone-aware datetime, got naive {at.isoformat()}")


# ----------------------------------------------------------------------------- public API


def session(day: date, venue: Venue = "nyse") -> TradingSession | None:
    """The regular session of `venue` on New York calendar `day`; None when it does not trade.

    Raises ValueError for an unknown venue or a year outside MIN_YEAR..MAX_YEAR.
    """
    return _year_sessions(venue, day.year).get(day)


def is_trading_day(day: date) -> bool:
    """True when NYSE has a session (full or early close) on `day`."""
    return session(day) is not None


def is_market_open(at: datetime, venue: Venue = "nyse") -> bool:
    """True when `at` falls in the venue's session (open inclusive, close exclusive).

    Raises ValueError when `at` is naive.
    """
    _require_aware(at, "is_market_open")
    today = session(at.astimezone(NY).date(), venue)
    return today is not None and today.open <= at < today.close


def next_open(after: datetime, venue: Venue = "nyse") -> datetime:
    """The first session open strictly after `after`, tz-aware America/New_York.

    Raises ValueError when `after` is naive, LookupError when no open is found within a year.
    """
    _require_aware(after, "next_open")
    start = after.astimezone(NY).date()
    for offset in range(_MAX_SEARCH_DAYS):
        candidate = session(start + timedelta(days=offset), venue)
        if candidate is not None and candidate.open > after:
            return candidate.open
    raise LookupError(f"no {venue} session opens within {_MAX_SEARCH_DAYS} days after {after}")


def previous_session(day: date, venue: Venue = "nyse") -> TradingSession:
    """The nearest session strictly before `day`. Raises LookupError if none within a year."""
    return _nearest_session(day, -1, venue)


def next_session(day: date, venue: Venue = "nyse") -> TradingSession:
    """The nearest session strictly after `day`. Raises LookupError if none within a year."""
    return _nearest_session(day, 1, venue)


def _nearest_session(day: date, step: int, venue: Venue) -> TradingSession:
    for offset in range(1, _MAX_SEARCH_DAYS):
        found = session(day + timedelta(days=step * offset), venue)
        if found is not None:
            return found
    raise LookupError(f"no {venue} session within {_MAX_SEARCH_DAYS} days of {day}")


def trading_days_between(start: date, end: date) -> list[date]:
    """NYSE trading days from `start` to `end`, both inclusive, ascending; [] when start > end."""
    days: list[date] = []
    for year in range(start.year, end.year + 1):
        days.extend(d for d in sorted(_year_sessions("nyse", year)) if start <= d <= end)
    return days


def holiday_name(day: date) -> str | None:
    """Why NYSE is closed on `day` (e.g. "Thanksgiving Day", "Independence Day (observed)").

    None on trading days and on plain weekends. A weekday closure the library lists without a
    name is reported as "NYSE closed".
    """
    if is_trading_day(day):
        return None
    return _year_holiday_names(day.year).get(day)


@functools.cache
def _year_holiday_names(year: int) -> Mapping[date, str]:
    cal = _calendar("nyse")
    names: dict[date, str] = {}
    regular = cal.regular_holidays.holidays(
        start=pd.Timestamp(year, 1, 1), end=pd.Timestamp(year, 12, 31), return_name=True
    )
    for stamp, raw in regular.items():
        day = pd.Timestamp(stamp).date()
        names[day] = _display_holiday(str(raw), day)
    for day, name in _adhoc_holiday_names().items():
        if day.year == year:
            names.setdefault(day, name)
    sessions = _year_sessions("nyse", year)
    day = date(year, 1, 1)
    while day.year == year:
        if day.weekday() < 5 and day not in sessions:
            names.setdefault(day, "NYSE closed")
        day += timedelta(days=1)
    return MappingProxyType(names)


def _display_holiday(raw: str, day: date) -> str:
    display, nominal = _HOLIDAY_DISPLAY.get(raw, (raw, None))
    if nominal is not None and (day.month, day.day) != nominal:
        return f"{display} (observed)"
    return display


@functools.cache
def _adhoc_holiday_names() -> Mapping[date, str]:
    """Names of NYSE's one-off closures, taken from the library's own variable names.

    The library lists ad-hoc closures without names, but defines each in
    `pandas_market_calendars.holidays.nyse` as a named list (e.g. `JimmyCarterDeath2025`).
    When a date is in several lists, the shortest (most specific) list names it.
    """
    adhoc = {pd.Timestamp(stamp).date() for stamp in _calendar("nyse").adhoc_holidays}
    best: dict[date, tuple[int, str]] = {}
    for attr, value in vars(nyse_holidays).items():
        if not isinstance(value, list | pd.DatetimeIndex) or len(value) == 0:
            continue
        if not all(isinstance(item, pd.Timestamp) for item in value):
            continue
        for stamp in value:
            day = stamp.date()
            if day in adhoc and (day not in best or len(value) < best[day][0]):
                best[day] = (len(value), _humanize(attr))
    return MappingProxyType({day: name for day, (_, name) in best.items()})


def _humanize(identifier: str) -> str:
    """`JimmyCarterDeath2025` -> "National day of mourning for Jimmy Carter"."""
    spaced = re.sub(
        r"(?<=[a-z])(?=[A-Z0-9])|(?<=[A-Z])(?=[A-Z][a-z])|(?<=[0-9])(?=[A-Za-z])", " ", identifier
    )
    words = [w for w in spaced.split() if not w.isdigit() and w.lower() != "adhoc"]
    if len(words) > 1 and words[-1] in _MOURNING_WORDS:
        return "National day of mourning for " + " ".join(words[:-1])
    return " ".join(words) or identifier


# ----------------------------------------------------------------------------- horizon


def known_horizon(*, clock: Clock | None = None) -> date:
    """The last NYSE session of VERIFIED_THROUGH_YEAR, the last year trusted for planning.

    Logs a WARNING `market_hours_horizon_near` when it is fewer than HORIZON_WARNING_DAYS
    days after today (New York date from `clock`, default the wall clock).
    """
    today = (clock or WallClock()).now().astimezone(NY).date()
    horizon = max(_year_sessions("nyse", VERIFIED_THROUGH_YEAR))
    days_left = (horizon - today).days
    if days_left < HORIZON_WARNING_DAYS:
        logger.warning(kv(
            "market_hours_horizon_near",
            horizon=horizon.isoformat(),
            days_left=days_left,
            today=today.isoformat(),
            verified_through=VERIFIED_THROUGH_YEAR,
        ))
    return horizon


# ----------------------------------------------------------------------------- sleeping


def sleep_seconds_until_open(
    now: datetime, lead: timedelta = timedelta(minutes=5), *, venue: Venue = "nyse"
) -> float:
    """Seconds from `now` until `lead` before the next open; 0.0 when open or within `lead`.

    Raises ValueError when `now` is naive or `lead` is negative.
    """
    _require_aware(now, "sleep_seconds_until_open")
    if lead < timedelta(0):
        raise ValueError(f"lead must not be negative, got {lead}")
    if is_market_open(now, venue):
        return 0.0
    wake = next_open(now, venue) - lead
    return max(0.0, (wake - now).total_seconds())


def sleep_until_open(
    clock: Clock,
    lead: timedelta = timedelta(minutes=5),
    *,
    venue: Venue = "nyse",
    max_chunk: timedelta = timedelta(minutes=5),
    on_chunk: Callable[[], None] | None = None,
) -> None:
    """Sleep via `clock` until `lead` before the next open; returns at once when already there.

    Sleeps in chunks of at most `max_chunk`, recomputing the remaining time after each, so a
    clock jump (VM suspend, NTP step) cannot make it oversleep by more than one chunk;
    `on_chunk` runs after every chunk (watchdog ping, heartbeat).
    """
    if max_chunk <= timedelta(0):
        raise ValueError(f"max_chunk must be positive, got {max_chunk}")
    remaining = sleep_seconds_until_open(clock.now(), lead, venue=venue)
    if remaining <= 0:
        return
    logger.info(kv(
        "market_closed_sleep",
        venue=venue,
        seconds=remaining,
        wake_at=(clock.now() + timedelta(seconds=remaining)).astimezone(NY).isoformat(),
    ))
    chunk_seconds = max_chunk.total_seconds()
    while remaining > 0:
        clock.sleep(min(remaining, chunk_seconds))
        if on_chunk is not None:
            on_chunk()
        remaining = sleep_seconds_until_open(clock.now(), lead, venue=venue)
