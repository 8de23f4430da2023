"""`calypso calendar DATE [--json]`: the session, holiday and market events of one day."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import date, timedelta
from typing import Any

from rich.console import Console
from rich.table import Table

from shared import market_hours
from shared.clock import Clock, WallClock
from shared.event_calendar import EVENT_KINDS, EventCalendar

# The clock that turns `today`/`tomorrow` into a New York date; tests swap it.
_CLOCK: Clock = WallClock()


def register(subparsers: Any) -> None:
    """Add the `calendar` subcommand."""
    parser = subparsers.add_parser(
        "calendar",
        help="trading session, holiday and events (FOMC, CPI, ...) of one day",
        description=(
            "Show whether DATE is a trading day, its NYSE open and close (America/New_York), "
            "early close, holiday name, and scheduled events (FOMC, CPI, PPI, payrolls, "
            "approximate megacap earnings)."
        ),
    )
    parser.add_argument(
        "date", metavar="DATE", help="YYYY-MM-DD, or today / tomorrow (America/New_York)"
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object to stdout")
    parser.set_defaults(func=run)


def parse_day(text: str, clock: Clock) -> date:
    """YYYY-MM-DD, `today` or `tomorrow` (New York date from `clock`); ValueError otherwise."""
    word = text.strip().lower()
    today = clock.now().astimezone(market_hours.NY).date()
    if word == "today":
        return today
    if word == "tomorrow":
        return today + timedelta(days=1)
    try:
        return date.fromisoformat(word)
    except ValueError:
        raise ValueError(
            f"invalid DATE {text!r}: expected YYYY-MM-DD, 'today' or 'tomorrow'"
        ) from None


def day_report(day: date, calendar: EventCalendar) -> dict[str, Any]:
    """The facts about `day` as a JSON-ready dict (the `--json` output)."""
    nyse = market_hours.session(day)
    index_options = market_hours.session(day, "index_options")
    events = calendar.events_on(day)
    return {
        "date": day.isoformat(),
        "weekday": f"{day:%A}",
        "trading_day": nyse is not None,
        "open": nyse.open.isoformat() if nyse else None,
        "close": nyse.close.isoformat() if nyse else None,
        "early_close": bool(nyse and nyse.early_close),
        "index_options_close": index_options.close.isoformat() if index_options else None,
        "holiday": market_hours.holiday_name(day),
        "events": [
            {
                "kind": e.kind,
                "name": e.name,
                "approximate": e.approximate,
                "assumed": e.assumed,
                "symbol": e.symbol,
            }
            for e in events
        ],
        "uncovered_kinds": [k for k in EVENT_KINDS if not calendar.covers(day, k)],
    }


def _time(iso: str | None) -> str:
    return iso[11:16] if iso else "-"


def _print_table(report: dict[str, Any]) -> None:
    table = Table(title=f"{report['date']} ({report['weekday']})", show_header=False)
    table.add_column("field", style="bold")
    table.add_column("value")
    if report["trading_day"]:
        early = " [yellow](early close)[/yellow]" if report["early_close"] else ""
        table.add_row("trading day", "yes")
        table.add_row("NYSE (ET)", f"{_time(report['open'])}-{_time(report['close'])}{early}")
        table.add_row("index options close (ET)", _time(report["index_options_close"]))
    else:
        table.add_row("trading day", "[red]no[/red]")
        table.add_row("holiday", report["holiday"] or "weekend")
    lines = []
    for event in report["events"]:
        flag = " [dim](assumed: no data)[/dim]" if event["assumed"] else ""
        if event["approximate"] and not event["assumed"]:
            flag = " [dim](approximate)[/dim]"
        lines.append(f"{event['kind']}: {event['name']}{flag}")
    table.add_row("events", "\n".join(lines) or "none")
    if report["uncovered_kinds"]:
        table.add_row("no data for", ", ".join(report["uncovered_kinds"]))
    Console().print(table)


def run(args: argparse.Namespace) -> int:
    """Handler of `calypso calendar`; exit 0, or 2 on a bad DATE."""
    try:
        day = parse_day(args.date, _CLOCK)
        report = day_report(day, EventCalendar())
    except ValueError as exc:
        print(f"calypso calendar: error: {exc}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(report))
    else:
        _print_table(report)
    return 0
