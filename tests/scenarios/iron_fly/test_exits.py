"""Exits of an open fly on the simulator: wing touch up and down (on the streamed tick), profit
target, max loss, time exit. Each ends flat at the simulator with the trade's P&L equal to its
fills (signed price x 100 x quantity less commissions), to the strategy's own figure and to
the simulated account's cash change (strategies.md 5.1: STOP-001, STOP-003)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

import pytest

from shared.journal.models import TradeRecord
from tests.scenarios.iron_fly.harness import SPX, VIX, Day, JournalView, fills_pnl_usd, read_journal

# Sim seconds from the scripted touch to the first close order. Far below the 60 s poll the
# wing-touch scenario configures, so only the tick-triggered decide can meet it.
TOUCH_TO_CLOSE_MAX_S = 10.0


def closed_trade(day: Day, view: JournalView, reason: str) -> TradeRecord:
    """The day's single trade, closed for `reason`, flat at the simulator, P&L consistent."""
    (trade,) = view.trades
    assert trade.exit_reason == reason
    assert trade.is_flat and len(trade.fills) == 8
    assert day.positions() == {}
    pnl = fills_pnl_usd(trade)
    assert trade.pnl_usd == pnl == view.logged_pnl_usd() == day.cash_change_usd()
    assert view.state is not None and view.state.state == "done"
    return trade


@pytest.mark.parametrize("wing", ["upper_wing", "lower_wing"])
def test_wing_touch_closes_within_seconds_of_the_tick(
    make_day: Callable[..., Day], wing: str
) -> None:
    day = make_day()
    # Polls a minute apart (a flat morning needs no sampling of the range): only a tick can
    # close within seconds.
    bot = day.open_fly(flat_range=True, loop={"poll_seconds_idle": 60.0,
                                              "poll_seconds_in_position": 60.0},
                       strategy={"max_range_late_start_minutes": 5})
    strike = float(bot.fly()[wing])
    day.wait_until(day.now() + timedelta(seconds=30))

    touched_at = day.pin(SPX, strike)
    bot.wait_state("done")

    assert bot.stop() == 0
    view = read_journal(day.home)
    closed_trade(day, view, "wing_touch")
    first_close = min(i.created_at for i in view.close_intents())
    assert timedelta(0) <= first_close - touched_at <= timedelta(seconds=TOUCH_TO_CLOSE_MAX_S)


def test_profit_target_closes_when_the_fly_loses_value(make_day: Callable[..., Day]) -> None:
    day = make_day()
    bot = day.open_fly(strategy={"profit_target_usd_per_contract": 150})
    day.wait_until(day.now() + timedelta(seconds=30))
    assert bot.state() == "in_position"

    day.pin(VIX, 9.0)  # implied vols fall: the short fly is worth less
    bot.wait_state("done")

    assert bot.stop() == 0
    trade = closed_trade(day, read_journal(day.home), "profit_target")
    assert trade.pnl_usd is not None and trade.pnl_usd >= 150


def test_max_loss_closes_when_the_fly_gains_value(make_day: Callable[..., Day]) -> None:
    day = make_day()
    bot = day.open_fly(strategy={"profit_target_usd_per_contract": 250,
                                 "max_loss_usd_per_contract": 300})
    day.wait_until(day.now() + timedelta(seconds=30))
    assert bot.state() == "in_position"

    day.pin(VIX, 40.0)  # implied vols jump: the short fly is worth more
    bot.wait_state("done")

    assert bot.stop() == 0
    trade = closed_trade(day, read_journal(day.home), "max_loss")
    assert trade.pnl_usd is not None and trade.pnl_usd <= -300


def test_time_exit_closes_after_the_hold(make_day: Callable[..., Day]) -> None:
    day = make_day()
    bot = day.open_fly(strategy={"max_hold_minutes": 3})
    entry_at = datetime.fromisoformat(bot.fly()["entry_at"])
    day.skip_to(entry_at + timedelta(minutes=2, seconds=30))  # the quiet part of the hold

    bot.wait_state("done", timeout_s=30)

    assert bot.stop() == 0
    view = read_journal(day.home)
    closed_trade(day, view, "time_exit")
    first_close = min(i.created_at for i in view.close_intents())
    held = first_close - entry_at
    assert timedelta(minutes=3) <= held <= timedelta(minutes=3, seconds=TOUCH_TO_CLOSE_MAX_S)
