"""SIGKILL in the middle of a recenter, an exit and a roll, as real processes: the first
`calypso run delta_neutral` is killed right after the first leg of its close filled (the
executor's crash hook `close_after_leg:1`); the restarted executor resumes that close first
(`close_resumed`). Mid-recenter it leaves half a straddle and the shorts: the straddle close
completes and the restarted bot closes the shorts (never naked). Mid-exit (the 5 % emergency
move) it leaves one short and the straddle: the exit completes, shorts first.
Mid-roll it leaves the straddle and one old short: the restarted bot buys back that naked short
and sells next week's strangle. Either way: no orphan leg, no order sent twice, and journal
trades that equal the broker's account to the cent.
"""

from __future__ import annotations

import signal
from collections.abc import Callable
from datetime import date, timedelta
from datetime import time as clock_time

import pytest

from shared.journal.models import FillSide, TradeRecord
from tests.scenarios.delta_neutral.harness import (
    SPY,
    SPY_LEVEL,
    DeltaNeutralProcess,
    fills_pnl_usd,
    journal_or_none,
    jump,
    read_journal,
    write_config,
)
from tests.scenarios.iron_fly.harness import PLAIN_DAY, Day, at_et, until

pytestmark = pytest.mark.e2e

SPEED = 300.0  # simulated seconds per real second; the bot enters whenever it is up
START = clock_time(9, 31)


def _trades(day: Day) -> int:
    view = journal_or_none(day.home)
    return 0 if view is None else sum(1 for t in view.trades if len(t.fills) == 2)


def test_sigkill_mid_recenter_then_restart_leaves_no_orphan_and_no_duplicate_order(
    make_day: Callable[..., Day],
) -> None:
    day = make_day(day=PLAIN_DAY, start=START, speed=SPEED)
    day.pin(SPY, SPY_LEVEL)
    write_config(day.home, strategy={"flash_move_percent": 10.0})
    first = DeltaNeutralProcess(day.server, day.home, crash_at="close_after_leg:1")
    until(lambda: _trades(day) == 2, 60, "straddle and strangle filled")
    day.pin(SPY, SPY_LEVEL + 6)  # the recenter closes the straddle: killed after its 1st leg
    assert first.wait(60) == -signal.SIGKILL, first.tail()
    held = day.positions()
    assert sorted(held.values()) == [-1, -1, 1]  # half a straddle and both shorts
    orders_before = day.order_ids()

    second = DeltaNeutralProcess(day.server, day.home)
    until(lambda: not day.positions(), 60, "the restarted bot went flat")
    day.wait_until(day.now() + timedelta(minutes=1))  # nothing more is sent
    assert second.stop() == 0, second.tail()

    view = read_journal(day.home)
    assert all(not t.is_open and t.is_flat for t in view.trades)
    new_orders = day.order_ids() - orders_before
    assert len(new_orders) == 3  # the two shorts and the surviving long, each closed once
    assert day.working_orders() == 0
    assert sum(fills_pnl_usd(t) for t in view.trades) == day.cash_change_usd()
    assert "straddle_leg_gone" not in view.safety_names()


def test_sigkill_mid_exit_then_restart_finishes_the_exit_shorts_first(
    make_day: Callable[..., Day],
) -> None:
    day = make_day(day=PLAIN_DAY, start=START, speed=SPEED)
    day.pin(SPY, SPY_LEVEL)
    write_config(day.home, strategy={"flash_move_percent": 10.0})
    first = DeltaNeutralProcess(day.server, day.home, crash_at="close_after_leg:1")
    until(lambda: _trades(day) == 2, 60, "straddle and strangle filled")
    day.pin(SPY, SPY_LEVEL * 1.06)  # the emergency exit: killed after its first short
    assert first.wait(60) == -signal.SIGKILL, first.tail()
    assert sorted(day.positions().values()) == [-1, 1, 1]  # one short left, the straddle
    orders_before = day.order_ids()

    second = DeltaNeutralProcess(day.server, day.home)
    until(lambda: not day.positions(), 60, "the restarted bot finished the exit")
    day.wait_until(day.now() + timedelta(minutes=1))  # nothing more is sent
    assert second.stop() == 0, second.tail()

    view = read_journal(day.home)
    assert all(not t.is_open and t.is_flat for t in view.trades)
    assert len(day.order_ids() - orders_before) == 3  # the last short, then the two longs
    (shorts,) = view.labelled("shorts")
    (straddle,) = view.labelled("straddle_entry")
    assert shorts.closed_at is not None and straddle.closed_at is not None
    assert max(f.filled_at for f in shorts.fills) < min(
        f.filled_at for f in straddle.fills if f.side is FillSide.SELL)  # shorts first
    assert day.working_orders() == 0
    assert sum(fills_pnl_usd(t) for t in view.trades) == day.cash_change_usd()


def test_sigkill_mid_roll_then_restart_leaves_no_orphan_and_no_duplicate_order(
    make_day: Callable[..., Day],
) -> None:
    day = make_day(day=PLAIN_DAY, start=START, speed=SPEED)
    day.pin(SPY, SPY_LEVEL)
    first = DeltaNeutralProcess(day.server, day.home, crash_at="close_after_leg:1")
    until(lambda: _trades(day) == 2, 60, "straddle and strangle filled")
    shorts = read_journal(day.home).labelled("shorts")[0]
    expiry = _short_expiry(day, shorts.fills[0].uic)
    jump(day, at_et(expiry - timedelta(days=1), clock_time(15, 1)))  # the Thursday roll
    assert first.wait(60) == -signal.SIGKILL, first.tail()
    held = day.positions()
    assert sorted(held.values()) == [-1, 1, 1]  # killed after buying back the first short
    orders_before = day.order_ids()

    second = DeltaNeutralProcess(day.server, day.home)
    until(lambda: _rolled(day, expiry), 60, "the restarted bot holds next week's shorts")
    day.wait_until(day.now() + timedelta(minutes=1))  # nothing more is sent
    assert second.stop() == 0, second.tail()

    view = read_journal(day.home)
    new_orders = day.order_ids() - orders_before
    assert len(new_orders) == 3  # the other old short bought back once, two new shorts sold
    assert day.working_orders() == 0
    assert sum(fills_pnl_usd(t) for t in view.trades) == day.cash_change_usd()
    open_trades = [t for t in view.trades if t.is_open]
    assert _net(open_trades) == {uic: int(a) for uic, a in day.positions().items()}


def _short_expiry(day: Day, uic: int) -> date:
    contract = day.server.call(lambda s: s.catalog.option(uic))
    return contract.expiry  # type: ignore[no-any-return]


def _rolled(day: Day, old_expiry: date) -> bool:
    shorts = [uic for uic, amount in day.positions().items() if amount < 0]
    return len(shorts) == 2 and all(_short_expiry(day, uic) > old_expiry for uic in shorts)


def _net(trades: list[TradeRecord]) -> dict[int, int]:
    """Signed contracts per uic the journal's open trades hold."""
    net: dict[int, int] = {}
    for trade in trades:
        for fill in trade.fills:
            net[fill.uic] = net.get(fill.uic, 0) + fill.signed_quantity
    return {uic: amount for uic, amount in net.items() if amount != 0}
