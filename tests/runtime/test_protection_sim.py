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
from tests.runtime.helpers import MARKET_OPEN, Rig, fly_legs, sim_positions

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
    assert events == ["no_price_close"] * 4
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
