"""REST budget benchmark: REST calls per simulated minute of one Iron Fly bot, counted by the
simulator's `/sim/v1/stats`, while flat in the opening range, while holding the fly, and while
flat after the close (the budget: at most 30 holding, at most 10 flat; docs/RUNTIME.md).

The real IronFlyStrategy in the real BotRuntime (the scenario harness's in-process bot: local
mode, simulator clock) against a simulator in this process at speed 100, seed 7; the shipped
example config with the scenarios' short morning (entry 09:34 ET). Counted: every
`/openapi/...` request (the WebSocket connect left out), i.e. what Saxo's per-session limits
count.

`--bot rolling_put_diagonal` measures that bot instead: a real `calypso run` process with the
shipped example config, QQQ pinned on 2026-03-30 (the simulator's daily bars allow an entry),
flat before the entry, holding the campaign, and flat on 2026-03-02 (the bars forbid one).

Run: `python -m benchmarks.rest_budget_bench [--bot B] [--write] [--minutes N]` (--write
updates docs/PERFORMANCE.md).
"""

from __future__ import annotations

import argparse
import platform
import tempfile
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from datetime import time as clock_time
from pathlib import Path
from typing import Any

from benchmarks.perf_doc import write_section
from shared.saxo_sim.rate_limits import openapi_calls
from shared.saxo_sim.server import SimServer
from tests.conftest import start_simulator
from tests.scenarios.iron_fly.harness import SPX, VIX, Day, InProcessBot, start_day

HOLDING_TARGET = 30
FLAT_TARGET = 10
SETTLE = timedelta(seconds=20)  # simulated: the first passes after a state change


def _routes(day: Day) -> Counter[str]:
    return Counter({k: v for k, v in day.stats()["routes"].items() if " /openapi/" in k})


def _measure(day: Day, minutes: float) -> dict[str, Any]:
    """REST calls per simulated minute over the next `minutes`, in all and per route."""
    start, before = day.now(), _routes(day)
    day.wait_until(start + timedelta(minutes=minutes), timeout_s=60 + minutes * 6)
    after = _routes(day)
    span = (day.now() - start).total_seconds() / 60
    by_route = {route: (after[route] - before[route]) / span for route in after}
    return {
        "minutes": span,
        "per_minute": openapi_calls(dict(after - before)) / span,
        "by_route": {r: v for r, v in sorted(by_route.items()) if v > 0},
    }


def run(minutes: float) -> dict[str, dict[str, Any]]:
    """Flat in the opening range (one simulated day), then holding and flat after the close
    (a second day); `minutes` each (the range: at most 1.5, it ends 2 minutes before 09:34)."""
    results: dict[str, dict[str, Any]] = {}
    with _day() as (day, bot):
        # VIX moves as in a real session (a pinned level stops the stream's deltas, and a
        # quote that stops changing is refreshed over REST); this day never enters.
        day.control("POST", "/market/release", {"symbol": VIX})
        day.wait_until(day.at(clock_time(9, 30)) + SETTLE)
        results["flat, opening range"] = _measure(day, min(minutes, 1.5))
    with _day() as (day, bot):
        day.calm_range(bot)
        bot.wait_state("in_position", timeout_s=60)
        day.wait_until(day.now() + SETTLE)
        results["holding the fly"] = _measure(day, minutes)
        day.pin(SPX, float(bot.fly()["upper_wing"]))
        bot.wait_state("done", timeout_s=60)
        day.wait_until(day.now() + SETTLE)
        results["flat, after the close"] = _measure(day, minutes)
    return results


@contextmanager
def _day() -> Iterator[tuple[Day, InProcessBot]]:
    """A scripted simulator day with the bot started at 09:29:15 ET; both stopped after."""
    with simulators() as factory:
        day = start_day(factory, Path(tempfile.mkdtemp(prefix="rest-budget-")))
        bot = day.bot()
        try:
            yield day, bot
        finally:
            bot.stop()


@contextmanager
def simulators() -> Iterator[Callable[..., SimServer]]:
    """A factory of in-process simulators (`start_simulator`'s fields); all stopped on exit."""
    servers: list[SimServer] = []

    def factory(**fields: Any) -> SimServer:
        server = start_simulator(**fields)
        servers.append(server)
        return server

    try:
        yield factory
    finally:
        for server in servers:
            server.stop()


def run_rolling_put_diagonal(minutes: float) -> dict[str, dict[str, Any]]:
    """Holding a campaign (after its entry settles) and flat on a day the bars forbid an
    entry; `minutes` each, speed 100."""
    from datetime import date

    from tests.scenarios.rolling_put_diagonal.harness import Bot, Sim, at, holding

    results: dict[str, dict[str, Any]] = {}
    for phase, day in (("holding the campaign", date(2026, 3, 30)),
                       ("flat, no entry signal", date(2026, 3, 2))):  # fmt: skip
        server = start_simulator(start=at(day, clock_time(9, 31)), speed=100.0)
        sim = Sim(server)
        sim.control("POST", "/market/pin", {"symbol": "QQQ", "level": 517.0})
        scenario = Day(server, Path(tempfile.mkdtemp(prefix="rest-budget-rpd-")), day)
        bot = Bot(server, scenario.home)
        try:
            if phase.startswith("holding"):
                deadline = datetime.now(UTC) + timedelta(seconds=90)
                while holding(sim) != [-1, 1] and datetime.now(UTC) < deadline:
                    scenario.wait_until(scenario.now() + timedelta(seconds=30))
                assert holding(sim) == [-1, 1], "the campaign did not open"
            scenario.wait_until(max(scenario.now(), at(day, clock_time(9, 45))) + SETTLE)
            results[phase] = _measure(scenario, minutes)
        finally:
            bot.stop()
            server.stop()
    return results


def _verdict(value: float, target: int) -> str:
    return "PASS" if value <= target else "FAIL"


def budget_rows(results: dict[str, dict[str, Any]]) -> str:
    """The markdown rows of a budget table: one per phase, with its target (holding or flat),
    verdict and calls per route."""
    rows = []
    for phase, found in results.items():
        target = HOLDING_TARGET if phase.startswith("holding") else FLAT_TARGET
        routes = ", ".join(f"`{r.split(' ', 1)[1]}` {v:.1f}" for r, v in found["by_route"].items())
        rows.append(f"| {phase} | {found['minutes']:.1f} | **{found['per_minute']:.1f}** | "
                    f"<= {target} | {_verdict(found['per_minute'], target)} | {routes or '-'} |")
    return "\n".join(rows)


def section_rolling_put_diagonal(results: dict[str, dict[str, Any]], when: str) -> str:
    table = budget_rows(results)
    return f"""## REST budget: calls per simulated minute, one Rolling Put Diagonal bot

Command: `python -m benchmarks.rest_budget_bench --bot rolling_put_diagonal --write` on
{platform.machine()}, Python {platform.python_version()}, {when}.

A real `calypso run rolling_put_diagonal --env local` process (the shipped example config)
against the simulator at speed 100, seed 7, QQQ pinned at 517: holding the campaign opened on
2026-03-30 (measured from 09:45 ET, the entry's orders done), and flat on 2026-03-02, when the
daily bars forbid an entry. Counts from `/sim/v1/stats` (every `/openapi/...` request).

| phase | simulated minutes | REST calls / min | target | verdict | per route (calls / min) |
|---|---|---|---|---|---|
{table}

The daily bars are read once a day; the option chains only when the entry rules hold (flat)
or a roll or a missing short needs them (holding), not on every pass. Not in these windows:
the roll at `short_roll_time_et` (one chain, two orders) and the entry itself.
"""


def section(results: dict[str, dict[str, Any]], when: str) -> str:
    table = budget_rows(results)
    return f"""## REST budget: calls per simulated minute, one Iron Fly bot

Command: `python -m benchmarks.rest_budget_bench --write` on {platform.machine()},
Python {platform.python_version()}, {when}.

The real IronFlyStrategy in the real BotRuntime (in-process, local mode) against the
simulator at speed 100, seed 7, the example config with a short morning (entry 09:34 ET);
counts from `/sim/v1/stats` over simulated time (every `/openapi/...` request; the WebSocket
connect is left out). Before this work the same bot made about 50 calls a minute holding
(one `infoprices/list` and one `positions` per 2 s pass) and about 12 flat after the close.

| phase | simulated minutes | REST calls / min | target | verdict | per route (calls / min) |
|---|---|---|---|---|---|
{table}

Holding: the legs and the underlying come from the stream; positions are read every 30 s
(and at once when the journal's holdings change or an order is worked); the health line's
balance every 5 minutes. The opening range also streams VIX; a price whose stream quote is
older than `stream_stale_seconds` (the simulator pins VIX here, so its quote stops changing)
is asked over REST at most every 5 s. Not in these windows: the two minutes before the entry,
when the 0DTE chain window's option quotes come over REST on each pass (about 12 calls a
minute), and the orders of the entry and the close themselves.
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--write", action="store_true", help="update docs/PERFORMANCE.md")
    parser.add_argument("--bot", choices=("iron_fly_0dte", "rolling_put_diagonal"),
                        default="iron_fly_0dte", help="the bot measured")
    parser.add_argument("--minutes", type=float, default=10.0,
                        help="simulated minutes measured holding and after the close")
    args = parser.parse_args()
    when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    if args.bot == "rolling_put_diagonal":
        text, name = section_rolling_put_diagonal(run_rolling_put_diagonal(args.minutes), when), \
            "rest_budget:rolling_put_diagonal"  # fmt: skip
    else:
        text, name = section(run(args.minutes), when), "rest_budget"
    print(text)
    if args.write:
        write_section(Path(__file__).resolve().parent.parent / "docs" / "PERFORMANCE.md",
                      name, text)


if __name__ == "__main__":
    main()
