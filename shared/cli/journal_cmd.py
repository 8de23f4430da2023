"""`calypso journal BOT [--from DATE] [--json] [--csv DIR]`: trades, fills and P&L from a journal.

Opens `CALYPSO_HOME/data/<bot>.sqlite` read-only. Trades whose labels (the strategy's intent
ids) end in `:c<n>` belong to campaign `c<n>` (the Rolling Put Diagonal: every leg, roll and
close is its own trade); `--json` then adds each campaign's P&L, the sum of its trades' fills.
Money is exact in the journal and rounded to cents here, in output only. Times are UTC ISO 8601
in JSON and CSV, New York in the table.
"""

from __future__ import annotations

import argparse
import csv
import json
import re
import sys
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from rich.console import Console
from rich.table import Table

from shared import paths
from shared.journal import Journal, JournalError, TradeRecord
from shared.journal.codec import cents, money_json
from shared.journal.json_view import fill_json

NEW_YORK = ZoneInfo("America/New_York")
CAMPAIGN_LABEL = re.compile(r":(c\d+)$")
EXIT_USAGE = 2

TRADE_COLUMNS = (
    "trade_id",
    "label",
    "opened_at",
    "closed_at",
    "exit_reason",
    "quantity",
    "pnl_usd",
    "commissions_usd",
    "fills",
)
FILL_COLUMNS = (
    "trade_id",
    "leg",
    "uic",
    "side",
    "open_close",
    "price",
    "quantity",
    "multiplier",
    "commission_usd",
    "filled_at",
    "simulated",
    "order_id",
)


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "journal",
        help="trades and P&L from a bot's journal",
        description="Show a bot's trades, fills and P&L from its SQLite journal (read-only).",
    )
    parser.add_argument("bot", help=f"one of: {', '.join(paths.BOT_NAMES)}")
    parser.add_argument(
        "--from",
        dest="since",
        type=_parse_date,
        metavar="DATE",
        help="only trades opened on or after this New York date (YYYY-MM-DD)",
    )
    parser.add_argument("--json", action="store_true", help="print JSON to stdout")
    parser.add_argument("--csv", type=Path, metavar="DIR", help="write trades.csv and fills.csv")
    parser.set_defaults(func=run)


def _parse_date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"expected a date as YYYY-MM-DD, got {text!r}") from exc


def _error(message: str) -> int:
    sys.stderr.write(f"calypso journal: {message}\n")
    return EXIT_USAGE


def run(args: argparse.Namespace) -> int:
    if args.bot not in paths.BOT_NAMES:
        return _error(f"unknown bot {args.bot!r}; valid bots: {', '.join(paths.BOT_NAMES)}")
    path = paths.journal_path(args.bot)
    if not path.exists():
        return _error(f"no journal for {args.bot} at {path} (has the bot run here yet?)")
    try:
        journal = Journal.open_readonly(path)
    except JournalError as exc:
        return _error(str(exc))
    with journal:
        trades = journal.trades(since=args.since)
    if args.csv is not None:
        try:
            _write_csv(args.csv, trades)
        except OSError as exc:
            return _error(f"cannot write CSV files to {args.csv}: {exc}")
    if args.json:
        document = {
            "bot": args.bot,
            "from": None if args.since is None else args.since.isoformat(),
            "trades": [_trade_json(trade) for trade in trades],
            "totals": _totals_json(trades),
        }
        campaigns = _campaigns_json(trades)
        if campaigns:
            document["campaigns"] = campaigns
        sys.stdout.write(json.dumps(document, indent=2) + "\n")
    else:
        _print_table(args.bot, trades)
        if args.csv is not None:
            sys.stdout.write(f"wrote {args.csv / 'trades.csv'} and {args.csv / 'fills.csv'}\n")
    return 0


def _trade_json(trade: TradeRecord) -> dict[str, Any]:
    return {
        "trade_id": trade.trade_id,
        "label": trade.label,
        "opened_at": trade.opened_at.isoformat(),
        "closed_at": None if trade.closed_at is None else trade.closed_at.isoformat(),
        "exit_reason": trade.exit_reason,
        "quantity": trade.quantity,
        "pnl_usd": money_json(trade.pnl_usd),
        "commissions_usd": money_json(trade.commissions_usd),
        "fills": [fill_json(fill) for fill in trade.fills],
    }


def _realized(trades: list[TradeRecord]) -> Decimal:
    return sum((t.pnl_usd for t in trades if t.pnl_usd is not None), Decimal(0))


def _totals_json(trades: list[TradeRecord]) -> dict[str, Any]:
    closed = [trade for trade in trades if not trade.is_open]
    return {
        "trades": len(trades),
        "closed": len(closed),
        "open": len(trades) - len(closed),
        "winners": sum(1 for trade in closed if (trade.pnl_usd or 0) > 0),
        "losers": sum(1 for trade in closed if (trade.pnl_usd or 0) < 0),
        "realized_pnl_usd": money_json(_realized(trades)),
        "commissions_usd": money_json(sum((t.commissions_usd for t in trades), Decimal(0))),
    }


def _campaigns_json(trades: list[TradeRecord]) -> list[dict[str, Any]]:
    """Trades grouped by the `:c<n>` ending of their labels, oldest campaign first; the P&L is
    the sum of the trades' P&L (fills x multiplier x quantity less commissions), None while a
    trade of the campaign is open."""
    groups: dict[str, list[TradeRecord]] = {}
    for trade in trades:
        found = CAMPAIGN_LABEL.search(trade.label)
        if found:
            groups.setdefault(found.group(1), []).append(trade)
    out = []
    for name, members in sorted(groups.items(), key=lambda item: int(item[0][1:])):
        closed = all(t.pnl_usd is not None for t in members)
        out.append({
            "campaign": name,
            "trade_ids": [t.trade_id for t in members],
            "closed": closed,
            "pnl_usd": money_json(_realized(members)) if closed else None,
            "net_cash_usd": money_json(sum((t.net_cash_usd for t in members), Decimal(0))),
            "commissions_usd": money_json(sum((t.commissions_usd for t in members), Decimal(0))),
        })  # fmt: skip
    return out


def _write_csv(directory: Path, trades: list[TradeRecord]) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    with (directory / "trades.csv").open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(TRADE_COLUMNS)
        for trade in trades:
            writer.writerow(
                [
                    trade.trade_id,
                    trade.label,
                    trade.opened_at.isoformat(),
                    "" if trade.closed_at is None else trade.closed_at.isoformat(),
                    trade.exit_reason or "",
                    trade.quantity,
                    "" if trade.pnl_usd is None else cents(trade.pnl_usd),
                    cents(trade.commissions_usd),
                    len(trade.fills),
                ]
            )
    with (directory / "fills.csv").open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(FILL_COLUMNS)
        for trade in trades:
            for fill in trade.fills:
                writer.writerow(
                    [
                        trade.trade_id,
                        fill.leg,
                        fill.uic,
                        fill.side.value,
                        fill.open_close.value,
                        fill.price,
                        fill.quantity,
                        fill.multiplier,
                        cents(fill.commission_usd),
                        fill.filled_at.isoformat(),
                        "true" if fill.simulated else "false",
                        fill.order_id or "",
                    ]
                )


def _print_table(bot: str, trades: list[TradeRecord]) -> None:
    table = Table(title=f"{bot} trades (times America/New_York)")
    for name in ("trade", "opened", "closed", "exit"):
        table.add_column(name)
    for name in ("qty", "fills", "commissions $", "P&L $"):
        table.add_column(name, justify="right")
    for trade in trades:
        closed = trade.closed_at
        table.add_row(
            str(trade.trade_id),
            trade.opened_at.astimezone(NEW_YORK).strftime("%Y-%m-%d %H:%M"),
            "open" if closed is None else closed.astimezone(NEW_YORK).strftime("%Y-%m-%d %H:%M"),
            trade.exit_reason or "",
            str(trade.quantity),
            str(len(trade.fills)),
            f"{cents(trade.commissions_usd):,.2f}",
            "" if trade.pnl_usd is None else f"{cents(trade.pnl_usd):,.2f}",
        )
    # Piped output is not cut to 80 columns: nothing in a trade row may be elided.
    console = Console(width=None if sys.stdout.isatty() else 160)
    console.print(table)
    totals = _totals_json(trades)
    console.print(
        f"{totals['trades']} trades ({totals['closed']} closed, {totals['open']} open; "
        f"{totals['winners']} won, {totals['losers']} lost). "
        f"Realized P&L ${cents(_realized(trades)):,.2f} after "
        f"${cents(sum((t.commissions_usd for t in trades), Decimal(0))):,.2f} commissions.",
        highlight=False,
    )
