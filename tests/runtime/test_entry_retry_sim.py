"""A retried entry on the simulator (issue 12, risk 2): the successful attempt's fills define
the position; the unwound attempt is journaled as a trade of its own with its realized P&L."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from shared.clock import ManualClock
from shared.strategy_contract import OpenPosition
from tests.runtime.helpers import MARKET_OPEN, Rig, control, fly_legs, sim_positions


def test_a_retried_entry_reports_and_journals_only_the_successful_attempts_fills(
    sim_factory: Callable[..., Any], tmp_path: Path
) -> None:
    server = sim_factory(start=MARKET_OPEN)
    clock = ManualClock(MARKET_OPEN)
    rejected: list[str] = []

    def reject_first_short(point: str) -> None:
        if point == "before_send:3" and not rejected:
            rejected.append(point)
            control(server, "POST", "/orders/reject_next", {"error_code": "WouldExceedMargin"})

    with Rig(server, tmp_path, clock, crash=reject_first_short) as rig:
        legs = fly_legs(server)
        rig.executor.submit(OpenPosition("fly-1", legs, "test", max_attempts=2,
                                         attempt_spacing_s=5.0))  # fmt: skip
        reports = rig.run_until_idle(clock, timeout_s=10)
        clock.advance(timedelta(seconds=6))
        reports += rig.run_until_idle(clock)

        assert [(r.status, r.attempt) for r in reports] == [("in_progress", 1), ("filled", 2)]
        filled = reports[-1]
        assert sorted(f.leg for f in filled.fills) == sorted(leg.leg for leg in legs)
        unwound, entered = rig.journal.trades_labelled("fly-1")
        assert not unwound.is_open and unwound.exit_reason == "entry_unwound"
        assert unwound.is_flat and len(unwound.fills) == 4  # two legs opened, two unwound
        costs = sum((f.commission_usd for f in unwound.fills), Decimal(0))
        assert costs > 0
        assert unwound.pnl_usd == sum((f.cash_flow_usd for f in unwound.fills), Decimal(0)) - costs
        assert entered.is_open and sorted(f.leg for f in entered.fills) == sorted(
            leg.leg for leg in legs
        )
        by_leg = sorted((f.leg, f.price, f.commission_usd) for f in filled.fills)
        assert by_leg == sorted((f.leg, f.price, f.commission_usd) for f in entered.fills)
        assert len(sim_positions(server)) == 4
