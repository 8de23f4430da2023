"""The engine's side of wake hints (`shared.strategy.wake`): the first pass on a grid at which
a level leaves a hint's band, vectorised over the day's ticks.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from shared.strategy.wake import PriceBand

# A quote's mid is within a cent of the model level it is priced from (bid floored, ask
# ceiled to the cent), so the engine wakes this far inside the band (USD).
BAND_TOLERANCE = 0.02


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
