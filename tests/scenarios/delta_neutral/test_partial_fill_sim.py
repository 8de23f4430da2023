"""Partial fills on the simulator (the real runtime and executor in a thread; the simulator's
`POST /sim/v1/orders/partial_next` fills one of two contracts and never the rest): the
executor unwinds the half-filled entry, so the bot never holds half a straddle or a naked
short; it books the unwind's cost from the fills and enters again. Two contracts a leg here
(a single contract cannot fill in part). The strategy's own half-position cases (a leg that
stays filled): tests/bots/delta_neutral (ORDER-001/002 in docs/DELTA_NEUTRAL_EDGE_CASES.md).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import time as clock_time

from tests.scenarios.delta_neutral.harness import (
    SPY,
    SPY_LEVEL,
    DeltaNeutralBot,
    JournalView,
    fills_pnl_usd,
    read_journal,
    start_bot,
)
from tests.scenarios.iron_fly.harness import PLAIN_DAY, Day

SPEED = 300.0
CONTRACTS = 2
SHORTS_SPEED = 150.0  # the pass between straddle and strangle lasts 0.2 s real: time to arm
ONE_OF_TWO = {"amount": 1, "rest_after_seconds": 10**6}  # the rest never fills


def _start(make_day: Callable[..., Day], speed: float = SPEED) -> tuple[Day, DeltaNeutralBot]:
    day = make_day(day=PLAIN_DAY, start=clock_time(9, 36), speed=speed)
    day.pin(SPY, SPY_LEVEL)
    # A failed entry waits `failed_action_cooldown_minutes` before the next try: 1 here.
    strategy = {"position_size_contracts": CONTRACTS, "failed_action_cooldown_minutes": 1}
    return day, start_bot(day, strategy=strategy)


def _unwound_then_entered(day: Day, journal: JournalView, purpose: str) -> None:
    """One `purpose` trade unwound flat at a cost from its fills, one held in full, and the
    account moved by exactly every trade's fills less commissions."""
    unwound, held = journal.labelled(purpose)
    assert unwound.is_flat and not unwound.is_open
    assert unwound.pnl_usd == fills_pnl_usd(unwound) < 0  # the spread and the commissions
    assert [f.quantity for f in held.fills] == [CONTRACTS, CONTRACTS]
    assert day.cash_change_usd() == sum(t.net_cash_usd for t in journal.trades)


def test_half_filled_straddle_leg_is_unwound_and_the_straddle_bought_again(
    make_day: Callable[..., Day],
) -> None:
    day, bot = _start(make_day)
    day.control("POST", "/orders/partial_next", ONE_OF_TWO)  # the straddle's first leg
    bot.wait_for(lambda s: bot.holding(), "straddle and strangle held")
    journal = read_journal(day.home)
    assert bot.stop() == 0

    _unwound_then_entered(day, journal, "straddle_entry")
    assert sorted(day.positions().values()) == [-CONTRACTS, -CONTRACTS, CONTRACTS, CONTRACTS]


def test_half_filled_short_is_unwound_and_the_strangle_sold_again(
    make_day: Callable[..., Day],
) -> None:
    day, bot = _start(make_day, speed=SHORTS_SPEED)
    bot.wait_for(lambda s: s.straddle.held is not None and s.straddle.held.complete,
                 "straddle held")  # the strangle follows on the next pass (30 s simulated)
    day.control("POST", "/orders/partial_next", ONE_OF_TWO)  # the strangle's first leg
    bot.wait_for(lambda s: bot.holding(), "strangle sold")
    journal = read_journal(day.home)
    assert bot.stop() == 0

    _unwound_then_entered(day, journal, "shorts")
    assert sorted(day.positions().values()) == [-CONTRACTS, -CONTRACTS, CONTRACTS, CONTRACTS]
