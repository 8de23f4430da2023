"""Commissions as Saxo may report them (issue 12, risk 5): a negative figure (Saxo books costs
as negative amounts) or an unusable one must not stall the executor; every fill is journaled.

The simulator reports positive commissions, so the broker's answer is altered at the process
boundary (the fill payload handed to the executor); orders, fills and positions are real."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import replace
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from shared.brokers.saxo_broker import SaxoBroker
from shared.clock import ManualClock
from shared.domain import OrderOutcome
from shared.execution import ExecutionSettings, Executor
from shared.strategy_contract import OpenPosition
from tests.runtime.helpers import MARKET_OPEN, Rig, fly_legs, sim_positions


class CommissionAs:
    """The simulator's broker, with every fill's commission replaced by `commission`."""

    def __init__(self, inner: SaxoBroker, commission: Decimal) -> None:
        self._inner = inner
        self._commission = commission

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    def verify_order(self, order_id: str) -> OrderOutcome:
        outcome = self._inner.verify_order(order_id)
        if outcome.fill is None:
            return outcome
        return replace(outcome, fill=replace(outcome.fill, commission=self._commission))


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(MARKET_OPEN)


@pytest.fixture
def rig(sim_factory: Callable[..., Any], tmp_path: Path, clock: ManualClock) -> Iterator[Rig]:
    made = Rig(sim_factory(start=MARKET_OPEN), tmp_path, clock)
    yield made
    made.close()


def _executor_with(rig: Rig, clock: ManualClock, commission: Decimal) -> Executor:
    rig.executor = Executor(
        broker=CommissionAs(rig.broker, commission),  # type: ignore[arg-type]
        recorder=rig.recorder,
        clock=clock,
        settings=ExecutionSettings(fill_check_timeout_seconds=5.0),
        breaker=rig.breaker,
    )
    return rig.executor


def test_a_negative_commission_is_journaled_as_the_charge_it_is(
    rig: Rig, clock: ManualClock
) -> None:
    executor = _executor_with(rig, clock, Decimal("-0.65"))

    executor.submit(OpenPosition("fly-1", fly_legs(rig.server), "test entry"))
    reports = rig.run_until_idle(clock)

    assert [r.status for r in reports] == ["filled"]
    assert len(sim_positions(rig.server)) == 4
    trade = rig.journal.trades()[0]
    assert [f.commission_usd for f in trade.fills] == [Decimal("0.65")] * 4
    assert [f.commission_usd for f in reports[0].fills] == [Decimal("0.65")] * 4
    assert rig.journal.safety_events() == []  # the API's sign, not a problem


def test_an_unusable_commission_is_a_safety_event_and_the_fill_is_journaled_at_the_rate(
    rig: Rig, clock: ManualClock
) -> None:
    executor = _executor_with(rig, clock, Decimal("NaN"))

    executor.submit(OpenPosition("fly-1", fly_legs(rig.server), "test entry"))
    reports = rig.run_until_idle(clock)

    assert [r.status for r in reports] == ["filled"]
    trade = rig.journal.trades()[0]
    assert [f.commission_usd for f in trade.fills] == [Decimal("0.65")] * 4  # the assumed rate
    events = rig.journal.safety_events()
    assert [e.event for e in events] == ["commission_malformed"] * 4
    assert "NaN" in events[0].description
