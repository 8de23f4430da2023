"""SIGKILL in the middle of a recenter, as real processes: the first `calypso run
delta_neutral` is killed right after the first leg of its recenter close filled (the executor's
crash hook `close_after_leg:1`), leaving half a straddle and the shorts. The restarted bot
rebuilds from the broker and its journal and goes flat (a partial straddle with shorts is
closed, shorts first: strategies.md 2.3): no orphan leg, no order sent twice, and journal
trades that equal the broker's account to the cent.
"""

from __future__ import annotations

import signal
from collections.abc import Callable
from datetime import time as clock_time
from datetime import timedelta

import pytest

from tests.scenarios.delta_neutral.harness import (
    SPY,
    SPY_LEVEL,
    DeltaNeutralProcess,
    fills_pnl_usd,
    journal_or_none,
    read_journal,
    write_config,
)
from tests.scenarios.iron_fly.harness import PLAIN_DAY, Day, until

pytestmark = pytest.mark.e2e

SPEED = 150.0  # simulated seconds per real second; the bot enters whenever it is up
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
