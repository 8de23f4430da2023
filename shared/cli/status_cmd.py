"""`calypso status [--json] [--bot BOT]`: every bot's service, state, open position, today's P&L,
and the event data (kinds without data today, how far each is covered).

The service state comes from `systemctl show` when the unit is installed, else from the bot's
single-instance lock. Everything else is read from the bot's journal (read-only). Today is the
America/New_York date; P&L is realized P&L of trades closed today, computed from their fills.
Exit 0 (also when bots are stopped or have no journal yet); 1 when a journal is there but
cannot be read (empty, corrupt, a directory: the table names the problem); 2 for a bad argument.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

from shared import paths
from shared.clock import Clock, WallClock
from shared.event_calendar import ASSUMED_WHEN_UNCOVERED, EVENT_KINDS, EventCalendar
from shared.health.journal_view import NEW_YORK, JournalView, net_legs, read_journal
from shared.health.probes import SystemProbes, default_probes
from shared.health.service import ServiceState, selected_bots, service_state
from shared.journal.codec import cents

EXIT_UNREADABLE_JOURNAL, EXIT_USAGE = 1, 2

# The process boundary, swapped by tests: the clock for "today" and the system probes.
_CLOCK: Clock = WallClock()
_PROBES: Callable[[], SystemProbes] = default_probes


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "status",
        help="every bot: service state, bot state, open position, today's P&L",
        description=(
            "Show each bot's service state (systemd, or its lock when not installed as a unit), "
            "its state from the journal, its open position and today's realized P&L "
            "(America/New_York date, from fills). Reads only."
        ),
    )
    parser.add_argument(
        "--bot",
        action="append",
        metavar="BOT",
        help=f"only this bot (repeatable; default $CALYPSO_BOTS, else all: "
        f"{', '.join(paths.BOT_NAMES)})",
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object to stdout")
    parser.set_defaults(func=run)


def collect(
    bots: Sequence[str], *, home: Path, clock: Clock, probes: SystemProbes
) -> list[tuple[ServiceState, JournalView]]:
    """(service state, journal view) per bot; never raises for a stopped bot or no journal."""
    now = clock.now()
    return [
        (service_state(bot, home=home, probe=probes.service), read_journal(bot, home=home, now=now))
        for bot in bots
    ]


def status_json(
    rows: Sequence[tuple[ServiceState, JournalView]],
    now: datetime,
    calendar: EventCalendar | None = None,
) -> dict[str, Any]:
    """The `--json` document: {"now", "date_new_york", "event_data", "bots": [...]}."""
    return {
        "now": now.isoformat(),
        "date_new_york": now.astimezone(NEW_YORK).date().isoformat(),
        "event_data": event_data(calendar or EventCalendar(), now),
        "bots": [
            {"bot": service.bot, "service": service.to_json(), **view.to_json()}
            for service, view in rows
        ],
    }


def event_data(calendar: EventCalendar, now: datetime) -> dict[str, Any]:
    """Today's (New York) event-data facts: kinds without data today (`no_data_today`; of
    them, `assumed_event_today` make the bots stand aside), the last day each kind is covered
    without a gap, and the overlay's problem if it cannot be used."""
    today = now.astimezone(NEW_YORK).date()
    missing = [kind for kind in EVENT_KINDS if not calendar.covers(today, kind)]
    ends = {kind: calendar.covered_through(kind, today) for kind in EVENT_KINDS}
    return {
        "no_data_today": missing,
        "assumed_event_today": [k for k in missing if k in ASSUMED_WHEN_UNCOVERED],
        "covered_through": {k: None if end is None else end.isoformat() for k, end in ends.items()},
        "overlay": None if calendar.overlay_file is None else str(calendar.overlay_file),
        "overlay_problem": calendar.overlay_problem,
    }


def run(args: argparse.Namespace) -> int:
    try:
        bots = selected_bots(args.bot, os.environ)
    except ValueError as exc:
        sys.stderr.write(f"calypso status: {exc}\n")
        return EXIT_USAGE
    home = paths.calypso_home()
    now = _CLOCK.now()
    rows = collect(bots, home=home, clock=_CLOCK, probes=_PROBES())
    calendar = EventCalendar()
    if args.json:
        sys.stdout.write(json.dumps(status_json(rows, now, calendar), indent=2) + "\n")
    else:
        _print_table(rows, now, home)
        _print_event_data(event_data(calendar, now))
    unreadable = [view for _, view in rows if view.unreadable]
    for view in unreadable:
        sys.stderr.write(f"calypso status: {view.bot}: {view.problem}\n")
    return EXIT_UNREADABLE_JOURNAL if unreadable else 0


def _print_event_data(facts: dict[str, Any]) -> None:
    console = Console(width=None if sys.stdout.isatty() else 160)
    if facts["overlay_problem"]:
        console.print(f"event data: {facts['overlay_problem']}", style="bold red")
    if facts["no_data_today"]:
        line = f"event data: NO {', '.join(facts['no_data_today'])} data for today"
        if facts["assumed_event_today"]:
            line += f" ({', '.join(facts['assumed_event_today'])} assumed: no entries)"
        console.print(line + ": run `calypso calendar update`", style="bold red")
        return
    first = min(end for end in facts["covered_through"].values() if end is not None)
    console.print(f"event data: every kind covered through at least {first}", style="green")


def _service_text(service: ServiceState) -> Text:
    pid = f" pid {service.pid}" if service.pid is not None and service.source == "systemd" else ""
    style = "green" if service.running else "red"
    return Text(f"{service.state}{pid}\n[{service.source}]", style=style)


def _state_text(view: JournalView) -> str:
    if view.problem is not None:
        return view.problem
    if view.state is None:
        return "no state saved yet"
    since = view.state.updated_at.astimezone(NEW_YORK).strftime("%m-%d %H:%M")
    return f"{view.state.state}\n(since {since} ET)"


def _position_text(view: JournalView) -> str:
    if view.problem is not None:
        return ""
    lines: list[str] = []
    for trade in view.open_trades:
        legs = ", ".join(f"{leg} {qty:+d}" for leg, qty in net_legs(trade).items()) or "no fills"
        label = f" {trade.label}" if trade.label else ""
        lines.append(
            f"#{trade.trade_id}{label} x{trade.quantity}: {legs}; "
            f"net ${cents(trade.net_cash_usd):,.2f}"
        )
    if view.positions_taken_at is not None:
        seen = view.positions_taken_at.astimezone(NEW_YORK).strftime("%m-%d %H:%M")
        lines.append(f"broker: {len(view.positions)} position(s) at {seen} ET")
    return "\n".join(lines) or "flat"


def _pnl_text(view: JournalView) -> Text:
    if view.today_pnl is None:
        return Text("")
    pnl = view.today_pnl
    style = "green" if pnl.realized_pnl_usd > 0 else "red" if pnl.realized_pnl_usd < 0 else ""
    return Text(f"${cents(pnl.realized_pnl_usd):,.2f}\n({pnl.trades_closed} closed)", style=style)


def _print_table(
    rows: Sequence[tuple[ServiceState, JournalView]], now: datetime, home: Path
) -> None:
    today = now.astimezone(NEW_YORK)
    table = Table(title=f"CALYPSO status {today:%Y-%m-%d %H:%M} ET ({home})", show_lines=True)
    table.add_column("bot", no_wrap=True)
    table.add_column("service")
    table.add_column("bot state")
    table.add_column("open position")
    table.add_column(f"P&L {today:%Y-%m-%d}", justify="right")
    for service, view in rows:
        table.add_row(
            service.bot,
            _service_text(service),
            _state_text(view),
            _position_text(view),
            _pnl_text(view),
        )
    Console(width=None if sys.stdout.isatty() else 160).print(table)
