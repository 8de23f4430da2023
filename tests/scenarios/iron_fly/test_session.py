"""Session edges on the simulator: a bot started after the entry time does not trade that day;
on an early-close day the fly is closed by the time exit before the 13:15 ET close
(strategies.md 5.1: TIME-002, TIME-003)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from datetime import time as clock_time

from tests.scenarios.iron_fly.harness import (
    EARLY_CLOSE_DAY,
    SPX,
    Day,
    fills_pnl_usd,
    read_journal,
)


def test_start_after_the_entry_time_does_not_trade_that_day(
    make_day: Callable[..., Day],
) -> None:
    day = make_day(start=clock_time(10, 5))  # entry time 09:34

    bot = day.bot()
    bot.wait_state("done")

    assert bot.stop() == 0
    view = read_journal(day.home)
    assert view.skip_reason() == "started after the entry time; the opening range was not seen"
    assert view.intents == [] and day.order_ids() == set()


def test_early_close_day_fly_is_closed_by_the_time_exit_before_the_close(
    make_day: Callable[..., Day],
) -> None:
    day = make_day(day=EARLY_CLOSE_DAY)
    # The longest hold the config allows: entry 09:34 + window 3 + hold 203 min = 13:00 ET.
    # Narrow wings with US500.I at the body keep every leg bid near 13:00.
    bot = day.open_fly(strategy={"max_hold_minutes": 203, "manual_wing_width_points": 10,
                                 "max_entry_spread_percent": 100.0})
    entry_at = datetime.fromisoformat(bot.fly()["entry_at"])
    day.pin(SPX, float(bot.fly()["atm_strike"]))

    day.control("POST", "/clock", {"now": (entry_at + timedelta(minutes=202)).isoformat()})
    bot.wait_state("done", timeout_s=30)

    assert bot.stop() == 0
    view = read_journal(day.home)
    (trade,) = view.trades
    assert trade.exit_reason == "time_exit" and trade.is_flat
    assert fills_pnl_usd(trade) == day.cash_change_usd()
    assert day.positions() == {}
    closed_at = max(f.filled_at for f in trade.fills)
    assert entry_at + timedelta(minutes=203) <= closed_at < day.at(clock_time(13, 15))
