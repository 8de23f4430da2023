"""OHLC bars of the served levels: intraday and daily from each session's 1-second series, and
daily bars before the anchor day from the daily skeleton alone (cheap, so they reach back far).

Bar times are tz-aware UTC; levels are in the symbol's units; volumes are synthetic (SPY and
QQQ only, growing with the bar's move; index bars carry 0).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import numpy as np

from shared import market_hours
from shared.market_hours import TradingSession
from shared.saxo_sim.instruments import QQQ_UIC, SPY_UIC, VIX_UIC
from shared.saxo_sim.market_params import (
    QQQ_BETA,
    QQQ_CORRELATION,
    QQQ_START,
    SPX_START,
    SPY_PER_SPX,
    VENUES,
    VIX_DAILY_LOG_VOL,
    FloatArray,
)
from shared.saxo_sim.market_paths import Skeleton, sd_day
from shared.saxo_sim.sim_clock import ny_date, session_for

BAR_HORIZONS = frozenset({1, 2, 3, 5, 10, 15, 30, 60, 120, 180, 240, 300, 360, 480, 1440})
MAX_BAR_COUNT = 1200
MAX_INTRADAY_BAR_DAYS = 30  # intraday bars reach back at most this many trading days
_VOLUME_PER_MINUTE = {SPY_UIC: 180_000, QQQ_UIC: 110_000}

# (uic, session day) -> served levels on the day's 1-second grid and the symbol's close index
SeriesFn = Callable[[int, date], tuple[FloatArray, int]]


@dataclass(frozen=True)
class Bar:
    """One OHLC sample; `time` is the interval start (daily bars: the date at 00:00 UTC)."""

    time: datetime
    open: float
    high: float
    low: float
    close: float
    volume: int


class BarMaker:
    """Bars of one model's served levels; caches the daily bars of sessions already closed.

    Arguments are validated by `MarketModel.bars` (known UIC, supported horizon, count within
    1..MAX_BAR_COUNT, tz-aware `end` no later than now). Not thread-safe.
    """

    def __init__(self, series: SeriesFn, skeleton: Skeleton, anchor_day: date) -> None:
        self._series = series
        self._skeleton = skeleton
        self._anchor_day = anchor_day
        self._daily_cache: dict[tuple[int, date], Bar] = {}

    def clear(self) -> None:
        """Forget the cached daily bars (the served levels changed)."""
        self._daily_cache.clear()

    def intraday(self, uic: int, minutes: int, count: int, end: datetime) -> list[Bar]:
        """Up to `count` bars of `minutes` with start <= `end`, oldest first, from at most
        MAX_INTRADAY_BAR_DAYS sessions; a session's close print joins its last bar."""
        bars: list[Bar] = []
        day = ny_date(end)
        sessions_seen = 0
        while len(bars) < count and sessions_seen < MAX_INTRADAY_BAR_DAYS:
            found = session_for(day)
            day -= timedelta(days=1)
            if found is None or end < found.open:
                continue
            sessions_seen += 1
            bars[:0] = self._day_bars(uic, found, minutes * 60, end)
        return bars[-count:]

    def _day_bars(self, uic: int, session: TradingSession, width: int, end: datetime) -> list[Bar]:
        values, close_index = self._series(uic, session.day)
        last = min(close_index, (end - session.open) // timedelta(seconds=1))
        stop = last + 1 if last < close_index else close_index  # the close print joins the last bar
        starts = np.arange(0, max(stop, 1), width)
        segment = values[: last + 1]
        highs = np.maximum.reduceat(segment, starts)
        lows = np.minimum.reduceat(segment, starts)
        ends = np.append(starts[1:], segment.size) - 1
        per_minute = _VOLUME_PER_MINUTE.get(uic, 0)
        bars = []
        for k, first in enumerate(starts):
            o, c = float(segment[first]), float(segment[ends[k]])
            span_minutes = (ends[k] - first + 1) / 60.0
            volume = int(per_minute * span_minutes * (1.0 + 200.0 * abs(c / o - 1.0)))
            bars.append(
                Bar(
                    session.open.astimezone(UTC) + timedelta(seconds=int(first)),
                    o,
                    float(highs[k]),
                    float(lows[k]),
                    c,
                    volume,
                )
            )
        return bars

    def daily(self, uic: int, count: int, end: datetime) -> list[Bar]:
        """Up to `count` daily bars (stamped 00:00 UTC of the day) of sessions opened by `end`."""
        end_day = ny_date(end)
        days = market_hours.trading_days_between(
            end_day - timedelta(days=count * 3 // 2 + 30), end_day
        )
        today = session_for(end_day)
        if days and days[-1] == end_day and (today is None or end < today.open):
            days.pop()
        return [self._daily_bar(uic, day, end) for day in days[-count:]]

    def _daily_bar(self, uic: int, day: date, end: datetime) -> Bar:
        stamp = datetime(day.year, day.month, day.day, tzinfo=UTC)
        if day < self._anchor_day:
            return self._skeleton_bar(uic, day, stamp)
        cached = self._daily_cache.get((uic, day))
        if cached is not None:
            return cached
        session = session_for(day)
        assert session is not None
        intraday = self._day_bars(uic, session, 86_400, end)[0]
        bar = Bar(
            stamp, intraday.open, intraday.high, intraday.low, intraday.close, intraday.volume
        )
        own = session_for(day, VENUES[uic])
        if own is not None and end >= own.close:
            self._daily_cache[(uic, day)] = bar
        return bar

    def _skeleton_bar(self, uic: int, day: date, stamp: datetime) -> Bar:
        point = self._skeleton.point(day)
        sd = sd_day(point.v_open)
        if uic == VIX_UIC:
            o, c, scale = point.v_open, point.v_close, VIX_DAILY_LOG_VOL
            o, c = math.exp(o), math.exp(c)
        else:
            o, c, scale = math.exp(point.s_open), math.exp(point.s_close), sd
            if uic == SPY_UIC:
                o, c = o * SPY_PER_SPX, c * SPY_PER_SPX
            elif uic == QQQ_UIC:
                o = QQQ_START * math.exp(
                    QQQ_BETA * (point.s_open - math.log(SPX_START)) + point.i_open
                )
                c = QQQ_START * math.exp(
                    QQQ_BETA * (point.s_close - math.log(SPX_START)) + point.i_close
                )
                scale = sd * QQQ_BETA / QQQ_CORRELATION
        high = max(o, c) * math.exp(0.5 * scale * point.high_z)
        low = min(o, c) * math.exp(-0.5 * scale * point.low_z)
        volume = int(_VOLUME_PER_MINUTE.get(uic, 0) * 390 * (1.0 + 20.0 * abs(c / o - 1.0)))
        return Bar(stamp, o, high, low, c, volume)
