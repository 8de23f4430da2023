"""The Put Diagonal backtests on QQQ (the NASDAQ Composite scaled): campaigns open, their short
is rolled every trading day at the roll time, and every dollar comes from the fills: each
trade's P&L is its fills x 100 x quantity less commissions, and each closed campaign's trades
add up to what the strategy itself booked for it."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from datetime import date, timedelta
from decimal import Decimal

import pytest

from bots.rolling_put_diagonal.strategy import RollingPutDiagonalStrategy
from shared.backtest.engine import BacktestEngine, BacktestResult
from shared.backtest.history import load_arch_history
from shared.backtest.market import QQQ_PER_COMPOSITE, root_of_underlying
from shared.backtest.report import summarise
from shared.backtest.runner import BacktestSpec, config_text, run_backtest
from shared.config_loader import parse_bot_config
from shared.journal import FillSide, TradeRecord
from shared.market_hours import NY

BOT = "rolling_put_diagonal"


def _cash_usd(trade: TradeRecord) -> Decimal:
    cash = Decimal(0)
    for fill in trade.fills:
        sign = 1 if fill.side is FillSide.SELL else -1
        cash += sign * fill.price * fill.multiplier * fill.quantity - fill.commission_usd
    return cash.quantize(Decimal("0.01"))


@pytest.fixture(scope="module")
def six_weeks() -> Iterator[tuple[BacktestEngine, BacktestResult]]:
    text, file = config_text(BOT, None)
    spec = BacktestSpec(BOT, text, str(file), date(2015, 2, 2), date(2015, 3, 13), seed=1)
    engine, result = run_backtest(spec, load_arch_history())
    yield engine, result
    engine.close()


def test_six_weeks_of_put_diagonal_campaigns_roll_daily_with_pnl_from_their_fills(
    six_weeks: tuple[BacktestEngine, BacktestResult],
) -> None:
    engine, result = six_weeks
    text, file = config_text(BOT, None)
    config = parse_bot_config(BOT, text, file=file)
    history = load_arch_history()
    trades = result.trades
    assert len(trades) >= 15
    root = root_of_underlying(config.strategy.instruments.underlying_uic)
    qqq_close = history.nasdaq_on(date(2015, 2, 27)).close * QQQ_PER_COMPOSITE
    for trade in trades:
        assert trade.pnl_usd == _cash_usd(trade)
        for fill in trade.fills:
            assert fill.multiplier == 100 and fill.quantity == 1
            contract = engine.market.contract_of(fill.uic)
            if contract is not None:  # listings of days with nothing held are dropped
                assert contract.root == root == "QQQ" and contract.put_call == "Put"
                assert abs(float(contract.strike) - qqq_close) < 15  # QQQ strikes

    short_opened = {t.opened_at for t in trades if ":sell_short:" in t.label}
    rolled = [t for t in trades if ":sell_short:" in t.label and "roll of" in t.exit_reason]
    assert len(rolled) >= 10
    for short in rolled:  # bought back at the roll time the next trading day, then resold
        opened, closed = short.opened_at.astimezone(NY), short.closed_at.astimezone(NY)
        assert closed.time().isoformat() == "12:00:00"
        assert 1 <= (closed.date() - opened.date()).days <= 4  # the next trading day
        assert short.closed_at + timedelta(seconds=15) in short_opened

    strategy = engine.strategy
    assert isinstance(strategy, RollingPutDiagonalStrategy)
    ledger = strategy.memory.ledger
    assert ledger.campaigns >= 2
    by_campaign: dict[int, list[TradeRecord]] = defaultdict(list)
    for trade in trades:
        by_campaign[int(trade.label.rsplit(":c", 1)[1])].append(trade)
    assert max(len(by_campaign[n]) for n in range(1, ledger.campaigns + 1)) >= 6
    booked = sum((t.pnl_usd for n in range(1, ledger.campaigns + 1)
                  for t in by_campaign[n]), Decimal(0))  # fmt: skip
    assert booked == ledger.realized_usd


def test_the_report_counts_exits_by_kind_without_their_figures(
    six_weeks: tuple[BacktestEngine, BacktestResult],
) -> None:
    _, result = six_weeks
    days = [date(2015, 2, 2) + timedelta(days=n) for n in range(40)]
    kinds = summarise(result, days).exits_by_reason
    assert kinds["vertical roll"] >= 3 and kinds["horizontal roll"] >= 3
    assert not any(char.isdigit() for kind in kinds for char in kind)
    assert sum(kinds.values()) == len(result.trades)
