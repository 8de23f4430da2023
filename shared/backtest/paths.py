"""Intraday paths from daily bars: a seeded Brownian bridge through each day's OHLC.

The log price starts at the open, touches the high and the low at random minutes (in random
order) and ends at the close; between those anchors it is a Brownian bridge whose per-minute
variance follows the simulator's U-shaped intraday profile (`saxo_sim.volatility`). The path is
clipped to [low, high], so it passes exactly through the day's open, high, low and close.
Each minute becomes four ticks: open, then the minute's high or low (the one nearer the open
first), then the other, then the close; the minute's extremes add a small seeded excursion that
never leaves the day's range. Pure numpy; the same (seed, day, bar) gives the same ticks.
Days with real 1-minute bars (`--data`) skip the bridge: `minute_bar_day`.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from datetime import date

import numpy as np
import numpy.typing as npt

from shared.backtest.history import DailyBar
from shared.saxo_sim.market_paths import bridge
from shared.saxo_sim.volatility import u_profile_weights

TICKS_PER_MINUTE = 4
TICK_SECONDS = 60 // TICKS_PER_MINUTE
FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True)
class DayTicks:
    """One day's ticks: `prices[m]` = (open, first extreme, second extreme, close) of minute m
    after the session open, in index points. Read-only."""

    day: date
    prices: FloatArray

    @property
    def minutes(self) -> int:
        return int(self.prices.shape[0])


def minute_variances(minutes: int) -> FloatArray:
    """Share of the day's intraday variance in each minute (U-shaped, sums to 1)."""
    per_second = u_profile_weights(minutes * 60)
    return np.asarray(per_second.reshape(minutes, 60).sum(axis=1), dtype=np.float64)


SPX_STREAM, NASDAQ_STREAM = 15, 16  # random streams of the two indices' bridges


def bridged_day(seed: int, bar: DailyBar, minutes: int, stream: int = SPX_STREAM) -> DayTicks:
    """The day's 1-minute ticks through `bar`'s open, high, low and close (see module doc);
    `stream` keeps each index's path its own for one seed."""
    if minutes < 3:
        raise ValueError(f"a session needs at least 3 minutes, got {minutes}")
    rng = np.random.default_rng([seed, bar.day.toordinal(), stream])
    variances = minute_variances(minutes)
    z = rng.standard_normal(minutes)
    day_sd = max(math.log(bar.high / bar.low), 1e-6) / 2.0
    anchors = _anchors(rng, minutes, bar)
    path = np.empty(minutes + 1)
    for (i, start), (j, end) in itertools.pairwise(anchors):
        increments = day_sd * np.sqrt(variances[i:j]) * z[i:j]
        log_start, log_end = math.log(start), math.log(end)
        path[i : j + 1] = log_start + bridge(increments, variances[i:j], log_end - log_start)
    np.clip(path, math.log(bar.low), math.log(bar.high), out=path)
    levels = np.exp(path)
    np.clip(levels, bar.low, bar.high, out=levels)
    for index, price in anchors:  # exactly the bar's prices, not exp(log(x))
        levels[index] = price
    return DayTicks(bar.day, _minute_ticks(rng, levels, variances, day_sd, bar))


def _anchors(rng: np.random.Generator, minutes: int, bar: DailyBar) -> list[tuple[int, float]]:
    """(minute index, price) points the path passes: open, the high and the low, close.
    An extreme equal to the open or the close is reached there."""
    inner = rng.choice(np.arange(1, minutes), size=2, replace=False)
    high_at = 0 if bar.open >= bar.high else minutes if bar.close >= bar.high else int(inner[0])
    low_at = 0 if bar.open <= bar.low else minutes if bar.close <= bar.low else int(inner[1])
    points = {0: bar.open, minutes: bar.close, high_at: bar.high, low_at: bar.low}
    return sorted(points.items())


def _minute_ticks(
    rng: np.random.Generator, levels: FloatArray, variances: FloatArray, day_sd: float,
    bar: DailyBar,
) -> FloatArray:  # fmt: skip
    opens, closes = levels[:-1], levels[1:]
    scale = 0.5 * day_sd * np.sqrt(variances) * opens
    up = np.abs(rng.standard_normal(opens.size)) * scale
    down = np.abs(rng.standard_normal(opens.size)) * scale
    highs = np.minimum(bar.high, np.maximum(opens, closes) + up)
    lows = np.maximum(bar.low, np.minimum(opens, closes) - down)
    return _ordered_ticks(opens, highs, lows, closes)


def minute_bar_day(day: date, bars: FloatArray) -> DayTicks:
    """The day's ticks from real 1-minute bars: `bars[m]` = (open, high, low, close) of minute
    m after the session open; each becomes open, the extreme nearer the open, the other, close."""
    return DayTicks(day, _ordered_ticks(bars[:, 0], bars[:, 1], bars[:, 2], bars[:, 3]))


def _ordered_ticks(
    opens: FloatArray, highs: FloatArray, lows: FloatArray, closes: FloatArray
) -> FloatArray:
    """(open, nearer extreme, other extreme, close) per minute, read-only."""
    high_first = (highs - opens) <= (opens - lows)
    first = np.where(high_first, highs, lows)
    second = np.where(high_first, lows, highs)
    ticks = np.column_stack((opens, first, second, closes))
    ticks.setflags(write=False)
    return ticks
