"""Seeded path generation: the daily skeleton of opens and closes and each session's paths.

A daily skeleton (each trading day's open and close of log SPX, log VIX and QQQ's idiosyncratic
part) chains the days forward and backward from the anchor day's open through overnight gaps;
each day's intraday paths are Brownian bridges between that open and close on a 1-second grid
over the Cboe index-options session, drawn from a per-(seed, day) RNG. Everything here is a pure
function of (seed, anchor day, day), so prices never depend on when or how often they are
sampled.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np

from shared import market_hours
from shared.market_hours import TradingSession
from shared.saxo_sim.market_params import (
    JUMP_MEAN,
    JUMP_PROBABILITY,
    JUMP_SD,
    QQQ_BETA,
    QQQ_CORRELATION,
    QQQ_IDIO_REVERSION_PER_DAY,
    REALIZED_PER_VIX,
    SPX_DRIFT_PER_DAY,
    SPX_START,
    SPX_VIX_CORRELATION,
    SPY_TRACKING_SD,
    VIX_DAILY_LOG_VOL,
    VIX_JUMP_BETA,
    VIX_LONG_RUN,
    VIX_REVERSION_PER_DAY,
    VIX_START,
    FloatArray,
)
from shared.saxo_sim.volatility import (
    OVERNIGHT_VARIANCE_SHARE,
    TRADING_DAYS_PER_YEAR,
    u_profile_weights,
)

_QQQ_IDIO_SCALE = QQQ_BETA * math.sqrt(1.0 / QQQ_CORRELATION**2 - 1.0)
_ON = OVERNIGHT_VARIANCE_SHARE
_IN = 1.0 - OVERNIGHT_VARIANCE_SHARE
_RHO_C = math.sqrt(1.0 - SPX_VIX_CORRELATION**2)
_MAX_SPAN_DAYS = 20 * 366


@dataclass(frozen=True)
class DayPoint:
    """A trading day in the skeleton: logs of SPX and VIX, QQQ's idiosyncratic part, a jump."""

    s_open: float
    s_close: float
    v_open: float
    v_close: float
    i_open: float
    i_close: float
    jump_s: float
    jump_v: float
    jump_at: float  # fraction of the session where the jump happens
    high_z: float
    low_z: float


@dataclass(frozen=True)
class DayPaths:
    """Log paths of one session on the 1-second grid: index i is open + i seconds (0..n)."""

    session: TradingSession
    log_s: FloatArray
    log_v: FloatArray
    qqq_idio: FloatArray
    spy_track: FloatArray


def sd_day(log_vix: float) -> float:
    """SPX daily (one trading day) log-return standard deviation at this VIX level."""
    return REALIZED_PER_VIX * math.exp(log_vix) / 100.0 / math.sqrt(TRADING_DAYS_PER_YEAR)


class Skeleton:
    """Daily opens and closes chained forward and backward from the anchor day's open."""

    def __init__(self, seed: int, anchor: date) -> None:
        self._seed = seed
        self.anchor = anchor
        self._points: dict[date, DayPoint] = {}
        self._first = anchor
        self._last = anchor
        log_s, log_v = math.log(SPX_START), math.log(VIX_START)
        self._points[anchor] = self._intraday(anchor, log_s, log_v, 0.0, +1)

    def point(self, day: date) -> DayPoint:
        """The skeleton of trading day `day`; raises ValueError for a non-trading day."""
        found = self._points.get(day)
        if found is not None:
            return found
        if abs((day - self.anchor).days) > _MAX_SPAN_DAYS:
            raise ValueError(f"{day} is too far from the simulator's anchor day {self.anchor}")
        if day > self._last:
            self._extend(market_hours.trading_days_between(self._last + timedelta(days=1), day))
        elif day < self._first:
            back = market_hours.trading_days_between(day, self._first - timedelta(days=1))
            self._extend(list(reversed(back)))
        found = self._points.get(day)
        if found is None:
            raise ValueError(f"{day} is not a trading day")
        return found

    def _shocks(self, day: date) -> tuple[FloatArray, FloatArray]:
        rng = np.random.default_rng([self._seed, day.toordinal(), 1])
        return rng.standard_normal(9), rng.random(2)

    def _extend(self, days: list[date]) -> None:
        for day in days:
            if day > self._last:
                prev = self._points[self._last]
                s, v, i = self._overnight(day, prev.s_close, prev.v_close, prev.i_close, +1)
                self._points[day] = self._intraday(day, s, v, i, +1)
                self._last = day
            elif day < self._first:
                nxt = self._points[self._first]
                s, v, i = self._overnight(self._first, nxt.s_open, nxt.v_open, nxt.i_open, -1)
                self._points[day] = self._intraday(day, s, v, i, -1)
                self._first = day

    def _overnight(
        self, day: date, s: float, v: float, i: float, direction: int
    ) -> tuple[float, float, float]:
        """Apply `day`'s overnight gap to the known side (forward: previous close -> open)."""
        z, _ = self._shocks(day)
        sd = sd_day(v) * math.sqrt(_ON)
        gap_s = sd * z[0]
        noise_v = VIX_DAILY_LOG_VOL * math.sqrt(_ON) * (SPX_VIX_CORRELATION * z[0] + _RHO_C * z[2])
        noise_i = _QQQ_IDIO_SCALE * sd * z[4]
        pull_v = VIX_REVERSION_PER_DAY * _ON * (math.log(VIX_LONG_RUN) - v)
        pull_i = -QQQ_IDIO_REVERSION_PER_DAY * _ON * i
        # Backward, the stationary processes run in reverse with the same reversion.
        return (
            s + direction * gap_s,
            v + pull_v + direction * noise_v,
            i + pull_i + direction * noise_i,
        )

    def _intraday(self, day: date, s: float, v: float, i: float, direction: int) -> DayPoint:
        """`day`'s point from its known open (direction +1) or known close (direction -1)."""
        z, u = self._shocks(day)
        sd = sd_day(v) * math.sqrt(_IN)
        jump_s = JUMP_MEAN + JUMP_SD * z[6] if u[0] < JUMP_PROBABILITY else 0.0
        jump_v = VIX_JUMP_BETA * jump_s
        move_s = SPX_DRIFT_PER_DAY + sd * z[1] + jump_s
        move_v = VIX_DAILY_LOG_VOL * math.sqrt(_IN) * (SPX_VIX_CORRELATION * z[1] + _RHO_C * z[3])
        move_v += jump_v
        move_i = _QQQ_IDIO_SCALE * sd * z[5]
        pull_v = VIX_REVERSION_PER_DAY * _IN * (math.log(VIX_LONG_RUN) - v)
        pull_i = -QQQ_IDIO_REVERSION_PER_DAY * _IN * i
        other_s = s + direction * move_s
        other_v = v + pull_v + direction * move_v
        other_i = i + pull_i + direction * move_i
        if direction < 0:
            s, other_s, v, other_v, i, other_i = other_s, s, other_v, v, other_i, i
        return DayPoint(
            s,
            other_s,
            v,
            other_v,
            i,
            other_i,
            jump_s,
            jump_v,
            float(u[1]),
            abs(float(z[7])),
            abs(float(z[8])),
        )


def bridge(unit_increments: FloatArray, variances: FloatArray, target: float) -> FloatArray:
    """Cumulative path (length n+1 from 0) of the increments, bridged to end exactly at target."""
    path = np.empty(unit_increments.size + 1)
    path[0] = 0.0
    np.cumsum(unit_increments, out=path[1:])
    weight = np.empty_like(path)
    weight[0] = 0.0
    np.cumsum(variances, out=weight[1:])
    weight /= weight[-1]
    path -= weight * (path[-1] - target)
    return path


def generate_day(seed: int, day: date, point: DayPoint, session: TradingSession) -> DayPaths:
    """The intraday log paths of one session (vectorised; a few ms for all symbols)."""
    n = int((session.close - session.open).total_seconds())
    weights = u_profile_weights(n)
    rng = np.random.default_rng([seed, day.toordinal(), 2])
    z = rng.standard_normal((4, n))
    root_w = np.sqrt(weights)
    jump_index = min(n, int(point.jump_at * n) + 1)
    steps = np.zeros(n + 1)
    steps[jump_index:] = 1.0

    sd_v = VIX_DAILY_LOG_VOL * math.sqrt(_IN)
    dv = sd_v * root_w * (SPX_VIX_CORRELATION * z[0] + _RHO_C * z[1])
    target_v = point.v_close - point.v_open - point.jump_v
    log_v = point.v_open + bridge(dv, weights, target_v) + point.jump_v * steps

    vol_scale = np.exp(2.0 * (log_v[:-1] - point.v_open))  # local vol follows the VIX path
    var_s = weights * vol_scale
    ds = sd_day(point.v_open) * math.sqrt(_IN) * np.sqrt(var_s) * z[0]
    target_s = point.s_close - point.s_open - point.jump_s
    log_s = point.s_open + bridge(ds, var_s, target_s) + point.jump_s * steps

    di = _QQQ_IDIO_SCALE * sd_day(point.v_open) * math.sqrt(_IN) * root_w * z[2]
    qqq_idio = point.i_open + bridge(di, weights, point.i_close - point.i_open)
    spy_track = bridge(2.0 * SPY_TRACKING_SD * root_w * z[3], weights, 0.0)
    for array in (log_s, log_v, qqq_idio, spy_track):
        array.setflags(write=False)
    return DayPaths(session, log_s, log_v, qqq_idio, spy_track)
