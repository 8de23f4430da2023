"""Delta Neutral on the simulator (the real runtime in a thread, prices pinned and the clock
jumped through the control API): a scheduled roll refused for a net debit keeps the shorts; the
proactive restart (next week's shorts would outlive the long exit) closes everything, shorts
first, instead of rolling; with the circuit breaker open, the per-decide position check still
buys back a naked short (an early assignment) and keeps the complete straddle, while no new
short is sold.

Entry is on Monday 2026-03-02 (SPY 600): the straddle is the June monthly (the third Friday
nearest 120 days: 109 days, against 137 for July), on Thursday 2026-06-18 as the Friday is
Juneteenth, a holiday; the first shorts expire Friday
2026-03-13 (the first Friday at least 7 days out); their Thursday roll window opens 03-12 15:00.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from datetime import time as clock_time
from typing import Any

from bots.delta_neutral.states import StraddleState, StrangleState
from shared.journal.models import FillSide
from tests.scenarios.delta_neutral.harness import (
    SPY,
    SPY_LEVEL,
    DeltaNeutralBot,
    jump,
    read_journal,
    start_bot,
)
from tests.scenarios.iron_fly.harness import PLAIN_DAY, Day, at_et, until

SPEED = 300.0
NO_FLASH = {"flash_move_percent": 10.0}
STRADDLE_EXPIRY = date(2026, 6, 18)  # June's third Friday, Juneteenth, moved back
FIRST_SHORTS_EXPIRY = date(2026, 3, 13)
ROLL_THURSDAY = date(2026, 3, 12)


def _opened(make_day: Callable[..., Day], **sections: dict[str, Any]) -> tuple[Day,
                                                                              DeltaNeutralBot]:
    day = make_day(day=PLAIN_DAY, start=clock_time(9, 31), speed=SPEED)
    day.pin(SPY, SPY_LEVEL)
    strategy = {**NO_FLASH, **sections.pop("strategy", {})}
    bot = start_bot(day, strategy=strategy, **sections)
    bot.wait_for(lambda s: bot.holding(), "straddle and strangle held")
    straddle, shorts = bot.dn.straddle.held, bot.dn.strangle.held
    assert straddle is not None and straddle.expiry == STRADDLE_EXPIRY
    assert shorts is not None and shorts.expiry == FIRST_SHORTS_EXPIRY
    return day, bot


def test_scheduled_roll_refused_for_a_net_debit_keeps_the_shorts(
    make_day: Callable[..., Day],
) -> None:
    # A 20-point recenter threshold keeps the straddle still while SPY nears the short call.
    # Mode B (the example's 1.5-2.0 expected moves: next week's strangle brings about 140 USD):
    # mode A's premium must also cover the straddle's weekly theta (Saxo's Greeks, about 105
    # USD here), which would make the roll a credit.
    day, bot = _opened(make_day, strategy={"recenter_threshold": 20,
                                           "weekly_target_return_percent": 0.0,
                                           "short_itm_risk_percent": 0.1})
    shorts = bot.dn.strangle.held
    assert shorts is not None and shorts.call is not None
    # 1 point below the short call: not challenged (0.1 % is about 0.6 points), but buying
    # it back the day before expiry costs more than next week's strangle brings.
    day.pin(SPY, float(shorts.call.strike) - 1)
    jump(day, at_et(ROLL_THURSDAY, clock_time(15, 1)))
    until(lambda: any("roll_refused_debit" in m for m in read_journal(day.home).messages), 30,
          "the roll priced and refused")  # fmt: skip
    day.wait_until(day.now() + timedelta(minutes=5))  # more passes in the roll window
    journal = read_journal(day.home)
    assert bot.stop() == 0

    (refusal,) = [m for m in journal.messages if "roll_refused_debit" in m]  # once a day
    assert "credit -" in refusal  # a negative net credit: premium less the buy-back cost
    assert bot.dn.strangle.held == shorts and bot.dn.strangle.state is StrangleState.HOLDING
    (sold,) = journal.labelled("shorts")
    assert sold.is_open and all(f.side is FillSide.SELL for f in sold.fills)
    assert sorted(day.positions().values()) == [-1, -1, 1, 1]
    assert bot.dn.export_state()["memory"]["ledger"]["rolls"] == 0


def test_proactive_restart_closes_everything_shorts_first_instead_of_rolling(
    make_day: Callable[..., Day],
) -> None:
    # long_exit_dte 94: the straddle exits from 2026-03-16 (94 days before 06-18). On the
    # Thursday roll (03-12, 98 days left) next week's shorts would expire 03-20, past it.
    day, bot = _opened(make_day, strategy={"long_exit_dte": 94})
    jump(day, at_et(ROLL_THURSDAY, clock_time(15, 1)))
    bot.wait_for(lambda s: s.straddle.held is None and s.strangle.held is None
                 and s.straddle.state is StraddleState.FLAT
                 and s.strangle.state is StrangleState.NONE, "everything closed")  # fmt: skip
    until(lambda: day.positions() == {}, 30, "flat at the simulator")
    journal = read_journal(day.home)
    assert bot.stop() == 0

    (straddle,) = journal.labelled("straddle_entry")
    (shorts,) = journal.labelled("shorts")  # no new shorts were sold
    assert straddle.exit_reason == shorts.exit_reason == "proactive_restart"
    assert straddle.is_flat and shorts.is_flat
    assert shorts.closed_at is not None and straddle.closed_at is not None
    assert shorts.closed_at <= straddle.closed_at  # shorts first
    assert max(f.filled_at for f in shorts.fills) <= min(
        f.filled_at for f in straddle.fills if f.side is FillSide.SELL)
    assert bot.dn.export_state()["memory"]["ledger"]["rolls"] == 0


def test_open_breaker_still_buys_back_a_naked_short_and_keeps_the_straddle(
    make_day: Callable[..., Day],
) -> None:
    day, bot = _opened(make_day, circuit_breaker={"max_consecutive_failures": 1,
                                                  "cooldown_minutes": 120})  # fmt: skip
    straddle = bot.dn.straddle.held
    shorts = bot.dn.strangle.held
    assert straddle is not None and shorts is not None and shorts.call is not None
    # The short put is assigned; the first order buying back the naked call is rejected,
    # which trips the breaker (one failure): new entries stop, protection does not.
    day.control("POST", "/orders/reject_next", {"error_code": "TooLateToCancelOrder"})
    put_position = _short_put_position_id(day)
    day.control("POST", "/assignments", {"position_id": put_position})
    until(lambda: shorts.call.uic not in day.positions(), 60, "the naked call bought back")
    day.wait_until(day.now() + timedelta(minutes=5))  # passes with the breaker open
    journal = read_journal(day.home)
    assert bot.runtime is not None
    assert not bot.runtime.breaker.allows_new_entries()
    assert bot.stop() == 0

    assert "strangle_leg_gone" in journal.safety_names()
    held = day.positions()
    assert {uic: held[uic] for uic in straddle.uics} == {uic: 1 for uic in straddle.uics}
    assert [a for uic, a in held.items() if uic not in straddle.uics] == [100]  # the shares
    assert bot.dn.straddle.state is StraddleState.HOLDING  # the complete straddle is kept
    assert bot.dn.strangle.state is StrangleState.NONE
    assert len(journal.labelled("shorts")) == 1  # no new shorts while the breaker is open


def _short_put_position_id(day: Day) -> str:
    def find(state: Any) -> str:
        for position in state.exchange.portfolio.positions.values():
            contract = state.catalog.option(position.uic)
            if position.amount < 0 and contract is not None and contract.put_call == "Put":
                return str(position.position_id)
        raise AssertionError("no short put at the simulator")

    return str(day.server.call(find))
