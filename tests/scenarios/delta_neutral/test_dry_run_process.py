"""Delta Neutral in `--dry-run` over a restart, as real `calypso run delta_neutral --env local
--dry-run` processes: the dry-run broker fills locally at the simulator's quotes and shows its
positions with their contracts (strike, expiry, put/call), as Saxo does, also after a restart
(seeded from the dry-run journal). The bot therefore recognises its own legs: no orphan, no
second straddle, nothing sent to the simulator.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import time as clock_time
from datetime import timedelta

import pytest

from shared import paths
from shared.journal import Journal
from tests.scenarios.delta_neutral.harness import (
    BOT,
    DRY_RUN_JOURNAL,
    SPY,
    SPY_LEVEL,
    DeltaNeutralProcess,
    journal_or_none,
    write_config,
)
from tests.scenarios.iron_fly.harness import PLAIN_DAY, Day, until

pytestmark = pytest.mark.e2e

SPEED = 300.0  # simulated seconds per real second
START = clock_time(9, 31)
HOLDING = "straddle:holding/strangle:holding"


def _filled_trades(day: Day) -> int:
    view = journal_or_none(day.home, dry_run=True)
    return 0 if view is None else sum(1 for t in view.trades if len(t.fills) == 2)


def _saved_state(day: Day) -> str | None:
    path = paths.journal_path(BOT, day.home).with_name(DRY_RUN_JOURNAL)
    with Journal.open_readonly(path) as journal:
        stored = journal.load_state(BOT)
    return None if stored is None else stored.state


def test_dry_run_keeps_its_own_legs_over_a_restart(make_day: Callable[..., Day]) -> None:
    day = make_day(day=PLAIN_DAY, start=START, speed=SPEED)
    day.pin(SPY, SPY_LEVEL)
    write_config(day.home, strategy={"flash_move_percent": 10.0})
    first = DeltaNeutralProcess(day.server, day.home, dry_run=True)
    try:
        until(lambda: _filled_trades(day) == 2, 60, "dry-run straddle and strangle filled")
        day.wait_until(day.now() + timedelta(minutes=2))  # checks of the book after the fills
    finally:
        assert first.stop() == 0, first.tail()
    assert _saved_state(day) == HOLDING

    second = DeltaNeutralProcess(day.server, day.home, dry_run=True)
    try:
        until(lambda: "runtime_ready" in second.text(), 60, "the restarted bot ready")
        day.wait_until(day.now() + timedelta(minutes=3))  # several decides after the restart
    finally:
        assert second.stop() == 0, second.tail()

    assert f"runtime_ready bot={BOT} state={HOLDING}" in second.text(), second.tail()
    view = journal_or_none(day.home, dry_run=True)
    assert view is not None
    assert "orphan_position" not in view.safety_names(), view.safety
    assert [t.label.split(":")[1] for t in view.trades] == ["straddle_entry", "shorts"]
    assert all(t.is_open for t in view.trades)  # held over the restart, nothing bought twice
    assert _saved_state(day) == HOLDING
    assert day.positions() == {} and day.order_ids() == set()  # nothing reached the simulator
