"""Delta Neutral entry gates on the simulator (the real runtime in a thread): no straddle within
`fomc_blackout_days` (2) of an FOMC decision (the packaged event calendar: 2026-03-18), a
journaled reason while it waits, and the straddle and first strangle once the blackout is over
(the clock jumped through the control API). The VIX wait: `test_week_sim.py`."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from datetime import time as clock_time

from bots.delta_neutral.states import StraddleState
from tests.scenarios.delta_neutral.harness import SPY, SPY_LEVEL, jump, read_journal, start_bot
from tests.scenarios.iron_fly.harness import Day, at_et

FOMC_MONDAY = date(2026, 3, 16)  # two days before the decision of 2026-03-18
AFTER_FOMC = date(2026, 3, 19)
SPEED = 300.0


def test_waits_within_the_fomc_blackout_then_enters_after_the_decision(
    make_day: Callable[..., Day],
) -> None:
    day = make_day(day=FOMC_MONDAY, start=clock_time(9, 31), speed=SPEED)
    day.pin(SPY, SPY_LEVEL)
    bot = start_bot(day)
    bot.wait_for(lambda s: s.straddle.state is StraddleState.WAITING_ENTRY, "waiting")
    day.wait_until(day.now() + timedelta(minutes=2))  # more passes: still waiting
    assert bot.dn.straddle.state is StraddleState.WAITING_ENTRY and day.positions() == {}
    waits = [m for m in read_journal(day.home).messages if "straddle_entry_waits" in m]
    assert len(waits) == 1 and "fomc decision 2026-03-18 within 2 days" in waits[0]

    jump(day, at_et(AFTER_FOMC, clock_time(9, 40)))
    bot.wait_for(lambda s: bot.holding(), "straddle and strangle held")
    assert bot.stop() == 0
    journal = read_journal(day.home)
    assert [t.opened_at.date() for t in journal.trades] == [AFTER_FOMC, AFTER_FOMC]
    assert sorted(day.positions().values()) == [-1, -1, 1, 1]
