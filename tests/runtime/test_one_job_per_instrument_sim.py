"""Two closes of the same position while the broker's positions lag the first close's fills
(issue 12, risk 8): the second close must not send orders sized on the stale positions.

Positions lag is made at the process boundary (the broker's positions answer frozen at the
moment the closes are submitted); orders, fills and the simulator's book are real."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from shared.brokers.saxo_broker import SaxoBroker
from shared.clock import ManualClock
from shared.domain import Position
from shared.execution import ExecutionSettings, Executor
from shared.execution.unwind import closing_spec
from shared.strategy_contract import ClosePosition, OpenPosition
from tests.runtime.helpers import MARKET_OPEN, Rig, fly_legs, sim_orders, sim_positions


class LaggingPositions:
    """The simulator's broker whose positions answer stays as it was while `frozen`."""

    def __init__(self, inner: SaxoBroker) -> None:
        self._inner = inner
        self.frozen: list[Position] | None = None

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    def positions(self) -> list[Position]:
        return list(self.frozen) if self.frozen is not None else self._inner.positions()


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(MARKET_OPEN)


@pytest.fixture
def rig(sim_factory: Callable[..., Any], tmp_path: Path, clock: ManualClock) -> Iterator[Rig]:
    made = Rig(sim_factory(start=MARKET_OPEN), tmp_path, clock)
    yield made
    made.close()


def test_a_second_close_of_the_same_legs_never_over_closes_while_positions_lag(
    rig: Rig, clock: ManualClock
) -> None:
    broker = LaggingPositions(rig.broker)
    rig.executor = Executor(
        broker=broker,  # type: ignore[arg-type]
        recorder=rig.recorder,
        clock=clock,
        settings=ExecutionSettings(fill_check_timeout_seconds=5.0),
        breaker=rig.breaker,
    )
    legs = fly_legs(rig.server)
    rig.executor.submit(OpenPosition("fly-1", legs, "test entry"))
    rig.run_until_idle(clock)
    held = sim_positions(rig.server)
    entered = len(sim_orders(rig.server))
    closing = tuple(closing_spec(leg, leg.quantity) for leg in reversed(legs))

    broker.frozen = rig.broker.positions()  # the fly, as the broker will show it for a while
    rig.executor.submit(ClosePosition("close-a", closing, "strategy stop", urgent=True))
    rig.executor.submit(ClosePosition("close-b", closing, "protective close", urgent=True))
    for _ in range(6):  # 3 simulated seconds of passes with the stale positions
        rig.executor.step()
        clock.advance(timedelta(seconds=0.5))
    broker.frozen = None  # the broker catches up
    rig.run_until_idle(clock, timeout_s=60)

    assert len(held) == 4
    assert sim_positions(rig.server) == {}  # flat: nothing flipped by a second close
    assert len(sim_orders(rig.server)) - entered == 4  # one close order per leg, no more
