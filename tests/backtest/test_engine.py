"""Known-answer tests of the backtest engine: scripted paths through the unchanged Iron Fly."""

from __future__ import annotations

import json
from datetime import date, datetime
from decimal import Decimal

import numpy as np
import pytest

from shared.backtest import runner
from shared.backtest.engine import BacktestEngine, MarketDay
from shared.backtest.history import DailyHistory, load_arch_history
from shared.backtest.paths import DayTicks
from shared.backtest.report import trades_csv
from shared.backtest.runner import (
    BacktestSpec,
    build_strategy,
    config_text,
    run_backtest,
    with_overrides,
)
from shared.config_loader import parse_bot_config
from shared.journal import FillSide
from shared.market_hours import NY
from shared.runtime.startup import StrategyNotImplemented
from shared.runtime.strategy_loader import strategy_factory_for

BOT = "iron_fly_0dte"
DAY = date(2015, 1, 6)  # a Tuesday without FOMC, CPI, PPI or payrolls
MINUTES = 390
OVERRIDES = {  # fixed wings; targets out of reach so only the wing or the clock can end a trade
    "manual_wing_width_points": 20,
    "profit_target_usd_per_contract": 4000,
    "max_loss_usd_per_contract": 5000,
}


def _config_text() -> str:
    text, file = config_text(BOT, None)
    return with_overrides(BOT, text, file, OVERRIDES)


def _engine() -> BacktestEngine:
    config = parse_bot_config(BOT, _config_text())
    return BacktestEngine(strategy=build_strategy(BOT, config), config=config, seed=3,
                          missing_events="ignore")  # fmt: skip


def _quiet_ticks() -> np.ndarray:
    """4000 +- 1 point all day: inside the range, near its midpoint, far from 20-point wings."""
    wave = 4000.0 + np.sin(np.arange(MINUTES + 1) / 3.0)
    return np.column_stack((wave[:-1], wave[:-1], wave[1:], wave[1:])).copy()


def _et(hour: int, minute: int, second: int = 0) -> datetime:
    return datetime(DAY.year, DAY.month, DAY.day, hour, minute, second, tzinfo=NY)


def _run(prices: np.ndarray) -> BacktestEngine:
    engine = _engine()
    engine.run([MarketDay(DayTicks(DAY, prices), vix_open=15.0)])
    return engine


def test_a_path_touching_the_upper_wing_exits_there_with_wing_touch() -> None:
    prices = _quiet_ticks()
    touch_minute = 60  # 10:30 ET: open, then the high first (the nearer extreme), low, close
    prices[touch_minute] = (4000.0, 4040.0, 4000.0, 4000.0)
    engine = _run(prices)
    trades = engine.journal.trades()
    assert len(trades) == 1
    trade = trades[0]
    assert trade.exit_reason == "wing_touch"
    closes = [f for f in trade.fills if f.filled_at > trade.opened_at]
    assert {f.filled_at for f in closes} == {_et(10, 30, 15)}
    engine.close()


def test_a_quiet_path_exits_on_time() -> None:
    engine = _run(_quiet_ticks())
    (trade,) = engine.journal.trades()
    assert trade.exit_reason == "time_exit"
    assert trade.opened_at == _et(10, 0)
    assert trade.closed_at == _et(11, 0)
    engine.close()


@pytest.fixture(scope="module")
def history() -> DailyHistory:
    return load_arch_history()


def test_every_trade_pnl_is_fills_times_multiplier_less_commissions(history: DailyHistory) -> None:
    spec = BacktestSpec(BOT, _config_text(), "<test>", date(2015, 1, 1), date(2015, 1, 9),
                        seed=1, missing_events="ignore")  # fmt: skip
    engine, result = run_backtest(spec, history)
    assert len(result.trades) >= 2
    for trade in result.trades:
        cash = Decimal(0)
        for fill in trade.fills:
            sign = 1 if fill.side is FillSide.SELL else -1
            cash += sign * fill.price * fill.multiplier * fill.quantity
            assert fill.commission_usd == Decimal("0.65") * fill.quantity
        commissions = sum((f.commission_usd for f in trade.fills), Decimal(0))
        assert trade.pnl_usd == (cash - commissions).quantize(Decimal("0.01"))
    engine.close()


def test_the_same_seed_gives_the_same_trades_csv_byte_for_byte(history: DailyHistory) -> None:
    spec = BacktestSpec(BOT, _config_text(), "<test>", date(2015, 1, 1), date(2015, 1, 7),
                        seed=9, missing_events="ignore")  # fmt: skip
    outputs = []
    for _ in range(2):
        engine, result = run_backtest(spec, history)
        outputs.append(trades_csv(result.trades).encode())
        engine.close()
    assert outputs[0] == outputs[1]
    assert outputs[0].count(b"\n") >= 2  # header + at least one trade


def test_a_bot_without_a_strategy_gets_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    # Every bot has its strategy now: point the loader at a class that does not exist.
    monkeypatch.setattr(runner, "bot_strategy_factory",
                        lambda bot: strategy_factory_for(bot, "NoSuchStrategy"))
    text, file = config_text("rolling_put_diagonal", None)
    config = parse_bot_config("rolling_put_diagonal", text, file=file)
    with pytest.raises(StrategyNotImplemented, match="rolling_put_diagonal"):
        build_strategy("rolling_put_diagonal", config)


def test_a_sweep_value_outside_the_config_model_is_refused_naming_the_key() -> None:
    text, file = config_text(BOT, None)
    with pytest.raises(Exception, match="max_hold_minutes"):
        with_overrides(BOT, text, file, {"max_hold_minutes": 0})
    assert json.loads(with_overrides(BOT, text, file, {"max_hold_minutes": 30}))[
        "strategy"]["max_hold_minutes"] == 30
