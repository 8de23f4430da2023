"""One path, two engines: the same seeded market path through the local simulator (over HTTP and
its stream, the real runtime, as `calypso run --env local` and `calypso demo` run the fly) and
through the backtest; the Iron Fly makes the same entry and exit at the same minutes in both.

The path is the backtest's own: a seeded bridge through a day's OHLC (`bridged_day`), four ticks
a minute. The simulator is made to serve exactly that path by pinning US500.I to each tick's
level for its 15 seconds (the control API's pins, installed on the simulator's loop in one go
rather than by 1,560 timed requests); VIX.I is pinned at the level the backtest opens with.
Option prices are the same model in both; only the fills' instants differ by the runtime's
latency, so the test compares minutes, strikes and exit reasons, not cents.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from shared.backtest.engine import BacktestEngine, MarketDay
from shared.backtest.history import DailyBar
from shared.backtest.paths import TICK_SECONDS, DayTicks, bridged_day
from shared.backtest.runner import build_strategy
from shared.config_loader import parse_bot_config
from shared.journal import TradeRecord
from shared.market_hours import NY, session
from shared.saxo_sim.instruments import US500_UIC
from shared.saxo_sim.server import SimServer
from tests.scenarios.iron_fly.harness import (
    BOT,
    PLAIN_DAY,
    read_journal,
    start_day,
    write_config,
)

# A seeded path whose morning enters at 09:34 ET and touches the fly's upper wing a few minutes
# later (found by running the backtest; the simulator must then agree).
SEED = 24
BAR = DailyBar(PLAIN_DAY, open=6000.0, high=6030.0, low=5985.0, close=6010.0)
VIX_OPEN = 15.0
STRATEGY: dict[str, Any] = {"manual_wing_width_points": 15, "max_hold_minutes": 8}


def _minute(at: datetime | None) -> str:
    """HH:MM New York."""
    assert at is not None
    return at.astimezone(NY).strftime("%H:%M")


def _summary(trades: list[TradeRecord]) -> list[tuple[str, str, str | None, list[int]]]:
    """Per trade: entry minute, exit minute, exit reason, the legs' uics (strikes and sides)."""
    return [
        (_minute(t.opened_at), _minute(t.closed_at), t.exit_reason,
         sorted({f.uic for f in t.fills}))
        for t in trades
    ]  # fmt: skip


def _backtest(config_text: str, ticks: DayTicks) -> list[TradeRecord]:
    config = parse_bot_config(BOT, config_text)
    engine = BacktestEngine(strategy=build_strategy(BOT, config), config=config, seed=SEED,
                            missing_events="ignore")  # fmt: skip
    try:
        engine.run([MarketDay(ticks, vix_open=VIX_OPEN)])
        return engine.journal.trades()
    finally:
        engine.close()


def _serve_path(server: SimServer, ticks: DayTicks) -> None:
    """Pin US500.I to every tick of `ticks` for its 15 s (sim time), on the simulator's loop."""
    opened = session(ticks.day, "index_options")
    assert opened is not None
    start = opened.open.timestamp()
    pins = [
        (start + (minute * 60 + k * TICK_SECONDS), start + (minute * 60 + (k + 1) * TICK_SECONDS),
         float(ticks.prices[minute, k]))
        for minute in range(ticks.minutes)
        for k in range(ticks.prices.shape[1])
    ]  # fmt: skip

    def install(state: Any) -> None:
        state.model._overlays[US500_UIC].pins.extend(pins)
        state.model._changed()

    server.call(install)


def test_the_fly_enters_and_exits_at_the_same_minutes_on_the_simulator_and_the_backtest(
    sim_factory: Callable[..., SimServer], tmp_path: Path
) -> None:
    ticks = bridged_day(SEED, BAR, 390)
    config_path = write_config(tmp_path, strategy=STRATEGY)
    backtest = _summary(_backtest(config_path.read_text(), ticks))
    assert len(backtest) == 1 and backtest[0][2] == "wing_touch"  # a real exit to compare

    day = start_day(sim_factory, tmp_path, vix=VIX_OPEN, level=float(ticks.prices[0, 0]))
    _serve_path(day.server, ticks)
    bot = day.bot(strategy=STRATEGY)
    bot.wait_state("done", timeout_s=40)
    assert bot.stop() == 0
    simulator = _summary(read_journal(tmp_path).trades)

    assert simulator == backtest
    assert day.positions() == {}
