"""The demo's end: per bot its trades (fills, exit reason, P&L from fills), how its process
ended, and where its journal and logs are; as JSON or as rich text.

P&L is in USD from the journal's fills (price x multiplier x quantity, less commissions), exactly
as `calypso journal BOT` computes it; times are UTC in JSON and America/New_York in text. A trade
still open when the demo stopped (a bot holding overnight) is "held": it shows its fills and its
net cash from them (premium received minus paid, less commissions), which is not a P&L until the
position is closed; no quote enters any figure.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from rich.console import Console
from rich.table import Table

from shared.demo.home import DemoHome
from shared.demo.process import StopResult
from shared.health.journal_view import net_legs
from shared.journal import Fill, Journal, JournalError, OpenClose, TradeRecord
from shared.journal.codec import cents, money_json
from shared.journal.json_view import fill_json

NEW_YORK = ZoneInfo("America/New_York")


@dataclass(frozen=True)
class TradeSummary:
    """One trade: fills counted by opening/closing side; P&L None while open (held), when
    `net_cash_usd` is the fills' sum so far and `held_legs` the signed contracts per leg."""

    trade_id: int
    label: str
    quantity: int
    opened_at: datetime
    closed_at: datetime | None
    exit_reason: str | None
    opening_fills: int
    closing_fills: int
    pnl_usd: Decimal | None
    commissions_usd: Decimal
    net_cash_usd: Decimal = Decimal(0)
    held_legs: dict[str, int] = field(default_factory=dict)
    fills: tuple[Fill, ...] = ()

    @property
    def held(self) -> bool:
        return self.closed_at is None

    @classmethod
    def of(cls, trade: TradeRecord) -> TradeSummary:
        opening = sum(1 for fill in trade.fills if fill.open_close is OpenClose.OPEN)
        return cls(
            trade_id=trade.trade_id,
            label=trade.label,
            quantity=trade.quantity,
            opened_at=trade.opened_at,
            closed_at=trade.closed_at,
            exit_reason=trade.exit_reason,
            opening_fills=opening,
            closing_fills=len(trade.fills) - opening,
            pnl_usd=trade.pnl_usd,
            commissions_usd=trade.commissions_usd,
            net_cash_usd=trade.net_cash_usd,
            held_legs=net_legs(trade) if trade.is_open else {},
            fills=trade.fills,
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "trade_id": self.trade_id,
            "label": self.label,
            "quantity": self.quantity,
            "opened_at": self.opened_at.isoformat(),
            "closed_at": None if self.closed_at is None else self.closed_at.isoformat(),
            "exit_reason": self.exit_reason,
            "opening_fills": self.opening_fills,
            "closing_fills": self.closing_fills,
            "pnl_usd": money_json(self.pnl_usd),
            "commissions_usd": money_json(self.commissions_usd),
            "held": self.held,
            "held_legs": self.held_legs,
            "net_cash_usd": money_json(self.net_cash_usd),
            "fills": [fill_json(fill) for fill in self.fills],
        }


@dataclass(frozen=True)
class BotSummary:
    """One bot's run. `died` is True when its process ended before the demo stopped it, did
    not exit 0 on SIGTERM, or had to be killed."""

    bot: str
    exit_code: int | None
    stop_seconds: float | None
    died: bool
    journal: Path
    log: Path
    console_log: Path
    trades: tuple[TradeSummary, ...] = ()
    state: str | None = None
    problem: str | None = None
    last_output: tuple[str, ...] = ()

    @property
    def realized_pnl_usd(self) -> Decimal:
        return sum((t.pnl_usd for t in self.trades if t.pnl_usd is not None), Decimal(0))

    @property
    def exit_reasons(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for trade in self.trades:
            if trade.exit_reason is not None:
                counts[trade.exit_reason] = counts.get(trade.exit_reason, 0) + 1
        return counts

    def to_json(self) -> dict[str, Any]:
        return {
            "bot": self.bot,
            "exit_code": self.exit_code,
            "stop_seconds": None if self.stop_seconds is None else round(self.stop_seconds, 2),
            "died": self.died,
            "state": self.state,
            "problem": self.problem,
            "trades": [trade.to_json() for trade in self.trades],
            "closed_trades": sum(1 for trade in self.trades if trade.closed_at is not None),
            "held_trades": sum(1 for trade in self.trades if trade.held),
            "exit_reasons": self.exit_reasons,
            "realized_pnl_usd": money_json(self.realized_pnl_usd),
            "journal": str(self.journal),
            "log": str(self.log),
            "console_log": str(self.console_log),
            "last_output": list(self.last_output),
        }


@dataclass(frozen=True)
class DemoSummary:
    """The whole run: settings, the simulated span, why it ended, and every bot."""

    seed: int
    days: int
    speed: float
    sim_start: datetime
    sim_end: datetime | None
    ended_because: str
    interrupted: bool
    bots: tuple[BotSummary, ...]
    skipped: dict[str, str] = field(default_factory=dict)
    home: Path = Path()

    @property
    def any_died(self) -> bool:
        return any(bot.died for bot in self.bots)

    def to_json(self) -> dict[str, Any]:
        return {
            "seed": self.seed,
            "days": self.days,
            "speed": self.speed,
            "sim_start": self.sim_start.isoformat(),
            "sim_end": None if self.sim_end is None else self.sim_end.isoformat(),
            "ended_because": self.ended_because,
            "interrupted": self.interrupted,
            "calypso_home": str(self.home),
            "bots": [bot.to_json() for bot in self.bots],
            "skipped": self.skipped,
        }


def summarize_bot(
    bot: str, *, home: DemoHome, result: StopResult | None, stopped_by_demo: bool,
    last_output: Sequence[str] = (),
) -> BotSummary:  # fmt: skip
    """Read `bot`'s journal (read-only) and combine it with how its process ended."""
    died = result is None or not stopped_by_demo or result.killed or result.exit_code != 0
    trades: tuple[TradeSummary, ...] = ()
    state: str | None = None
    problem: str | None = None
    path = home.journal(bot)
    try:
        with Journal.open_readonly(path) as journal:
            trades = tuple(TradeSummary.of(trade) for trade in journal.trades())
            saved = journal.load_state(bot)
            state = None if saved is None else saved.state
    except JournalError as exc:
        problem = str(exc)
    return BotSummary(
        bot=bot,
        exit_code=None if result is None else result.exit_code,
        stop_seconds=None if result is None else result.stop_seconds,
        died=died,
        journal=path,
        log=home.bot_log(bot),
        console_log=home.console_log(bot),
        trades=trades,
        state=state,
        problem=problem,
        last_output=tuple(last_output) if died else (),
    )


def _ny(moment: datetime | None) -> str:
    return "held" if moment is None else moment.astimezone(NEW_YORK).strftime("%Y-%m-%d %H:%M")


def render(summary: DemoSummary, console: Console) -> None:
    """Print the summary for an operator (rich text; plain when `console` is not a terminal)."""
    end = "-" if summary.sim_end is None else _ny(summary.sim_end)
    console.print(
        f"\nCALYPSO demo summary: seed {summary.seed}, {summary.days} day(s) at "
        f"{summary.speed:g}x, simulated {_ny(summary.sim_start)} .. {end} ET; "
        f"ended: {summary.ended_because}",
        highlight=False,
    )
    for bot in summary.bots:
        _render_bot(bot, console)
    for name, reason in summary.skipped.items():
        console.print(f"{name}: not run: {reason}", highlight=False)
    console.print(
        f"Read the trades again with `CALYPSO_HOME={summary.home} calypso journal BOT`.",
        highlight=False,
    )


def _render_held(trade: TradeSummary, console: Console) -> None:
    """A trade left open: its legs, its fills and the net cash from them."""
    legs = ", ".join(f"{leg} {quantity:+d}" for leg, quantity in trade.held_legs.items())
    console.print(
        f"  trade {trade.trade_id} held ({legs or 'no net legs'}): net cash from fills "
        f"${cents(trade.net_cash_usd):,.2f} after commissions (not a P&L until closed)",
        highlight=False,
    )
    for fill in trade.fills:
        console.print(
            f"    {_ny(fill.filled_at)} {fill.side.value} {fill.quantity} {fill.leg} "
            f"({fill.open_close.value}) @ {fill.price} x{fill.multiplier}, commission "
            f"${cents(fill.commission_usd):,.2f}",
            highlight=False,
        )


def _render_bot(bot: BotSummary, console: Console) -> None:
    if bot.died:
        code = "no exit code" if bot.exit_code is None else f"exit code {bot.exit_code}"
        console.print(f"\n[bold red]{bot.bot}: the process DIED ({code})[/bold red]")
        for line in bot.last_output:
            console.print(f"  | {line}", highlight=False, markup=False)
    else:
        took = "" if bot.stop_seconds is None else f" in {bot.stop_seconds:.1f}s"
        console.print(f"\n[bold]{bot.bot}[/bold]: stopped cleanly (exit 0{took})")
    table = Table(title=f"{bot.bot} trades (times America/New_York)")
    for name in ("trade", "opened", "closed", "exit reason"):
        table.add_column(name)
    for name in ("qty", "fills open/close", "commissions $", "P&L $"):
        table.add_column(name, justify="right")
    for trade in bot.trades:
        table.add_row(
            str(trade.trade_id),
            _ny(trade.opened_at),
            _ny(trade.closed_at),
            trade.exit_reason or "",
            str(trade.quantity),
            f"{trade.opening_fills}/{trade.closing_fills}",
            f"{cents(trade.commissions_usd):,.2f}",
            "" if trade.pnl_usd is None else f"{cents(trade.pnl_usd):,.2f}",
        )
    if bot.trades:
        console.print(table)
    for trade in bot.trades:
        if trade.held:
            _render_held(trade, console)
    reasons = ", ".join(f"{reason} x{n}" for reason, n in bot.exit_reasons.items()) or "none"
    closed = sum(1 for trade in bot.trades if trade.closed_at is not None)
    console.print(
        f"  {len(bot.trades)} trades ({closed} closed, {len(bot.trades) - closed} held), "
        f"exits: {reasons}; realized P&L "
        f"${cents(bot.realized_pnl_usd):,.2f} from fills after commissions; state "
        f"{bot.state or '-'}",
        highlight=False,
    )
    if bot.problem:
        console.print(f"  journal: {bot.problem}", highlight=False)
    console.print(f"  journal {bot.journal}\n  log     {bot.log}\n  output  {bot.console_log}",
                  highlight=False)  # fmt: skip
