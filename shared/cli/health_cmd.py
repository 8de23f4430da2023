"""`calypso health [--json] [--bot BOT]`: every health check; exit 0 only when all pass.

Per bot: service running, log fresh (during market hours), memory under 1 GiB, journal
writable, no recent ERROR lines. Machine: 5 GiB free disk, token cache fresh, market-hours and
event-calendar data reaching 60 days ahead. Run by `calypso-health.timer` every 15 minutes: a
failing run leaves the unit failed and logs one `health_summary` WARNING line to journald.
Exit 0 all passed, 1 some check failed, 2 bad argument.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable, Sequence
from typing import Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

from shared import paths
from shared.clock import Clock, WallClock
from shared.health.probes import SystemProbes, default_probes
from shared.health.runner import run_health
from shared.health.service import selected_bots
from shared.health.verdict import Verdict, all_ok, report_json
from shared.logger_service import configure_logging, running_under_systemd

EXIT_UNHEALTHY = 1
EXIT_USAGE = 2

# The process boundary, swapped by tests: the clock and the system probes.
_CLOCK: Clock = WallClock()
_PROBES: Callable[[], SystemProbes] = default_probes


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "health",
        help="service, log, memory, disk, token, journal and calendar checks (exit 0 = healthy)",
        description=(
            "Run every health check and print a table (or --json). Exit 0 only when all pass, "
            "1 when any fails. Reads only: nothing is written to a bot's files."
        ),
    )
    parser.add_argument(
        "--bot",
        action="append",
        metavar="BOT",
        help=f"only this bot (repeatable; default $CALYPSO_BOTS, else all: "
        f"{', '.join(paths.BOT_NAMES)})",
    )
    parser.add_argument(
        "--json", action="store_true", help='print {"ok": bool, "checks": [...]} to stdout'
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    try:
        bots = selected_bots(args.bot, os.environ)
    except ValueError as exc:
        sys.stderr.write(f"calypso health: {exc}\n")
        return EXIT_USAGE
    if running_under_systemd():
        # Under the timer the summary line goes to journald with its priority.
        configure_logging(None, level="INFO", log_to_file=False)
    home = paths.calypso_home()
    verdicts = run_health(home=home, bots=bots, clock=_CLOCK, probes=_PROBES())
    if args.json:
        sys.stdout.write(json.dumps(report_json(verdicts), indent=2) + "\n")
    else:
        _print_table(verdicts, str(home))
    return 0 if all_ok(verdicts) else EXIT_UNHEALTHY


def _outcome(verdict: Verdict) -> Text:
    if not verdict.ok:
        return Text("FAIL", style="bold red")
    return Text("WARN", style="bold yellow") if verdict.warning else Text("PASS", style="green")


def _print_table(verdicts: Sequence[Verdict], home: str) -> None:
    healthy = all_ok(verdicts)
    table = Table(title=f"CALYPSO health ({home})")
    table.add_column("check", no_wrap=True)
    table.add_column("bot", no_wrap=True)
    table.add_column("ok", no_wrap=True)
    table.add_column("reason")
    for verdict in verdicts:
        table.add_row(
            verdict.name,
            verdict.bot or "-",
            _outcome(verdict),
            verdict.reason,
        )
    console = Console(width=None if sys.stdout.isatty() else 160)
    console.print(table)
    failed = sum(1 for verdict in verdicts if not verdict.ok)
    summary = "healthy" if healthy else f"UNHEALTHY: {failed} of {len(verdicts)} checks failed"
    console.print(summary, style="green" if healthy else "bold red", highlight=False)
