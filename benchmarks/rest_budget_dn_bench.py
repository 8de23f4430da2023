"""REST budget benchmark of the Delta Neutral bot: REST calls per simulated minute, counted by
the simulator's `/sim/v1/stats`, while flat waiting for VIX, while holding the straddle and the
strangle, and while flat after an exit (the budget: at most 30 holding, at most 10 flat;
docs/RUNTIME.md). The Iron Fly's figures: `benchmarks/rest_budget_bench.py`.

The real DeltaNeutralStrategy in the real BotRuntime (the Delta Neutral scenario harness's
in-process bot: local mode, simulator clock) against a simulator in this process at speed 100,
seed 7, from Monday 2026-03-02 09:31 ET; the shipped example config with market orders, no
Yahoo VIX fallback and a one-minute open delay. SPY is pinned at 600; the exit is the 5 %
emergency move (SPY pinned at 636). Counted: every `/openapi/...` request (the WebSocket
connect left out).

Run: `python -m benchmarks.rest_budget_dn_bench [--write] [--minutes N]` (--write updates
docs/PERFORMANCE.md).
"""

from __future__ import annotations

import argparse
import platform
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from datetime import time as clock_time
from pathlib import Path
from typing import Any

from benchmarks.perf_doc import write_section
from benchmarks.rest_budget_bench import SETTLE, _measure, budget_rows, simulators
from tests.scenarios.delta_neutral.harness import SPY, SPY_LEVEL, DeltaNeutralBot, start_bot
from tests.scenarios.iron_fly.harness import PLAIN_DAY, VIX, Day, start_day

WAITING_VIX = 21.0  # above max_vix_entry (18): the bot waits
CALM_VIX = 15.0
EMERGENCY_LEVEL = SPY_LEVEL * 1.06
NO_FLASH = {"flash_move_percent": 10.0}  # the scripted jump is not a flash-move event


def run(minutes: float) -> dict[str, dict[str, Any]]:
    """Flat waiting for VIX, then holding, then flat after the emergency exit; `minutes` each."""
    results: dict[str, dict[str, Any]] = {}
    with _day() as (day, bot):
        day.wait_until(day.now() + SETTLE)
        results["flat, waiting for VIX"] = _measure(day, minutes)
        day.pin(VIX, CALM_VIX)
        bot.wait_for(lambda s: bot.holding(), "straddle and strangle held", timeout_s=60)
        day.wait_until(day.now() + SETTLE)
        results["holding straddle and strangle"] = _measure(day, minutes)
        day.pin(SPY, EMERGENCY_LEVEL)
        bot.wait_for(lambda s: not s.in_position(), "flat after the exit", timeout_s=60)
        day.wait_until(day.now() + SETTLE)
        results["flat, after the exit"] = _measure(day, minutes)
    return results


@contextmanager
def _day() -> Iterator[tuple[Day, DeltaNeutralBot]]:
    """The simulated Monday with VIX above the entry limit and the bot started; both stopped
    after."""
    with simulators() as factory:
        home = Path(tempfile.mkdtemp(prefix="rest-budget-dn-"))
        day = start_day(factory, home, PLAIN_DAY, start=clock_time(9, 31), vix=WAITING_VIX)
        day.pin(SPY, SPY_LEVEL)
        bot = start_bot(day, strategy=NO_FLASH)
        try:
            yield day, bot
        finally:
            bot.stop()


def section(results: dict[str, dict[str, Any]], when: str) -> str:
    table = budget_rows(results)
    return f"""## REST budget: calls per simulated minute, one Delta Neutral bot

Command: `python -m benchmarks.rest_budget_dn_bench --write` on {platform.machine()},
Python {platform.python_version()}, {when}.

The real DeltaNeutralStrategy in the real BotRuntime (in-process, local mode) against the
simulator at speed 100, seed 7, Monday 2026-03-02 from 09:31 ET, SPY pinned at 600; the example
config with market orders and no Yahoo VIX fallback. Flat first (VIX 21, above the entry limit),
then holding the long straddle and the weekly strangle (VIX 15), then flat after the 5 %
emergency exit (SPY at 636). Counts from `/sim/v1/stats` over simulated time (every
`/openapi/...` request; the WebSocket connect left out).

| phase | simulated minutes | REST calls / min | target | verdict | per route (calls / min) |
|---|---|---|---|---|---|
{table}

Not in these windows: the entries and the exit themselves (chain look-ups, orders and fill
checks). A scenario test asserts the same budget (`tests/scenarios/delta_neutral/
test_management_sim.py::test_emergency_move_exits_shorts_first_within_the_rest_budget`).
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--write", action="store_true", help="update docs/PERFORMANCE.md")
    parser.add_argument("--minutes", type=float, default=10.0,
                        help="simulated minutes measured in each phase")
    args = parser.parse_args()
    results = run(args.minutes)
    text = section(results, datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"))
    print(text)
    if args.write:
        write_section(Path(__file__).resolve().parent.parent / "docs" / "PERFORMANCE.md",
                      "rest_budget_delta_neutral", text)


if __name__ == "__main__":
    main()
