"""The runtime's own protective closes (no price for too long) against the simulator."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from shared.clock import ManualClock
from shared.runtime.protection import Protector
from shared.strategy_contract import OpenPosition
from tests.runtime.helpers import MARKET_OPEN, Rig, fly_legs, sim_orders, sim_positions

NO_PRICE_S = 30.0


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(MARKET_OPEN)


@pytest.fixture
def rig(sim_factory: Callable[..., Any], tmp_path: Path, clock: ManualClock) -> Iterator[Rig]:
    made = Rig(sim_factory(start=MARKET_OPEN), tmp_path, clock)
    yield made
    made.close()


def _protector(rig: Rig, clock: ManualClock) -> Protector:
    return Protector(
        broker=rig.broker,
        recorder=rig.recorder,
        executor=rig.executor,
        clock=clock,
        no_price_close_seconds=NO_PRICE_S,
    )


def test_positions_without_a_price_for_too_long_are_closed_at_the_market(
    rig: Rig, clock: ManualClock
) -> None:
    action = OpenPosition("fly-1", fly_legs(rig.server), "test entry")
    rig.executor.submit(action)
    rig.run_until_idle(clock)
    held = rig.broker.positions()
    requested = {p.uic for p in held}
    priced = {p.uic: None for p in held}  # presence is what counts
    protector = _protector(rig, clock)
    protector.price_seen()

    protector.guard_prices(held, requested, priced)  # type: ignore[arg-type]
    clock.advance(timedelta(seconds=NO_PRICE_S - 1))
    protector.guard_prices(held, requested, {})
    assert not rig.executor.busy  # priced a moment ago: no close yet

    clock.advance(timedelta(seconds=2))
    protector.guard_prices(held, requested, {})
    rig.run_until_idle(clock, timeout_s=60)

    assert sim_positions(rig.server) == {}
    events = [e.event for e in rig.journal.safety_events()]
    assert events == ["no_price_close"]  # one close of the whole position
    trade = rig.journal.trades()[0]
    assert not trade.is_open and trade.is_flat
    assert trade.pnl_usd == sum((f.cash_flow_usd for f in trade.fills), Decimal(0)) - sum(
        (f.commission_usd for f in trade.fills), Decimal(0)
    )


def test_a_price_for_every_held_uic_keeps_the_timer_reset(rig: Rig, clock: ManualClock) -> None:
    rig.executor.submit(OpenPosition("fly-1", fly_legs(rig.server), "test entry"))
    rig.run_until_idle(clock)
    held = rig.broker.positions()
    requested = {p.uic for p in held}
    priced = {p.uic: None for p in held}
    protector = _protector(rig, clock)
    protector.price_seen()

    for _ in range(5):
        clock.advance(timedelta(seconds=NO_PRICE_S / 2))
        protector.guard_prices(held, requested, priced)  # type: ignore[arg-type]

    assert not rig.executor.busy and len(sim_positions(rig.server)) == 4


def test_one_unpriced_leg_closes_the_whole_position_in_one_job_shorts_first(
    rig: Rig, clock: ManualClock
) -> None:
    legs = fly_legs(rig.server)  # longs first, as the fly enters
    rig.executor.submit(OpenPosition("fly-1", legs, "test entry"))
    rig.run_until_idle(clock)
    held = rig.broker.positions()
    requested = {p.uic for p in held}
    short_put = next(leg.uic for leg in legs if leg.leg == "short_put")
    all_but_one = {p.uic: None for p in held if p.uic != short_put}
    protector = _protector(rig, clock)
    protector.price_seen()
    entered = len(sim_orders(rig.server))

    clock.advance(timedelta(seconds=NO_PRICE_S + 1))
    protector.guard_prices(held, requested, all_but_one)  # type: ignore[arg-type]

    rig.run_until_idle(clock, timeout_s=60)
    closes = sim_orders(rig.server)[entered:]
    shorts = {leg.uic for leg in legs if leg.side.value == "sell"}
    assert [uic in shorts for uic, _ in closes] == [True, True, False, False]
    assert [side for _, side in closes] == ["Buy", "Buy", "Sell", "Sell"]
    assert sim_positions(rig.server) == {}
    assert [e.event for e in rig.journal.safety_events()] == ["no_price_close"]
    assert not rig.journal.trades()[0].is_open
    assert len(_close_intents(rig)) == 1  # one job


def _close_intents(rig: Rig) -> set[str]:
    """The intent ids of the close orders written to the journal."""
    return {
        str(i.payload["intent_id"]) for i in rig.journal.intents() if i.payload["job"] == "close"
    }


def test_an_unpriced_underlying_blinds_the_position(rig: Rig, clock: ManualClock) -> None:
    rig.executor.submit(OpenPosition("fly-1", fly_legs(rig.server), "test entry"))
    rig.run_until_idle(clock)
    held = rig.broker.positions()
    underlying = 4913  # US500.I: what the fly's stops watch; not held
    requested = {p.uic for p in held} | {underlying}
    legs_only = {p.uic: None for p in held}
    protector = _protector(rig, clock)
    protector.price_seen()

    clock.advance(timedelta(seconds=NO_PRICE_S + 1))
    protector.guard_prices(held, requested, legs_only)  # type: ignore[arg-type]

    rig.run_until_idle(clock, timeout_s=60)
    assert sim_positions(rig.server) == {}
    assert len(_close_intents(rig)) == 1
