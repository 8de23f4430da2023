"""`calypso demo [--seed N] [--days N] [--speed X] [--bots A,B] [--json]`: the product's front
door. Starts the local Saxo simulator in-process, runs every implemented bot (or those named by
--bots) as its own process in `local` mode on the simulator's accelerated clock, shows a live
status table (plain progress lines when stdout is not a terminal) and ends with a summary per
bot read from the journals; bots that hold overnight are stopped with their positions open.

Journals and logs go under CALYPSO_HOME (`calypso journal BOT` reads the demo's trades). The
defaults (seed 20, Thursday 2026-03-19, the day after an FOMC decision) give a day on which
every bot's entry gates pass (docs/DEMO.md): no FOMC/CPI/PPI/NFP or megacap earnings, no early
close, VIX near 16, QQQ above its 9 EMA; the iron fly enters at 10:00 ET and exits the same
morning, Delta Neutral and the Put Diagonal open their positions after the open delay. On the
warm-up session before it (the FOMC decision day) their FOMC gates keep them out.
Exit codes: 0 every bot ran and stopped cleanly; 1 a bot process died; 2 bad arguments, no
runnable bot, or a CALYPSO_HOME holding journals the demo did not create; 130 interrupted.
"""

from __future__ import annotations

import argparse
import json
import logging
import signal
import sys
import threading
from dataclasses import replace
from datetime import datetime
from types import FrameType
from typing import Any
from zoneinfo import ZoneInfo

from rich.console import Console

from shared import paths
from shared.cli.arg_types import datetime_or_day_at, float_in, int_in
from shared.demo.catalog import BotAvailability, probe_all
from shared.demo.display import LiveReporter, PlainReporter, Reporter
from shared.demo.home import DemoHome, DemoHomeError
from shared.demo.orchestrator import DemoOptions, DemoRun
from shared.demo.summary import render

logger = logging.getLogger(__name__)

NEW_YORK = ZoneInfo("America/New_York")
DEFAULT_SEED = 20
# Thursday 2026-03-19, 5 minutes before the open: every bot enters (see the module docstring).
DEFAULT_START = datetime(2026, 3, 19, 9, 25, tzinfo=NEW_YORK)
DEFAULT_SPEED = 40.0
EXIT_OK, EXIT_DIED, EXIT_USAGE, EXIT_HOME, EXIT_INTERRUPTED = 0, 1, 2, 4, 130


def _bot_list(raw: str) -> tuple[str, ...]:
    bots = tuple(dict.fromkeys(name.strip() for name in raw.split(",") if name.strip()))
    unknown = [bot for bot in bots if bot not in paths.BOT_NAMES]
    if not bots or unknown:
        raise argparse.ArgumentTypeError(
            f"unknown bot(s) {', '.join(unknown) or raw!r}; valid: {', '.join(paths.BOT_NAMES)}"
        )
    return bots


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "demo",
        help="simulator + every implemented bot as a process, live table, summary",
        description=(
            "Run the local Saxo simulator in-process and every implemented bot (or those "
            "named by --bots) as its own process against it on an accelerated clock; show a "
            "live status table and a summary per bot. Bots that hold overnight run every day "
            "but the last to the close and end the last one holding their positions. "
            "Journals and logs go under CALYPSO_HOME."
        ),
    )
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED,
                        help=f"market seed (default {DEFAULT_SEED})")  # fmt: skip
    parser.add_argument("--days", type=int_in(1, 30, what="whole number of days"), default=1,
                        help="trading days to simulate (default 1)")  # fmt: skip
    parser.add_argument(
        "--speed", type=float_in(0, 1000), default=DEFAULT_SPEED,
        help=f"simulated seconds per real second (default {DEFAULT_SPEED:g})",
    )  # fmt: skip
    parser.add_argument(
        "--bots", type=_bot_list, default=None, metavar="BOT[,BOT]",
        help="which bots (default: every implemented bot)",
    )  # fmt: skip
    parser.add_argument(
        "--start", type=datetime_or_day_at(DEFAULT_START.time(), NEW_YORK), default=DEFAULT_START,
        help="simulated start, ISO-8601 with offset, or a date for 09:25 ET that day "
             f"(default {DEFAULT_START.isoformat()})",
    )  # fmt: skip
    parser.add_argument("--json", action="store_true",
                        help="progress on stderr, the summary as JSON on stdout")  # fmt: skip
    parser.set_defaults(func=handle)


def _error(message: str) -> int:
    sys.stderr.write(f"calypso demo: {message}\n")
    return EXIT_USAGE


def _select_bots(
    requested: tuple[str, ...] | None,
) -> tuple[tuple[str, ...], frozenset[str], dict[str, str]]:
    """(bots to run, those of them holding overnight, {bot: why not} for the others).
    Requested bots must be implemented."""
    availability = {a.bot: a for a in probe_all()}
    if requested is None:
        chosen = tuple(bot for bot, a in availability.items() if a.implemented)
    else:
        chosen = requested
        broken = [f"{bot}: {availability[bot].reason}" for bot in requested
                  if not availability[bot].implemented]  # fmt: skip
        if broken:
            raise ValueError("cannot run " + "; ".join(broken))
    holding = frozenset(bot for bot in chosen if availability[bot].holds_overnight)
    skipped = {bot: _why_not(a) for bot, a in availability.items() if bot not in chosen}
    return chosen, holding, skipped


def _why_not(availability: BotAvailability) -> str:
    if availability.implemented:
        return f"not asked for (add it with --bots {availability.bot})"
    return availability.reason


def _file_logging(home: DemoHome) -> logging.Handler:
    """The demo's and the simulator's log lines go to a file, never over the live table."""
    home.demo_log.parent.mkdir(parents=True, exist_ok=True)
    handler = logging.FileHandler(home.demo_log, encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    return handler


def handle(args: argparse.Namespace) -> int:
    try:
        bots, holding, skipped = _select_bots(args.bots)
    except ValueError as exc:
        return _error(str(exc))
    if not bots:
        reasons = "; ".join(f"{bot}: {why}" for bot, why in skipped.items())
        return _error(f"no bot has an implemented strategy yet ({reasons})")
    home = DemoHome(paths.calypso_home())
    try:
        for bot in (*bots, "demo"):
            paths.prepare_home(bot, home.root)
    except paths.HomeDirError as exc:
        sys.stderr.write(f"calypso demo: {exc}\n")
        return EXIT_HOME
    out = sys.stderr if args.json else sys.stdout
    console = Console(file=out, width=None if out.isatty() else 160)
    reporter: Reporter = LiveReporter(console) if out.isatty() else PlainReporter(out)
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signals = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)  # a closed terminal stops cleanly too
    previous = {sig: signal.signal(sig, on_signal) for sig in signals}
    handler = _file_logging(home)
    options = DemoOptions(seed=args.seed, days=args.days, speed=args.speed, bots=bots,
                          start=args.start, holding=holding)  # fmt: skip
    try:
        summary = DemoRun(options, home=home, reporter=reporter, stop=stop).run()
    except DemoHomeError as exc:
        return _error(str(exc))
    except OSError as exc:
        return _error(f"cannot start the simulator: {exc}")
    finally:
        reporter.close()
        logging.getLogger().removeHandler(handler)
        handler.close()
        for sig, old in previous.items():
            signal.signal(sig, old)
    summary = replace(summary, skipped=skipped)
    if args.json:
        sys.stdout.write(json.dumps(summary.to_json(), indent=2) + "\n")
    else:
        render(summary, console)
    if summary.any_died:
        return EXIT_DIED
    return EXIT_INTERRUPTED if summary.interrupted else EXIT_OK
