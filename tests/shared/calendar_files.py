"""Schedule files for the calendar import tests: a BLS-shaped iCalendar feed and CSVs.

The 2027 dates are test data in the BLS feed's shape (weekday trading days), not BLS facts.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime

from shared.event_overlay import Overlay, OverlayDay, OverlayYear

CPI_2027 = tuple(
    date.fromisoformat(d)
    for d in (
        "2027-01-13", "2027-02-10", "2027-03-10", "2027-04-13", "2027-05-12", "2027-06-10",
        "2027-07-14", "2027-08-11", "2027-09-14", "2027-10-13", "2027-11-10", "2027-12-10",
    )
)  # fmt: skip
PPI_2027 = tuple(
    date.fromisoformat(d)
    for d in (
        "2027-01-15", "2027-02-16", "2027-03-15", "2027-04-15", "2027-05-17", "2027-06-15",
        "2027-07-15", "2027-08-16", "2027-09-15", "2027-10-15", "2027-11-15", "2027-12-15",
    )
)  # fmt: skip
# First Fridays that are trading days (2027-01-01 is New Year's Day: the 8th instead).
NFP_2027 = tuple(
    date.fromisoformat(d)
    for d in (
        "2027-01-08", "2027-02-05", "2027-03-05", "2027-04-02", "2027-05-07", "2027-06-04",
        "2027-07-02", "2027-08-06", "2027-09-03", "2027-10-01", "2027-11-05", "2027-12-03",
    )
)  # fmt: skip

_TIMEZONE = """BEGIN:VTIMEZONE
TZID:US-Eastern
BEGIN:DAYLIGHT
TZOFFSETFROM:-0500
TZOFFSETTO:-0400
DTSTART:20070311T020000
RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=2SU
TZNAME:EDT
END:DAYLIGHT
BEGIN:STANDARD
TZOFFSETFROM:-0400
TZOFFSETTO:-0500
DTSTART:20071104T020000
RRULE:FREQ=YEARLY;BYMONTH=11;BYDAY=1SU
TZNAME:EST
END:STANDARD
END:VTIMEZONE
"""


def timed_event(uid: str, day: date, summary: str, hhmm: str = "0830") -> str:
    return (
        f"BEGIN:VEVENT\nUID:{uid}\nDTSTART;TZID=US-Eastern:{day:%Y%m%d}T{hhmm}00\n"
        f"DURATION:PT0M\nSUMMARY:{summary}\nEND:VEVENT\n"
    )


def all_day_event(uid: str, first: date, end_exclusive: date, summary: str) -> str:
    return (
        f"BEGIN:VEVENT\nUID:{uid}\nDTSTART;VALUE=DATE:{first:%Y%m%d}\n"
        f"DTEND;VALUE=DATE:{end_exclusive:%Y%m%d}\nSUMMARY:{summary}\nEND:VEVENT\n"
    )


def ics(events: Iterable[str]) -> bytes:
    body = "".join(events)
    text = (
        "BEGIN:VCALENDAR\nPRODID:-//CALYPSO tests//EN\nVERSION:2.0\n"
        f"X-WR-CALNAME:Economic News Release Schedule\n{_TIMEZONE}{body}END:VCALENDAR\n"
    )
    return text.replace("\n", "\r\n").encode()


def bls_feed(*, with_2027: bool = True) -> bytes:
    """A BLS-shaped feed: a 2026 CPI, decoys (Real Earnings, Employment Situation of Veterans)
    and, when `with_2027`, the 2027 CPI, PPI and Employment Situation releases."""
    events = [
        timed_event("cpi-2026-12", date(2026, 12, 10), "Consumer Price Index"),
        timed_event("real-earnings", date(2027, 1, 13), "Real Earnings"),
        timed_event("veterans", date(2027, 3, 18), "Employment Situation of Veterans", "1000"),
    ]
    if with_2027:
        events += [timed_event(f"cpi-{d}", d, "Consumer Price Index") for d in CPI_2027]
        events += [timed_event(f"ppi-{d}", d, "Producer Price Index") for d in PPI_2027]
        events += [timed_event(f"nfp-{d}", d, "Employment Situation") for d in NFP_2027]
    return ics(events)


def csv_of(days: Iterable[date], header: str = "date,name") -> str:
    return header + "\n" + "".join(f"{d.isoformat()},\n" for d in days)


def macro_overlay_2027() -> Overlay:
    """An overlay with complete 2027 CPI, PPI and payrolls schedules (test dates)."""
    schedules = (("cpi", CPI_2027), ("ppi", PPI_2027), ("nfp", NFP_2027))
    return Overlay(
        entries=tuple(
            OverlayYear(
                kind=kind,
                year=2027,
                source="test",
                imported_at=datetime(2026, 12, 5, tzinfo=UTC),
                days=tuple(OverlayDay(date=d, name=kind) for d in days),
            )
            for kind, days in schedules
        )
    )
