"""Control-API overlays: per-symbol piecewise-linear log offsets and pinned levels over sim time.

Times are epoch seconds (UTC); offsets are natural-log multipliers of the raw level; pinned
levels are in the symbol's own units (index points or dollars).
"""

from __future__ import annotations

import bisect
import math
from dataclasses import dataclass, field

import numpy as np

from shared.saxo_sim.market_params import FloatArray


@dataclass
class Overlay:
    """Control-API overlay of one symbol: a piecewise-linear log offset plus pinned intervals."""

    times: list[float] = field(default_factory=list)  # epoch seconds, ascending
    offsets: list[float] = field(default_factory=list)
    pins: list[tuple[float, float, float]] = field(default_factory=list)  # start, end, level

    def offset(self, t: float) -> float:
        """The log offset at epoch second `t` (0 before the first point, flat after the last)."""
        k = bisect.bisect_right(self.times, t)
        if k == 0:
            return 0.0
        if k == len(self.times):
            return self.offsets[-1]
        t0, t1 = self.times[k - 1], self.times[k]
        o0, o1 = self.offsets[k - 1], self.offsets[k]
        return o0 + (o1 - o0) * (t - t0) / (t1 - t0)

    def offsets_at(self, ts: FloatArray) -> FloatArray:
        """`offset` at each epoch second of `ts` (vectorised)."""
        if not self.times:
            return np.zeros_like(ts)
        return np.interp(ts, self.times, self.offsets, left=0.0, right=self.offsets[-1])

    def pinned(self, t: float) -> float | None:
        """The level pinned at epoch second `t` (the latest pin wins), or None."""
        for start, end, level in reversed(self.pins):
            if start <= t < end:
                return level
        return None

    def freeze(self, t: float, value: float) -> None:
        """Keep history before `t`, set the offset at `t` and drop everything after it."""
        k = bisect.bisect_left(self.times, t)
        del self.times[k:], self.offsets[k:]
        self.times.append(t)
        self.offsets.append(value)

    def end_pin(self, t: float) -> float | None:
        """Close the pin active at `t` (if any) and return its level."""
        if self.pins and self.pins[-1][1] == math.inf and self.pins[-1][0] <= t:
            start, _, level = self.pins[-1]
            self.pins[-1] = (start, t, level)
            return level
        return None

    def apply(self, times: FloatArray, raw: FloatArray) -> FloatArray:
        """Served levels of `raw` sampled at `times`: offsets applied, then pinned intervals."""
        values = raw * np.exp(self.offsets_at(times))
        for start, stop, level in self.pins:
            values[(times >= start) & (times < stop)] = level
        return values
