"""SIGKILL while holding a fly, as real processes: the restarted bot rebuilds the fly from the
broker and its journal and protects it (the wing stop closes it), with no second entry
(strategies.md 5.1: POS-001, LIVE-009)."""

from __future__ import annotations

import signal
from collections.abc import Callable
from datetime import time as clock_time

import pytest

from tests.scenarios.iron_fly.harness import (
    RANGE_END_ET,
    SPX,
    BotProcess,
    Day,
    fills_pnl_usd,
    read_journal,
    saved_state,
    until,
    write_config,
)

pytestmark = pytest.mark.e2e

# A real process needs a few REAL seconds to start (more on a loaded machine) while the
# simulator's clock runs; a bot up after the entry time rightly refuses a cold start. Starting
# 2.5 simulated minutes before the entry (15 s real at 10x; the flat range is allowed 5 min
# late) leaves room for a slow start. Once the first bot records the range, the clock jumps to
# the end of the flat range (the bot follows at its next clock re-sync); kill and restart
# happen at SPEED.
SPEED = 10.0
START = clock_time(9, 31, 30)

def test_sigkill_in_position_then_restart_rebuilds_and_protects_the_fly(
    make_day: Callable[..., Day],
) -> None:
    day = make_day(speed=SPEED, start=START)
    write_config(day.home, strategy={"max_range_late_start_minutes": 5})  # flat morning
    first = BotProcess(day.server, day.home)
    until(lambda: saved_state(day.home) == "opening_range", 60, "first bot recording the range")
    day.skip_to(day.at(RANGE_END_ET))
    until(lambda: saved_state(day.home) == "in_position", 60, "first bot in position")
    first.proc.send_signal(signal.SIGKILL)
    assert first.wait(10) == -signal.SIGKILL
    view = read_journal(day.home)
    fly = view.state.payload["strategy"]["fly"] if view.state else {}
    held = day.positions()
    assert len(held) == 4

    second = BotProcess(day.server, day.home)
    until(lambda: "restored state=in_position" in second.text(), 30, "fly restored")
    assert day.positions() == held  # rebuilt as it was, nothing closed or added
    day.pin(SPX, float(fly["upper_wing"]))
    until(lambda: saved_state(day.home) == "done" and not day.positions(), 60,
          "restarted bot closed the fly")
    second.proc.send_signal(signal.SIGTERM)

    assert second.wait(15) == 0, second.tail()
    view = read_journal(day.home)
    (trade,) = view.trades
    assert trade.exit_reason == "wing_touch" and trade.is_flat
    assert len(view.entry_intents()) == 4 and len(day.order_ids()) == 8  # one entry only
    assert fills_pnl_usd(trade) == day.cash_change_usd()
