"""Wake hints: a strategy may tell a backtest when it next needs to look, so the engine skips
the passes in between instead of running each (`shared.backtest.engine`).

A hint says: until `until`, no pass can act (order, event, state change) while the price of
each band's instrument stays strictly inside the band (the strategy's own quote units), except
for recording prices it keeps for `lookback` (a flash-move window). The engine finds the first
pass (on its grid: every tick in position, every minute otherwise) at which a level leaves its
band and resumes `lookback` before the earlier of that pass and `until`, so the strategy sees
again every price its window would hold. A hint must be conservative (the same run without
hints gives the same trades: `tests/backtest/test_wake.py`) and is optional (without a
`wake_hint` method, or when it returns None, every pass is run). Pure: no I/O.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Protocol, runtime_checkable

from shared.strategy.exits import FlashMonitor
from shared.strategy_contract import Snapshot


@dataclass(frozen=True)
class PriceBand:
    """Prices of `uic` (the strategy's quote units: USD per share, VIX points) strictly between
    `low` and `high` (None: unbounded on that side)."""

    uic: int
    low: Decimal | None
    high: Decimal | None


@dataclass(frozen=True)
class WakeHint:
    """See the module docstring: nothing can happen before `until` (timezone-aware) while
    every band holds, apart from prices kept for `lookback`."""

    until: datetime
    bands: tuple[PriceBand, ...]
    lookback: timedelta = timedelta(0)


@runtime_checkable
class WakeHinting(Protocol):
    """A strategy that can give wake hints (optional; pure: no I/O). Asked at the end of each
    pass with that pass's snapshot (its quotes as the decide read them)."""

    def wake_hint(self, snapshot: Snapshot) -> WakeHint | None: ...


def flash_safe_band(
    flash: FlashMonitor, last_price: Decimal | None, percent: float
) -> tuple[Decimal, Decimal] | None:
    """Prices at which `flash` cannot see a move of `percent` %: less than that from every
    price in its window, and from each other (within `percent` / 3 % of the window's middle:
    two such prices differ by less than 2/3 x limit / (1 - limit / 3) < limit). None when
    nothing is known yet (no window and no `last_price`)."""
    limit = Decimal(str(percent)) / 100
    extremes = flash.price_range()
    if extremes is None:
        if last_price is None:
            return None
        extremes = (last_price, last_price)
    lowest, highest = extremes
    middle = (lowest + highest) / 2
    return (
        max(highest * (1 - limit), middle * (1 - limit / 3)),
        min(lowest * (1 + limit), middle * (1 + limit / 3)),
    )
