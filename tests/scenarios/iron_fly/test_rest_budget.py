"""The REST budget (docs/RUNTIME.md, issue 12 section 3): one bot holding the fly makes at most
30 REST calls per simulated minute and a flat bot at most 10, counted by the simulator's
`/sim/v1/stats` over a window of simulated time (not wall time)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal

from shared.brokers.saxo_broker import SaxoBroker
from shared.domain import Side
from shared.saxo_client.orders import OrderRequest
from shared.saxo_sim.rate_limits import openapi_calls
from tests.scenarios.iron_fly.harness import SPX, Day, InProcessBot, read_journal, until

WINDOW = timedelta(minutes=2)  # simulated; 1.2 s real at the scenario speed
HOLDING_MAX_PER_MIN = 30
FLAT_MAX_PER_MIN = 10
ORPHAN_ACTED_WITHIN = timedelta(seconds=90)  # poll 30 s + confirm 5 s + the close, simulated


def _calls_per_minute(day: Day) -> float:
    """REST calls per simulated minute over the next WINDOW."""
    start, before = day.now(), openapi_calls(day.stats()["routes"])
    day.wait_until(start + WINDOW)
    calls = openapi_calls(day.stats()["routes"]) - before
    minutes = (day.now() - start).total_seconds() / 60
    return calls / minutes


def _settle(day: Day, bot: InProcessBot, state: str) -> None:
    """Wait for `state`, then let the first passes in it (subscriptions) go by."""
    bot.wait_state(state, timeout_s=30)
    day.wait_until(day.now() + timedelta(seconds=20))


def test_holding_and_flat_bot_stays_within_the_rest_budget(
    make_day: Callable[..., Day],
) -> None:
    day = make_day()
    bot = day.open_fly()
    _settle(day, bot, "in_position")

    holding = _calls_per_minute(day)
    day.pin(SPX, float(bot.fly()["upper_wing"]))
    _settle(day, bot, "done")
    flat = _calls_per_minute(day)
    assert bot.stop() == 0

    assert holding <= HOLDING_MAX_PER_MIN, f"{holding:.1f} REST calls/min while holding"
    assert flat <= FLAT_MAX_PER_MIN, f"{flat:.1f} REST calls/min while flat"


def test_an_orphan_found_by_the_slower_positions_poll_is_acted_on_at_once(
    make_day: Callable[..., Day],
) -> None:
    """The positions poll (every 30 s) replaces the per-pass read; a broker-vs-journal mismatch
    it finds (here: 2 more long wings bought behind the bot's back) is reconciled at once, not
    at the next `reconcile_interval_seconds` (600 s): the orphan is journaled and closed."""
    day = make_day()
    bot = day.open_fly()
    held = day.positions()
    wing = next(uic for uic, amount in held.items() if amount > 0)
    runtime = bot.runtime
    assert runtime is not None and isinstance(runtime.broker, SaxoBroker)
    runtime.broker.client.place_order(
        OrderRequest(wing, "StockIndexOption", Side.BUY, Decimal(2), to_open=True))
    bought_at = day.now()

    until(lambda: day.positions() == held, 30, "the orphan closed")
    acted_within = day.now() - bought_at
    assert bot.stop() == 0

    assert acted_within < ORPHAN_ACTED_WITHIN, acted_within
    orphans = [t for t in read_journal(day.home).trades if t.label.startswith("orphan-")]
    assert len(orphans) == 1 and orphans[0].is_flat
