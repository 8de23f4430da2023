"""The backtest report from the journal's closed trades: statistics, trades CSV, JSON, chart.

P&L is the journal's: fills x multiplier x quantity, less commissions, per trade, in USD
(`TradeRecord.pnl_usd`), so `calypso journal` on the saved journal shows the same numbers.
Daily P&L is summed by the trade's New York close date; the Sharpe ratio is the mean over the
standard deviation of daily P&L on trading days in the run (days without a trade count as 0),
annualised with sqrt(252). Maximum drawdown is the largest fall of cumulative P&L from a peak.
"""

from __future__ import annotations

import csv
import io
import math
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

from shared.backtest.engine import BacktestResult
from shared.journal import TradeRecord
from shared.market_hours import NY

_FIGURES = re.compile(r"\s+(?:of|at|spot|strike|credit)\s|\s+[-+]?\d|\s*\(|:")

MODELLED_NOTE = (
    "Option prices are modelled (the simulator's Black-Scholes on a VIX-tied surface, its "
    "spreads and tick sizes), not historical quotes; intraday paths are a seeded bridge "
    "through each day's OHLC; intraday VIX moves against SPX from the previous close. "
    "The modelled quotes carry no Greeks: the Put Diagonal picks and rolls its long on its "
    "theoretical delta from moneyness and Delta Neutral counts no straddle theta, unlike live."
)
CSV_COLUMNS = ("trade_id", "label", "opened_at", "closed_at", "exit_reason", "quantity",
               "fills", "commissions_usd", "pnl_usd")  # fmt: skip


@dataclass(frozen=True)
class Summary:
    """The report's figures; money in USD (Decimal, to the cent)."""

    trades: int
    wins: int
    win_rate_percent: float
    total_pnl_usd: Decimal
    average_pnl_usd: Decimal
    worst_trade_usd: Decimal
    max_drawdown_usd: Decimal
    sharpe_daily_annualised: float | None
    exits_by_reason: dict[str, int]
    pnl_by_year: dict[int, Decimal]
    equity: list[tuple[date, Decimal]] = field(default_factory=list)


def summarise(result: BacktestResult, trading_days: Sequence[date]) -> Summary:
    """Figures over `result.trades`; `trading_days` are the run's sessions (for the Sharpe)."""
    trades = result.trades
    pnls = [_pnl(t) for t in trades]
    total = sum(pnls, Decimal(0))
    daily: dict[date, Decimal] = {}
    by_year: dict[int, Decimal] = {}
    for trade, pnl in zip(trades, pnls, strict=True):
        day = _close_day(trade)
        daily[day] = daily.get(day, Decimal(0)) + pnl
        by_year[day.year] = by_year.get(day.year, Decimal(0)) + pnl
    equity: list[tuple[date, Decimal]] = []
    running = peak = Decimal(0)
    drawdown = Decimal(0)
    for day in sorted(set(trading_days) | set(daily)):
        running += daily.get(day, Decimal(0))
        peak = max(peak, running)
        drawdown = max(drawdown, peak - running)
        equity.append((day, running))
    wins = sum(1 for p in pnls if p > 0)
    return Summary(
        trades=len(trades),
        wins=wins,
        win_rate_percent=round(100.0 * wins / len(trades), 2) if trades else 0.0,
        total_pnl_usd=total,
        average_pnl_usd=(total / len(trades)).quantize(Decimal("0.01")) if trades else Decimal(0),
        worst_trade_usd=min(pnls) if pnls else Decimal(0),
        max_drawdown_usd=drawdown,
        sharpe_daily_annualised=_sharpe([float(daily.get(d, 0)) for d, _ in equity]),
        exits_by_reason=dict(sorted(Counter(exit_kind(t.exit_reason) for t in trades).items())),
        pnl_by_year=dict(sorted(by_year.items())),
        equity=equity,
    )


def exit_kind(reason: str | None) -> str:
    """The kind of an exit reason, without the figures some bots add ("horizontal roll of 111
    2015-02-09 at 110.38" -> "horizontal roll"; "recenter spot 186.5 strike 190" -> "recenter");
    the trades CSV keeps the whole reason."""
    return _FIGURES.split(reason or "", maxsplit=1)[0]


def _pnl(trade: TradeRecord) -> Decimal:
    pnl = trade.pnl_usd
    if pnl is None:
        raise ValueError(f"trade {trade.trade_id} is still open")
    return pnl


def _close_day(trade: TradeRecord) -> date:
    closed = trade.closed_at or trade.opened_at
    return closed.astimezone(NY).date()


def _sharpe(daily: list[float]) -> float | None:
    if len(daily) < 2:
        return None
    mean = sum(daily) / len(daily)
    variance = sum((x - mean) ** 2 for x in daily) / (len(daily) - 1)
    if variance <= 0:
        return None
    return round(mean / math.sqrt(variance) * math.sqrt(252), 3)


def trades_csv(trades: Sequence[TradeRecord]) -> str:
    """One row per closed trade (times ISO UTC; money to the cent); byte-stable for a seed."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for t in trades:
        writer.writerow([t.trade_id, t.label, t.opened_at.isoformat(),
                         t.closed_at.isoformat() if t.closed_at else "", t.exit_reason or "",
                         t.quantity, len(t.fills), f"{t.commissions_usd:.2f}",
                         f"{_pnl(t):.2f}"])  # fmt: skip
    return out.getvalue()


def as_json(summary: Summary, header: dict[str, Any]) -> dict[str, Any]:
    """The report as JSON-ready data (money as strings, exact)."""
    return {
        **header,
        "note": MODELLED_NOTE,
        "trades": summary.trades,
        "wins": summary.wins,
        "win_rate_percent": summary.win_rate_percent,
        "total_pnl_usd": f"{summary.total_pnl_usd:.2f}",
        "average_pnl_usd": f"{summary.average_pnl_usd:.2f}",
        "worst_trade_usd": f"{summary.worst_trade_usd:.2f}",
        "max_drawdown_usd": f"{summary.max_drawdown_usd:.2f}",
        "sharpe_daily_annualised": summary.sharpe_daily_annualised,
        "exits_by_reason": summary.exits_by_reason,
        "pnl_by_year_usd": {str(y): f"{v:.2f}" for y, v in summary.pnl_by_year.items()},
    }


def write_chart(summary: Summary, target: Path, title: str) -> None:
    """Equity curve and drawdown (PNG, matplotlib's Agg backend: no display needed)."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    days = [d for d, _ in summary.equity]
    equity = [float(v) for _, v in summary.equity]
    peaks: list[float] = []
    for value in equity:
        peaks.append(max(value, peaks[-1]) if peaks else max(value, 0.0))
    drawdown = [v - p for v, p in zip(equity, peaks, strict=True)]
    figure, (top, bottom) = plt.subplots(2, 1, sharex=True, figsize=(10, 6),
                                         gridspec_kw={"height_ratios": [3, 1]})  # fmt: skip
    top.plot(days, equity, color="tab:blue")
    top.set_title(title)
    top.set_ylabel("cumulative P&L (USD)")
    bottom.fill_between(days, drawdown, 0, color="tab:red", alpha=0.5)
    bottom.set_ylabel("drawdown (USD)")
    figure.tight_layout()
    figure.savefig(target, dpi=100)
    plt.close(figure)
