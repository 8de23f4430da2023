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

The work is split: `market_params` (the documented parameters), `market_paths` (the seeded
skeleton and intraday paths), `market_overlay` (control-API offsets and pins) and `market_bars`
(OHLC bars); this module ties them to the sim clock and serves levels.
"""

from __future__ import annotations

import logging
import math
from collections import OrderedDict
from datetime import UTC, date, datetime, timedelta

import numpy as np

from shared import market_hours
from shared.logger_service import kv
from shared.market_hours import Venue
from shared.saxo_sim.instruments import SPY_UIC, US500_UIC, VIX_UIC, InstrumentCatalog
from shared.saxo_sim.market_bars import (
    BAR_HORIZONS,
    MAX_BAR_COUNT,
    MAX_INTRADAY_BAR_DAYS,
    Bar,
    BarMaker,
)
from shared.saxo_sim.market_overlay import Overlay
from shared.saxo_sim.market_params import (
    QQQ_BETA,
    QQQ_CORRELATION,
    QQQ_START,
    SPX_START,
    SPY_PER_SPX,
    VENUES,
    VIX_START,
    FloatArray,
)
from shared.saxo_sim.market_paths import DayPaths, Skeleton, generate_day
from shared.saxo_sim.sim_clock import CLOCK_VENUE, SimClock, next_session, ny_date, session_for

__all__ = [
    "BAR_HORIZONS",
    "MAX_BAR_COUNT",
    "MAX_INTRADAY_BAR_DAYS",
    "QQQ_BETA",
    "QQQ_CORRELATION",
    "QQQ_START",
    "SPX_START",
    "SPY_PER_SPX",
    "VIX_START",
    "Bar",
    "MarketModel",
    "generate_day",
]

logger = logging.getLogger(__name__)

_DAY_CACHE_SIZE = 8


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
        self._skeleton = Skeleton(seed, self.anchor_day)
        self._days: OrderedDict[date, DayPaths] = OrderedDict()
        self._overlays: dict[int, Overlay] = {uic: Overlay() for uic in VENUES}
        self._memo: dict[tuple[int, datetime], float] = {}
        self._bars = BarMaker(self._series, self._skeleton, self.anchor_day)
        logger.info(kv(
            "sim_market_ready",
            seed=seed,
            anchor_day=self.anchor_day,
            spx_open=SPX_START,
            vix_open=VIX_START,
        ))

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
        logger.info(kv(
            "sim_script_move", uic=uic, target=target, over_s=over_seconds, until=end.isoformat()
        ))

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
        logger.info(kv("sim_pin", uic=uic, level=level))

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
            return self._bars.daily(uic, count, end)
        return self._bars.intraday(uic, horizon_minutes, count, end)

    # ------------------------------------------------------------------ internals: levels

    @staticmethod
    def _check_uic(uic: int) -> Venue:
        venue = VENUES.get(uic)
        if venue is None:
            raise ValueError(f"unknown underlying uic {uic}")
        return venue

    def _changed(self) -> None:
        self._memo.clear()
        self._bars.clear()

    def _paths(self, day: date) -> DayPaths:
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
        day, index, effective = self._locate(at, VENUES[uic])
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
        own = session_for(day, VENUES[uic])
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
        return self._overlays[uic].apply(times, raw), close_index
