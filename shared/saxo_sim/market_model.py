"""The simulator's market: deterministic SPX (US500.I), VIX, SPY and QQQ paths plus overlays.

Paths are a pure function of (seed, anchor day, symbol, sim time). A daily skeleton (each
trading day's open and close) chains the days through overnight gaps; each day's intraday path
is a Brownian bridge between that open and close on a 1-second grid over the Cboe index-options
session (09:30-16:15 ET), drawn lazily from a per-(seed, day) RNG, so prices never depend on
when or how often they are sampled. Outside the session every symbol keeps its last value; SPY
and QQQ freeze at the NYSE close (16:00 ET).

Documented start: on the anchor day (the first index-options session at or after the clock's
time when the model is built) SPX opens at 6000.00 and VIX at 16.00; SPY = SPX/10 with a few
basis points of tracking noise; QQQ = 520 * (SPX/6000)^1.15 * exp(idiosyncratic walk), giving a
correlation of about 0.85. VIX follows a mean-reverting log process (long-run 18) whose shocks
have correlation -0.75 with SPX returns; SPX's realised vol is 0.85 * VIX with a U-shaped
intraday profile, and about 3 % of days carry a jump (mean -1.2 %, VIX up 5x the drop).
`script_move` and `pin` overlay the paths for the control API as functions of sim time.
"""

from __future__ import annotations

import bisect
import logging
import math
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

import numpy as np
import numpy.typing as npt

from shared import market_hours
from shared.market_hours import TradingSession, Venue
from shared.saxo_sim.instruments import QQQ_UIC, SPY_UIC, US500_UIC, VIX_UIC, InstrumentCatalog
from shared.saxo_sim.sim_clock import CLOCK_VENUE, SimClock, next_session, ny_date, session_for
from shared.saxo_sim.volatility import (
    OVERNIGHT_VARIANCE_SHARE,
    TRADING_DAYS_PER_YEAR,
    u_profile_weights,
)

logger = logging.getLogger(__name__)

FloatArray = npt.NDArray[np.float64]

SPX_START = 6000.0
VIX_START = 16.0
VIX_LONG_RUN = 18.0
QQQ_START = 520.0
SPY_PER_SPX = 0.1
REALIZED_PER_VIX = 0.85  # realised SPX vol = 0.85 * VIX/100 (variance risk premium)
SPX_DRIFT_PER_DAY = 0.07 / 252  # log drift per trading day (about 7 % a year)
VIX_DAILY_LOG_VOL = 0.07
VIX_REVERSION_PER_DAY = 0.04
SPX_VIX_CORRELATION = -0.75
JUMP_PROBABILITY = 0.03  # per trading day
JUMP_MEAN = -0.012  # log return
JUMP_SD = 0.008
VIX_JUMP_BETA = -5.0  # log VIX change per log SPX jump
QQQ_BETA = 1.15
QQQ_CORRELATION = 0.85
QQQ_IDIO_REVERSION_PER_DAY = 0.01
SPY_TRACKING_SD = 0.0003
_QQQ_IDIO_SCALE = QQQ_BETA * math.sqrt(1.0 / QQQ_CORRELATION**2 - 1.0)
_ON = OVERNIGHT_VARIANCE_SHARE
_IN = 1.0 - OVERNIGHT_VARIANCE_SHARE
_RHO_C = math.sqrt(1.0 - SPX_VIX_CORRELATION**2)

BAR_HORIZONS = frozenset({1, 2, 3, 5, 10, 15, 30, 60, 120, 180, 240, 300, 360, 480, 1440})
MAX_BAR_COUNT = 1200
MAX_INTRADAY_BAR_DAYS = 30  # intraday bars reach back at most this many trading days
_VOLUME_PER_MINUTE = {SPY_UIC: 180_000, QQQ_UIC: 110_000}
_DAY_CACHE_SIZE = 8
_MAX_SPAN_DAYS = 20 * 366


@dataclass(frozen=True)
class Bar:
    """One OHLC sample; `time` is the interval start (daily bars: the date at 00:00 UTC)."""

    time: datetime
    open: float
    high: float
    low: float
    close: float
    volume: int


@dataclass(frozen=True)
class _DayPoint:
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
class _DayPaths:
    """Log paths of one session on the 1-second grid: index i is open + i seconds (0..n)."""

    session: TradingSession
    log_s: FloatArray
    log_v: FloatArray
    qqq_idio: FloatArray
    spy_track: FloatArray


@dataclass
class _Overlay:
    """Control-API overlay of one symbol: a piecewise-linear log offset plus pinned intervals."""

    times: list[float] = field(default_factory=list)  # epoch seconds, ascending
    offsets: list[float] = field(default_factory=list)
    pins: list[tuple[float, float, float]] = field(default_factory=list)  # start, end, level

    def offset(self, t: float) -> float:
        k = bisect.bisect_right(self.times, t)
        if k == 0:
            return 0.0
        if k == len(self.times):
            return self.offsets[-1]
        t0, t1 = self.times[k - 1], self.times[k]
        o0, o1 = self.offsets[k - 1], self.offsets[k]
        return o0 + (o1 - o0) * (t - t0) / (t1 - t0)

    def offsets_at(self, ts: FloatArray) -> FloatArray:
        if not self.times:
            return np.zeros_like(ts)
        return np.interp(ts, self.times, self.offsets, left=0.0, right=self.offsets[-1])

    def pinned(self, t: float) -> float | None:
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


def _sd_day(log_vix: float) -> float:
    """SPX daily (one trading day) log-return standard deviation at this VIX level."""
    return REALIZED_PER_VIX * math.exp(log_vix) / 100.0 / math.sqrt(TRADING_DAYS_PER_YEAR)


class _Skeleton:
    """Daily opens and closes chained forward and backward from the anchor day's open."""

    def __init__(self, seed: int, anchor: date) -> None:
        self._seed = seed
        self.anchor = anchor
        self._points: dict[date, _DayPoint] = {}
        self._first = anchor
        self._last = anchor
        log_s, log_v = math.log(SPX_START), math.log(VIX_START)
        self._points[anchor] = self._intraday(anchor, log_s, log_v, 0.0, +1)

    def point(self, day: date) -> _DayPoint:
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
        sd = _sd_day(v) * math.sqrt(_ON)
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

    def _intraday(self, day: date, s: float, v: float, i: float, direction: int) -> _DayPoint:
        """`day`'s point from its known open (direction +1) or known close (direction -1)."""
        z, u = self._shocks(day)
        sd = _sd_day(v) * math.sqrt(_IN)
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
        return _DayPoint(
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


def _bridge(unit_increments: FloatArray, variances: FloatArray, target: float) -> FloatArray:
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


def generate_day(seed: int, day: date, point: _DayPoint, session: TradingSession) -> _DayPaths:
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
    log_v = point.v_open + _bridge(dv, weights, target_v) + point.jump_v * steps

    vol_scale = np.exp(2.0 * (log_v[:-1] - point.v_open))  # local vol follows the VIX path
    var_s = weights * vol_scale
    ds = _sd_day(point.v_open) * math.sqrt(_IN) * np.sqrt(var_s) * z[0]
    target_s = point.s_close - point.s_open - point.jump_s
    log_s = point.s_open + _bridge(ds, var_s, target_s) + point.jump_s * steps

    di = _QQQ_IDIO_SCALE * _sd_day(point.v_open) * math.sqrt(_IN) * root_w * z[2]
    qqq_idio = point.i_open + _bridge(di, weights, point.i_close - point.i_open)
    spy_track = _bridge(2.0 * SPY_TRACKING_SD * root_w * z[3], weights, 0.0)
    for array in (log_s, log_v, qqq_idio, spy_track):
        array.setflags(write=False)
    return _DayPaths(session, log_s, log_v, qqq_idio, spy_track)


_VENUES: dict[int, Venue] = {
    US500_UIC: CLOCK_VENUE,
    VIX_UIC: CLOCK_VENUE,
    SPY_UIC: "nyse",
    QQQ_UIC: "nyse",
}


def _epoch(at: datetime) -> float:
    return at.timestamp()


class MarketModel:
    """Underlying levels (US500.I, VIX.I, SPY, QQQ) at any sim time, with control overlays.

    Plain synchronous code owned by the simulator's event loop (not thread-safe). Levels are
    floats in index points or dollars; times are tz-aware (any zone, UTC recommended).
    """

    def __init__(self, seed: int, clock: SimClock, catalog: InstrumentCatalog) -> None:
        self.seed = seed
        self._clock = clock
        self._catalog = catalog
        now = clock.now()
        today = session_for(ny_date(now))
        anchor = today.day if today is not None and now <= today.close else None
        self.anchor_day: date = anchor or next_session(ny_date(now)).day
        self._skeleton = _Skeleton(seed, self.anchor_day)
        self._days: OrderedDict[date, _DayPaths] = OrderedDict()
        self._overlays: dict[int, _Overlay] = {uic: _Overlay() for uic in _VENUES}
        self._memo: dict[tuple[int, datetime], float] = {}
        self._daily_bar_cache: dict[tuple[int, date], Bar] = {}
        logger.info(
            "sim_market_ready seed=%d anchor_day=%s spx_open=%.2f vix_open=%.2f",
            seed,
            self.anchor_day,
            SPX_START,
            VIX_START,
        )

    # ------------------------------------------------------------------ levels

    def now(self) -> datetime:
        """The simulator clock's now (tz-aware UTC)."""
        return self._clock.now()

    def spot(self, uic: int, at: datetime | None = None) -> float:
        """Level of an underlying at `at` (None: the clock's now); VIX too. Raises ValueError
        for an unknown UIC. Outside its session a symbol keeps its last session value."""
        when = self._clock.now() if at is None else at
        self._check_uic(uic)
        key = (uic, when)
        value = self._memo.get(key)
        if value is None:
            if len(self._memo) > 4096:
                self._memo.clear()
            value = self._served(uic, when)
            self._memo[key] = value
        return value

    def vix(self, at: datetime | None = None) -> float:
        """VIX level at `at` (None: now)."""
        return self.spot(VIX_UIC, at)

    def reference_price(self, uic: int, day: date) -> float:
        """The level at `day`'s session open (strike listing); the last close on closed days."""
        self._check_uic(uic)
        found = session_for(day)
        if found is not None:
            return self.spot(uic, found.open)
        return self.spot(uic, datetime(day.year, day.month, day.day, 12, tzinfo=UTC))

    def market_open(self, uic: int, at: datetime | None = None) -> bool:
        """True while the underlying's venue is in session (US500.I and VIX: Cboe index
        options hours; SPY and QQQ: NYSE hours)."""
        when = self._clock.now() if at is None else at
        venue = self._check_uic(uic)
        found = session_for(ny_date(when), venue)
        return found is not None and found.open <= when < found.close

    def effective_time(self, at: datetime, venue: Venue) -> datetime:
        """`at` while `venue` is in session, else the close of its last session before `at`."""
        return self._locate(at, venue)[2]

    # ------------------------------------------------------------------ overlays

    def script_move(self, uic: int, target: float, over_seconds: float) -> None:
        """Move `uic` from its level now to `target` linearly (in log terms) over
        `over_seconds` of sim time, then keep following the path from there. Ends a pin.
        Raises ValueError for an unknown UIC, a target <= 0 or a negative duration."""
        self._check_uic(uic)
        if not (math.isfinite(target) and target > 0):
            raise ValueError(f"script_move target must be > 0, got {target!r}")
        if not (math.isfinite(over_seconds) and over_seconds >= 0):
            raise ValueError(f"script_move over_seconds must be >= 0, got {over_seconds!r}")
        now = self._clock.now()
        t0 = _epoch(now)
        overlay = self._overlays[uic]
        level = overlay.end_pin(t0)
        start = math.log(level / self._raw(uic, now)) if level is not None else overlay.offset(t0)
        overlay.freeze(t0, start)
        span = max(over_seconds, 0.001)
        end = now + timedelta(seconds=span)
        overlay.times.append(t0 + span)
        overlay.offsets.append(math.log(target / self._raw(uic, end)))
        self._changed()
        logger.info(
            "sim_script_move uic=%d target=%.4f over_s=%.3f until=%s",
            uic,
            target,
            over_seconds,
            end.isoformat(),
        )

    def pin(self, uic: int, level: float | None) -> None:
        """Hold `uic` at `level` from now on; None releases it (the path continues from the
        pinned level). Raises ValueError for an unknown UIC or a level <= 0."""
        self._check_uic(uic)
        if level is not None and not (math.isfinite(level) and level > 0):
            raise ValueError(f"pin level must be > 0 or None, got {level!r}")
        now = self._clock.now()
        t0 = _epoch(now)
        overlay = self._overlays[uic]
        if level is None:
            held = overlay.end_pin(t0)
            if held is not None:
                overlay.freeze(t0, math.log(held / self._raw(uic, now)))
        else:
            overlay.end_pin(t0)
            overlay.freeze(t0, overlay.offset(t0))
            overlay.pins.append((t0, math.inf, float(level)))
        self._changed()
        logger.info("sim_pin uic=%d level=%s", uic, level)

    # ------------------------------------------------------------------ bars

    def bars(self, uic: int, horizon_minutes: int, count: int, end: datetime) -> list[Bar]:
        """Up to `count` OHLC bars with start time <= `end` (capped at now), oldest first.

        Daily bars (1440) reach back as far as asked (before the anchor day from the cheap
        daily skeleton); intraday bars cover at most the last 30 trading days. Raises
        ValueError for an unknown UIC, a horizon not in BAR_HORIZONS or count outside 1..1200.
        """
        self._check_uic(uic)
        if horizon_minutes not in BAR_HORIZONS:
            raise ValueError(f"unsupported horizon {horizon_minutes} minutes")
        if not 1 <= count <= MAX_BAR_COUNT:
            raise ValueError(f"count must be within 1..{MAX_BAR_COUNT}, got {count}")
        if end.tzinfo is None:
            raise ValueError("bars end must be timezone-aware")
        end = min(end, self._clock.now())
        if horizon_minutes == 1440:
            return self._daily_bars(uic, count, end)
        return self._intraday_bars(uic, horizon_minutes, count, end)

    # ------------------------------------------------------------------ internals: levels

    @staticmethod
    def _check_uic(uic: int) -> Venue:
        venue = _VENUES.get(uic)
        if venue is None:
            raise ValueError(f"unknown underlying uic {uic}")
        return venue

    def _changed(self) -> None:
        self._memo.clear()
        self._daily_bar_cache.clear()

    def _paths(self, day: date) -> _DayPaths:
        found = self._days.get(day)
        if found is not None:
            self._days.move_to_end(day)
            return found
        session = session_for(day)
        if session is None:
            raise ValueError(f"{day} has no index options session")
        found = generate_day(self.seed, day, self._skeleton.point(day), session)
        self._days[day] = found
        if len(self._days) > _DAY_CACHE_SIZE:
            self._days.popitem(last=False)
        return found

    def _locate(self, at: datetime, venue: Venue) -> tuple[date, int, datetime]:
        """(session day, grid index, effective time) of the value shown at `at` on `venue`."""
        day = ny_date(at)
        grid = session_for(day)
        own = session_for(day, venue)
        if grid is None or own is None or at < own.open:
            grid = market_hours.previous_session(day, venue=CLOCK_VENUE)
            own = session_for(grid.day, venue)
            assert own is not None
        elif at < own.close:
            return grid.day, (at - grid.open) // timedelta(seconds=1), at
        return grid.day, (own.close - grid.open) // timedelta(seconds=1), own.close

    def _served(self, uic: int, at: datetime) -> float:
        overlay = self._overlays[uic]
        t = _epoch(at)
        level = overlay.pinned(t)
        if level is not None:
            return level
        return self._raw(uic, at) * math.exp(overlay.offset(t))

    def _raw(self, uic: int, at: datetime) -> float:
        """The level before this symbol's own overlay (SPY/QQQ include SPX's overlay)."""
        day, index, effective = self._locate(at, _VENUES[uic])
        paths = self._paths(day)
        if uic == US500_UIC:
            return math.exp(float(paths.log_s[index]))
        if uic == VIX_UIC:
            return math.exp(float(paths.log_v[index]))
        spx = self._served(US500_UIC, effective)
        if uic == SPY_UIC:
            return spx * SPY_PER_SPX * math.exp(float(paths.spy_track[index]))
        beta_part = QQQ_BETA * (math.log(spx) - math.log(SPX_START))
        return QQQ_START * math.exp(beta_part + float(paths.qqq_idio[index]))

    def _series(self, uic: int, day: date) -> tuple[FloatArray, int]:
        """Served levels on `day`'s full grid and the grid index of the symbol's close."""
        paths = self._paths(day)
        session = paths.session
        n = paths.log_s.size - 1
        own = session_for(day, _VENUES[uic])
        assert own is not None
        close_index = min(n, int((own.close - session.open).total_seconds()))
        times = _epoch(session.open) + np.arange(n + 1, dtype=np.float64)
        if uic == US500_UIC:
            raw = np.exp(paths.log_s)
        elif uic == VIX_UIC:
            raw = np.exp(paths.log_v)
        else:
            spx, _ = self._series(US500_UIC, day)
            frozen = np.minimum(np.arange(n + 1), close_index)
            if uic == SPY_UIC:
                raw = spx[frozen] * SPY_PER_SPX * np.exp(paths.spy_track[frozen])
            else:
                beta_part = QQQ_BETA * (np.log(spx[frozen]) - math.log(SPX_START))
                raw = QQQ_START * np.exp(beta_part + paths.qqq_idio[frozen])
        overlay = self._overlays[uic]
        values = raw * np.exp(overlay.offsets_at(times))
        for start, stop, level in overlay.pins:
            values[(times >= start) & (times < stop)] = level
        return values, close_index

    # ------------------------------------------------------------------ internals: bars

    def _intraday_bars(self, uic: int, minutes: int, count: int, end: datetime) -> list[Bar]:
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

    def _daily_bars(self, uic: int, count: int, end: datetime) -> list[Bar]:
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
        if day < self.anchor_day:
            return self._skeleton_bar(uic, day, stamp)
        cached = self._daily_bar_cache.get((uic, day))
        if cached is not None:
            return cached
        session = session_for(day)
        assert session is not None
        intraday = self._day_bars(uic, session, 86_400, end)[0]
        bar = Bar(
            stamp, intraday.open, intraday.high, intraday.low, intraday.close, intraday.volume
        )
        own = session_for(day, _VENUES[uic])
        if own is not None and end >= own.close:
            self._daily_bar_cache[(uic, day)] = bar
        return bar

    def _skeleton_bar(self, uic: int, day: date, stamp: datetime) -> Bar:
        point = self._skeleton.point(day)
        sd = _sd_day(point.v_open)
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
