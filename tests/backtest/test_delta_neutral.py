"""The Delta Neutral backtests on SPY taken as SPX / 10: its long straddle and weekly shorts
open, recenter and roll through the unchanged strategy, with P&L from the fills."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from shared.backtest.history import load_arch_history
from shared.backtest.market import root_of_underlying
from shared.backtest.runner import BacktestSpec, config_text, run_backtest
from shared.config_loader import parse_bot_config
from shared.journal import FillSide

BOT = "delta_neutral"


def test_two_weeks_of_delta_neutral_trade_spy_options_with_pnl_from_their_fills() -> None:
    text, file = config_text(BOT, None)
    spec = BacktestSpec(BOT, text, str(file), date(2015, 1, 5), date(2015, 1, 16), seed=1)
    history = load_arch_history()
    root = root_of_underlying(parse_bot_config(BOT, text, file=file).strategy.instruments.
                              underlying_uic)  # fmt: skip
    engine, result = run_backtest(spec, history)
    try:
        labels = [t.label.split(":")[1] for t in result.trades]
        assert "straddle_entry" in labels and "shorts" in labels
        spx_close = next(b.close for b in history.bars if b.day == date(2015, 1, 8))
        for trade in result.trades:
            cash = Decimal(0)
            for fill in trade.fills:
                assert fill.multiplier == 100
                contract = engine.market.contract_of(fill.uic)
                assert contract is not None and contract.root == root == "SPY"
                assert abs(float(contract.strike) - spx_close / 10) < 15  # SPY strikes, not SPX
                sign = 1 if fill.side is FillSide.SELL else -1
                cash += sign * fill.price * fill.multiplier * fill.quantity - fill.commission_usd
            assert trade.pnl_usd == cash.quantize(Decimal("0.01"))
    finally:
        engine.close()
