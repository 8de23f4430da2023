"""`calypso sheets sync [BOT] [--json]`: deliver a bot's pending outbox rows to Google Sheets now.

Uses the bot's config (`sheets` section) and secrets like the bot does, the same sender and
pacing, and the bot's sheets lock: while the bot's own mirror holds it, the command reports
`busy` and changes nothing (the running mirror delivers the rows itself).
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass, field
from typing import Any

from filelock import FileLock, Timeout

from shared import paths
from shared.clock import WallClock
from shared.config_loader import ConfigError, find_config_path, load_bot_config
from shared.journal import Journal, JournalError
from shared.secret_manager import SecretStoreError, default_secret_store
from shared.sheets.client import SheetsApiError
from shared.sheets.credentials import CredentialsError, resolve_service_account
from shared.sheets.mirror import gspread_connect, sheets_lock_path
from shared.sheets.sender import DeliveryPolicy, OutboxSender

EXIT_FAILED = 1
EXIT_USAGE = 2
# The same pacing as a bot's mirror: the service account's quota is shared by every sender.
POLICY = DeliveryPolicy()


@dataclass
class SyncReport:
    """The outcome for one bot: status is delivered, nothing_pending, disabled, busy or error."""

    bot: str
    status: str
    delivered: int = 0
    already_present: int = 0
    pending: int = 0
    invalid: int = 0
    detail: str = ""
    worksheets: dict[str, int] = field(default_factory=dict)

    @property
    def failed(self) -> bool:
        return self.status == "error"


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "sheets", help="Google Sheets mirror", description="Google Sheets mirror of the journal."
    )
    commands = parser.add_subparsers(dest="sheets_command", metavar="SUBCOMMAND", required=True)
    sync = commands.add_parser(
        "sync",
        help="deliver pending outbox rows to Google Sheets now",
        description="Deliver the pending outbox rows of BOT (default: every bot with a "
        "journal) to its spreadsheet, exactly once.",
    )
    sync.add_argument("bot", nargs="?", help=f"one of: {', '.join(paths.BOT_NAMES)}")
    sync.add_argument("--json", action="store_true", help="print JSON to stdout")
    sync.set_defaults(func=run_sync)


def run_sync(args: argparse.Namespace) -> int:
    if args.bot is not None and args.bot not in paths.BOT_NAMES:
        sys.stderr.write(
            f"calypso sheets sync: unknown bot {args.bot!r}; "
            f"valid bots: {', '.join(paths.BOT_NAMES)}\n"
        )
        return EXIT_USAGE
    bots = [args.bot] if args.bot else list(paths.BOT_NAMES)
    reports = [sync_bot(bot, explicit=args.bot is not None) for bot in bots]
    if args.json:
        sys.stdout.write(json.dumps({"bots": [r.__dict__ for r in reports]}, indent=2) + "\n")
    else:
        for report in reports:
            line = (
                f"{report.bot}: {report.status} delivered={report.delivered} "
                f"already_present={report.already_present} pending={report.pending}"
            )
            if report.invalid:
                line += f" invalid={report.invalid}"
            if report.detail:
                line += f" ({report.detail})"
            sys.stdout.write(line + "\n")
    return EXIT_FAILED if any(report.failed for report in reports) else 0


def sync_bot(bot: str, *, explicit: bool) -> SyncReport:
    """Flush `bot`'s outbox until it is empty or Sheets fails; never raises."""
    journal_file = paths.journal_path(bot)
    if not journal_file.is_file():
        status = "error" if explicit else "nothing_pending"
        return SyncReport(bot, status, detail=f"no journal at {journal_file}")
    try:
        loaded = load_bot_config(bot, find_config_path(bot), secrets=default_secret_store())
    except (ConfigError, SecretStoreError) as exc:
        return SyncReport(bot, "error", detail=str(exc))
    section = loaded.config.sheets
    if not section.enabled:
        return SyncReport(bot, "disabled", detail="sheets.enabled is false in the config")
    try:
        account = resolve_service_account(section, loaded.secrets.sheets_credentials)
    except CredentialsError as exc:
        return SyncReport(bot, "error", detail=str(exc))
    if account is None:
        return SyncReport(bot, "disabled", detail="no service-account credentials found")
    assert section.spreadsheet_name is not None
    lock = FileLock(str(sheets_lock_path(journal_file)), timeout=0)
    try:
        lock.acquire()
    except Timeout:
        return SyncReport(bot, "busy", detail="the bot's own mirror is delivering this outbox")
    try:
        with Journal.open(journal_file, clock=WallClock()) as journal:
            return _flush_all(bot, journal, gspread_connect(account, section.spreadsheet_name))
    except JournalError as exc:
        return SyncReport(bot, "error", detail=str(exc))
    finally:
        lock.release()


def _flush_all(bot: str, journal: Journal, connect: Any) -> SyncReport:
    report = SyncReport(bot, "nothing_pending")
    try:
        backend = connect()
    except (SheetsApiError, CredentialsError) as exc:
        report.status, report.detail = "error", str(exc)
        report.pending = len(journal.outbox_pending(100_000))
        return report
    sender = OutboxSender(
        bot=bot, journal=journal, backend=backend, clock=WallClock(), policy=POLICY
    )
    while True:
        result = sender.flush()
        report.delivered += result.delivered
        report.already_present += result.already_present
        report.invalid += result.invalid
        for title, count in result.worksheets.items():
            report.worksheets[title] = report.worksheets.get(title, 0) + count
        if result.error is not None:
            report.status, report.detail = "error", result.error
            break
        if result.delivered == 0:
            break
    if report.status != "error" and report.delivered:
        report.status = "delivered"
    report.pending = len(journal.outbox_pending(100_000))
    return report
