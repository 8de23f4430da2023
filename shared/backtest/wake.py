"""Wake hints: a strategy tells the backtest when it next needs to look, so the engine skips
the passes in between instead of running each.

A hint says: until `until`, no pass can act (order, event, state change) while the price of
each band's instrument stays strictly inside the band (the strategy's own quote units), except
for recording prices it keeps for `lookback` (a flash-move window). The engine finds the first
pass (on its grid: every tick in position, every minute otherwise) at which a level leaves its
band (vectorised over the day's ticks) and resumes `lookback` before the earlier of that pass
and `until`, so the strategy sees again every price its window would hold. A hint must be
conservative (the same run without hints gives the same trades: `tests/backtest/test_wake.py`)
and is optional (without a `wake_hint` method, or when it returns None, every pass is run).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Protocol, runtime_checkable

import numpy as np
import numpy.typing as npt

# A quote's mid is within a cent of the model level it is priced from (bid floored, ask
# ceiled to the cent), so the engine wakes this far inside the band (USD).
BAND_TOLERANCE = 0.02


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
    """A strategy that can give wake hints (optional; pure: no I/O, time from `now`)."""

    def wake_hint(self, now: datetime) -> WakeHint | None: ...


def first_exit(
    levels: npt.NDArray[np.float64], band: PriceBand, start: int, stop: int, stride: int
) -> int | None:
    """The first index `start + n * stride` below `stop` whose level is at or beyond the
    band's edges (moved `BAND_TOLERANCE` inwards), or None when all stay inside."""
    window = levels[start:stop:stride]
    outside = np.zeros(window.shape, dtype=bool)
    if band.low is not None:
        outside |= window <= float(band.low) + BAND_TOLERANCE
    if band.high is not None:
        outside |= window >= float(band.high) - BAND_TOLERANCE
    hits = np.flatnonzero(outside)
    return start + stride * int(hits[0]) if hits.size else None
