"""The backtest's shortcuts change nothing: the same trades, byte for byte, as without them.

The shortcuts (`BacktestEngine(reference=False)`): quotes priced when the strategy reads them,
once per instant; no passes once the strategy is done for the day and flat. The reference run
prices every quote it asks for and runs every pass of every session.
"""

from __future__ import annotations

from datetime import date

from shared.backtest.history import load_arch_history
from shared.backtest.report import trades_csv
from shared.backtest.runner import BacktestSpec, config_text, run_backtest

BOT = "iron_fly_0dte"


def test_three_months_give_the_same_trades_csv_with_and_without_the_shortcuts() -> None:
    text, file = config_text(BOT, None)  # the shipped config, as `calypso backtest` runs it
    spec = BacktestSpec(BOT, text, str(file), date(2015, 1, 1), date(2015, 3, 31), seed=1)
    history = load_arch_history()
    outputs, passes = {}, {}
    for reference in (True, False):
        engine, result = run_backtest(spec, history, reference=reference)
        outputs[reference] = trades_csv(result.trades).encode()
        passes[reference] = engine.passes
        engine.close()
    assert outputs[False] == outputs[True]
    assert outputs[True].count(b"\n") >= 15  # header + the quarter's trades: a real comparison
    assert b"wing_touch" in outputs[True] and b"time_exit" in outputs[True]
    assert passes[False] < passes[True] / 2  # the shortcut did skip the idle passes
