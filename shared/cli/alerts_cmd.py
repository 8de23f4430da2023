"""`calypso alerts test|pending|notify-unit`: try the destinations, list undelivered alerts, and
alert for a systemd unit (what the units' ExecStopPost= and OnFailure= run)."""

from __future__ import annotations

import argparse
import json
import os
import sys
from typing import Any

from shared import paths
from shared.alerts.config import AlertsSection
from shared.alerts.model import Alert
from shared.alerts.operator import (
    notify_unit,
    owner_bot,
    pending_alerts,
    try_destinations,
    unit_alert,
)
from shared.clock import WallClock
from shared.config_loader import ConfigError, find_config_path, load_bot_config
from shared.journal import JournalError
from shared.market_hours import NY
from shared.secret_manager import default_secret_store

EXIT_FAILED = 1
EXIT_USAGE = 2


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "alerts", help="operator alerts", description="Alerts to Telegram, email, ... (apprise)."
    )
    commands = parser.add_subparsers(dest="alerts_command", metavar="SUBCOMMAND", required=True)
    test = commands.add_parser(
        "test",
        help="send a test alert to every configured destination",
        description="Send a test alert to every destination of BOT's config (default: every "
        "bot with alerts enabled) and say which succeeded. Exit 1 when any failed.",
    )
    test.add_argument("--bot", help=f"one of: {', '.join(paths.BOT_NAMES)}")
    test.set_defaults(func=run_test)
    pending = commands.add_parser(
        "pending",
        help="show undelivered alerts",
        description="List the alerts waiting in each bot's journal (oldest first).",
    )
    pending.add_argument("--bot", help=f"one of: {', '.join(paths.BOT_NAMES)}")
    pending.add_argument("--json", action="store_true", help="print JSON to stdout")
    pending.set_defaults(func=run_pending)
    unit = commands.add_parser(
        "notify-unit",
        help="alert for a systemd unit that stopped or failed (run by the units)",
        description="Queue and deliver an alert for UNIT. Without --failed, reads systemd's "
        "ExecStopPost variables (SERVICE_RESULT, EXIT_CODE, EXIT_STATUS) and stays silent for "
        "a clean stop; with --failed (OnFailure=), always alerts.",
    )
    unit.add_argument("unit", help="the unit name, e.g. iron_fly_0dte.service")
    unit.add_argument("--failed", action="store_true", help="the unit entered the failed state")
    unit.set_defaults(func=run_notify_unit)


def _bots(name: str | None, command: str) -> list[str] | None:
    if name is None:
        return list(paths.BOT_NAMES)
    if name not in paths.BOT_NAMES:
        sys.stderr.write(f"calypso alerts {command}: unknown bot {name!r}; "
                         f"valid bots: {', '.join(paths.BOT_NAMES)}\n")  # fmt: skip
        return None
    return [name]


def _sections(bots: list[str], command: str) -> dict[str, AlertsSection] | None:
    """Each bot's `alerts` section (file only: secrets are read per destination later)."""
    sections: dict[str, AlertsSection] = {}
    for bot in bots:
        try:
            sections[bot] = load_bot_config(bot, find_config_path(bot)).config.alerts
        except ConfigError as exc:
            sys.stderr.write(f"calypso alerts {command}: {exc}\n")
            return None
    return sections


def run_test(args: argparse.Namespace) -> int:
    bots = _bots(args.bot, "test")
    sections = None if bots is None else _sections(bots, "test")
    if sections is None:
        return EXIT_USAGE
    enabled = {bot: section for bot, section in sections.items() if section.enabled}
    if not enabled:
        sys.stderr.write("calypso alerts test: alerts are not enabled in any config "
                         "(set alerts.enabled and alerts.destinations)\n")  # fmt: skip
        return EXIT_FAILED
    store = default_secret_store()
    failed = False
    for bot, section in enabled.items():
        for check in try_destinations(section, store, source=bot, now=WallClock().now()):
            failed = failed or check.error is not None
            verdict = "delivered" if check.error is None else f"FAILED ({check.error})"
            sys.stdout.write(f"{bot}: {check.destination}: {verdict}\n")
    return EXIT_FAILED if failed else 0


def run_pending(args: argparse.Namespace) -> int:
    bots = _bots(args.bot, "pending")
    if bots is None:
        return EXIT_USAGE
    found: list[dict[str, Any]] = []
    problems = 0
    for bot in bots:
        journal_file = paths.journal_path(bot)
        if not journal_file.is_file():
            continue
        try:
            rows = pending_alerts(journal_file)
        except JournalError as exc:
            sys.stderr.write(f"calypso alerts pending: {bot}: {exc}\n")
            problems += 1
            continue
        for row in rows:
            payload = row.payload
            found.append({
                "bot": bot, "id": row.outbox_id,
                "created_at": row.created_at.astimezone(NY).isoformat(timespec="seconds"),
                "destination": payload.get("destination"), "severity": payload.get("severity"),
                "title": f"{payload.get('source')}: {payload.get('title')}",
                "attempts": row.attempts, "last_error": row.last_error,
            })  # fmt: skip
    if args.json:
        sys.stdout.write(json.dumps({"pending": found}, indent=2) + "\n")
    elif not found:
        sys.stdout.write("no undelivered alerts\n")
    else:
        for item in found:
            error = f" last_error={item['last_error']}" if item["last_error"] else ""
            sys.stdout.write(
                f"{item['bot']} #{item['id']} {item['created_at']} -> {item['destination']} "
                f"[{item['severity']}] {item['title']} attempts={item['attempts']}{error}\n"
            )
    return EXIT_FAILED if problems else 0


def run_notify_unit(args: argparse.Namespace) -> int:
    unit = args.unit if args.unit.endswith(".service") else f"{args.unit}.service"
    alert: Alert | None = unit_alert(unit, failed=args.failed, env=os.environ,
                                     now=WallClock().now())  # fmt: skip
    if alert is None:
        sys.stdout.write(f"{unit}: clean stop, no alert\n")
        return 0
    sections = _sections(list(paths.BOT_NAMES), "notify-unit")
    if sections is None:
        return EXIT_USAGE
    owner = owner_bot(unit, sections)
    if owner is None:
        sys.stderr.write(f"calypso alerts notify-unit: no bot config enables alerts; "
                         f"{unit}: {alert.title} (not sent)\n")  # fmt: skip
        return EXIT_FAILED
    try:
        outcome = notify_unit(
            alert,
            sections[owner],
            default_secret_store(),
            journal_path=paths.journal_path(owner),
            clock=WallClock(),
        )
    except JournalError as exc:
        sys.stderr.write(f"calypso alerts notify-unit: {unit}: {exc}\n")
        return EXIT_FAILED
    if outcome.delivery is None:
        sys.stdout.write(f"{unit}: queued {outcome.queued} in {owner}'s journal; "
                         f"its running sender delivers them\n")  # fmt: skip
        return 0
    result = outcome.delivery
    sys.stdout.write(f"{unit}: queued {outcome.queued} in {owner}'s journal; delivered "
                     f"{result.delivered}, failed {result.failed}\n")  # fmt: skip
    return 0 if result.ok else EXIT_FAILED
