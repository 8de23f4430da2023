"""`calypso calendar DATE [--json]`: the session, holiday and market events of one day; and
`calypso calendar import|update|coverage` (see `shared.cli.calendar_data_cmd`)."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import date, timedelta
from typing import Any

from rich.console import Console
from rich.table import Table

from shared import market_hours
from shared.cli import calendar_data_cmd
from shared.clock import Clock, WallClock
from shared.event_calendar import EVENT_KINDS, EventCalendar

# The clock that turns `today`/`tomorrow` into a New York date; tests swap it.
_CLOCK: Clock = WallClock()
DAY_ACTION = "day"
ACTIONS = (DAY_ACTION, "import", "update", "coverage")


def register(subparsers: Any) -> None:
    """Add the `calendar` subcommand; its actions are parsed by `actions_parser`."""
    parser = subparsers.add_parser(
        "calendar",
        help="one day's session and events; import, update and coverage of the event data",
        description=(
            "calypso calendar DATE [--json]: whether DATE is a trading day, its NYSE open and "
            "close (America/New_York), early close, holiday name, and scheduled events (FOMC, "
            "CPI, PPI, payrolls, megacap earnings). "
            "calypso calendar import|update|coverage ...: the operator's event dates in "
            "CALYPSO_HOME/data/events_local.json (`calypso calendar ACTION -h` for each)."
        ),
        usage="calypso calendar {DATE [--json] | import | update | coverage} ...",
    )
    parser.add_argument("words", nargs=argparse.REMAINDER, metavar="DATE|ACTION ...")
    parser.set_defaults(func=dispatch)


def actions_parser() -> argparse.ArgumentParser:
    """The parser of `calypso calendar`'s words: `day DATE` (implied) or another action."""
    parser = argparse.ArgumentParser(prog="calypso calendar")
    actions = parser.add_subparsers(dest="calendar_action", metavar="ACTION", required=True)
    day = actions.add_parser(DAY_ACTION, help="one day's session and events (the default)")
    day.add_argument(
        "date", metavar="DATE", help="YYYY-MM-DD, or today / tomorrow (America/New_York)"
    )
    day.add_argument("--json", action="store_true", help="print one JSON object to stdout")
    day.set_defaults(func=run)
    calendar_data_cmd.register(actions)
    return parser


def dispatch(args: argparse.Namespace) -> int:
    """`calypso calendar WORDS`: a first word that is no action means `day DATE`."""
    words: list[str] = list(args.words)
    if words and words[0] not in ACTIONS and words[0] not in ("-h", "--help"):
        words.insert(0, DAY_ACTION)
    inner = actions_parser().parse_args(words)
    code: int = inner.func(inner)
    return code


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
        calendar = EventCalendar()
        report = day_report(day, calendar)
    except ValueError as exc:
        print(f"calypso calendar: error: {exc}", file=sys.stderr)
        return 2
    if calendar.overlay_problem:
        print(f"calypso calendar: warning: {calendar.overlay_problem}", file=sys.stderr)
    if args.json:
        print(json.dumps(report))
    else:
        _print_table(report)
    return 0
