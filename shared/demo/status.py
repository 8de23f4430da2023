"""The demo's live status: per bot its process, state, position, trades and P&L (from its
journal, read-only), plus the simulator's time, SPX and VIX; as a rich table or a plain line.

Times shown are America/New_York. P&L is realized P&L in USD from the closed trades' fills,
after commissions.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import requests
from rich.table import Table

from shared import paths
from shared.health.journal_view import net_legs
from shared.journal import Journal, JournalError
from shared.logger_service import kv

logger = logging.getLogger(__name__)

NEW_YORK = ZoneInfo("America/New_York")
# The strategies' "no more trading today" state (iron fly DONE, probe "done"): a bot that ends
# its day flat and is in it with nothing open or pending is settled (`shared.demo.settle`).
DAY_DONE_STATES = frozenset({"done"})
MARKET_TIMEOUT_S = 2.0


@dataclass(frozen=True)
class MarketView:
    """The simulator's clock (UTC) and levels; None where it did not answer."""

    now: datetime | None = None
    speed: float | None = None
    spx: float | None = None
    vix: float | None = None


@dataclass(frozen=True)
class BotView:
    """One bot as its journal shows it now. `process` is "running", "stopped (exit 0)" or
    "DIED (exit N)"; `problem` is set while the journal cannot be read (e.g. not created yet).
    `state_since` is when the state was last saved (simulated time, UTC: a state change or an
    order intent), `state_day` its New York date."""

    bot: str
    process: str
    state: str | None = None
    state_day: date | None = None
    state_since: datetime | None = None
    position: str = ""
    trades: int = 0
    open_trades: int = 0
    unresolved_intents: int = 0
    realized_pnl_usd: Decimal = Decimal(0)
    problem: str | None = None

    def line(self) -> str:
        """`bot: state, position, N trades, realized P&L $x` (plain progress output)."""
        if self.problem is not None:
            return f"{self.bot}: {self.process}, {self.problem}"
        position = self.position or "flat"
        return (
            f"{self.bot}: {self.process}, {self.state or '-'}, {position}, "
            f"{self.trades} trades, realized P&L ${self.realized_pnl_usd:,.2f}"
        )


def read_bot(bot: str, *, home: Path, process: str) -> BotView:
    """Read `bot`'s journal under `home`. Never raises: an unreadable journal sets `problem`."""
    path = paths.journal_path(bot, home)
    if not path.is_file():
        return BotView(bot, process, problem="no journal yet")
    try:
        with Journal.open_readonly(path) as journal:
            saved = journal.load_state(bot)
            trades = journal.trades()
            unresolved = len(journal.intents_without_outcome())
    except (JournalError, OSError) as exc:
        return BotView(bot, process, problem=f"journal not readable yet ({exc})")
    except Exception as exc:  # sqlite errors while the bot migrates its new journal
        return BotView(bot, process, problem=f"journal not readable yet ({exc})")
    open_trades = [trade for trade in trades if trade.is_open]
    legs = sum(len(net_legs(trade)) for trade in open_trades)
    position = ""
    if open_trades:
        ids = ", ".join(f"#{trade.trade_id}" for trade in open_trades)
        position = f"{legs} legs (trade {ids})"
    realized = sum((t.pnl_usd for t in trades if t.pnl_usd is not None), Decimal(0))
    return BotView(
        bot,
        process,
        state=None if saved is None else saved.state,
        state_day=None if saved is None else saved.updated_at.astimezone(NEW_YORK).date(),
        state_since=None if saved is None else saved.updated_at,
        position=position,
        trades=len(trades),
        open_trades=len(open_trades),
        unresolved_intents=unresolved,
        realized_pnl_usd=realized,
    )


def read_market(base_url: str, session: requests.Session | None = None) -> MarketView:
    """The simulator's clock and SPX (US500.I) and VIX levels from its control API.

    Never raises: fields it could not read stay None."""
    http = session or requests
    try:
        clock: dict[str, Any] = http.get(
            f"{base_url}/sim/v1/clock", timeout=MARKET_TIMEOUT_S
        ).json()
        market: dict[str, Any] = http.get(
            f"{base_url}/sim/v1/market", timeout=MARKET_TIMEOUT_S
        ).json()
    except (requests.RequestException, ValueError) as exc:
        logger.warning(kv("demo_market_unavailable", error=exc))
        return MarketView()
    spots = market.get("spots") or {}
    return MarketView(
        now=_parse_time(clock.get("now")),
        speed=_number(clock.get("speed")),
        spx=_number(spots.get("US500.I")),
        vix=_number(spots.get("VIX.I")),
    )


def _parse_time(raw: Any) -> datetime | None:
    try:
        return datetime.fromisoformat(str(raw).replace("Z", "+00:00"))
    except ValueError:
        return None


def _number(raw: Any) -> float | None:
    try:
        return None if raw is None else float(raw)
    except (TypeError, ValueError):
        return None


def market_text(market: MarketView) -> str:
    """`2026-03-02 10:02:13 ET  60x  SPX 5995.10  VIX 17.20` ('-' for what is unknown)."""
    when = (
        "-"
        if market.now is None
        else market.now.astimezone(NEW_YORK).strftime("%Y-%m-%d %H:%M:%S ET")
    )
    speed = "-" if market.speed is None else f"{market.speed:g}x"
    spx = "-" if market.spx is None else f"{market.spx:,.2f}"
    vix = "-" if market.vix is None else f"{market.vix:.2f}"
    return f"{when}  {speed}  SPX {spx}  VIX {vix}"


def status_line(market: MarketView, bots: Sequence[BotView]) -> str:
    """One plain progress line for non-TTY output."""
    return " | ".join([f"demo {market_text(market)}", *(view.line() for view in bots)])


def status_table(market: MarketView, bots: Sequence[BotView], *, note: str = "") -> Table:
    """The live table: one row per bot, the simulator's time and levels in the title."""
    title = f"CALYPSO demo  {market_text(market)}"
    table = Table(title=title, caption=note or None, min_width=len(title) + 4)
    for name in ("bot", "process", "state", "position"):
        table.add_column(name)
    table.add_column("trades", justify="right")
    table.add_column("realized P&L $", justify="right")
    for view in bots:
        if view.problem is not None:
            table.add_row(view.bot, view.process, view.problem, "", "", "")
            continue
        pnl = f"{view.realized_pnl_usd:,.2f}"
        table.add_row(
            view.bot,
            _process_cell(view.process),
            view.state or "-",
            view.position or "flat",
            str(view.trades),
            f"[red]{pnl}[/red]" if view.realized_pnl_usd < 0 else pnl,
        )
    return table


def _process_cell(process: str) -> str:
    return f"[bold red]{process}[/bold red]" if process.startswith("DIED") else process
