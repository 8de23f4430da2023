"""Levels of the backtest's underlyings and VIX at any instant of one loaded day, from its ticks.

`HistoricalModel` answers what `saxo_sim.pricing.PricingEngine` asks of a market model (levels at
an instant, session state). Intraday VIX is modelled: the previous day's close moved against the
underlying (`VIX_ELASTICITY` times its log return since the open), so no decision sees a later
close. SPY is SPX / 10 (`SPY_PER_SPX`); QQQ is the NASDAQ Composite scaled (`QQQ_PER_COMPOSITE`).
Times are tz-aware; levels in index points (US500.I, VIX) or USD (SPY, QQQ).
"""

from __future__ import annotations

import math
from datetime import datetime

import numpy as np

from shared import market_hours
from shared.backtest.paths import TICK_SECONDS, TICKS_PER_MINUTE, DayTicks, FloatArray
from shared.market_hours import Venue
from shared.saxo_sim.instruments import QQQ_UIC, SPY_UIC, US500_UIC, VIX_UIC

VIX_ELASTICITY = 5.0  # VIX log change per unit of SPX log return (about -5 % per +1 %)
SPY_PER_SPX = 0.1  # SPY is taken as the S&P 500 / 10 (the report says so)
# QQQ is taken as the NASDAQ Composite times the ratio of their 2018-12-31 closes (154.26 /
# 6635.28), stated in the report. The Composite's close is sourced: arch's own data (6635.279785)
# and the year-end closes table at https://www.macrotrends.net/1320/nasdaq-historical-chart.
# QQQ's 154.26 is recalled, not sourced. An approximation either way (QQQ tracks the NASDAQ-100,
# not the Composite): it sets the price level (so strikes and premiums in USD); the rules that
# read it are in percent or delta, except the USD max loss, which a few % of level barely moves.
QQQ_PER_COMPOSITE = 0.02325
STOCK_VENUE_UICS = (SPY_UIC, QQQ_UIC)  # quoted on NYSE hours


class HistoricalModel:
    """Levels of US500.I, SPY, VIX and (on days with NASDAQ data) QQQ at any instant of the
    loaded day (the last tick at or before it; the open before the session, the close after
    it). Times tz-aware."""

    def __init__(self, seed: int) -> None:
        self.seed = seed
        self.now_at: datetime | None = None
        self._ticks: DayTicks | None = None
        self._nasdaq: DayTicks | None = None
        self._open: datetime | None = None
        self._vix_open = 0.0

    def load_day(self, ticks: DayTicks, session_open: datetime, vix_open: float,
                 nasdaq: DayTicks | None = None) -> None:  # fmt: skip
        self._ticks, self._open, self._vix_open = ticks, session_open, vix_open
        self._nasdaq = nasdaq

    @property
    def has_nasdaq(self) -> bool:
        """True when the loaded day has NASDAQ Composite ticks (QQQ is served)."""
        return self._nasdaq is not None

    def now(self) -> datetime:
        if self.now_at is None:
            raise RuntimeError("the backtest market has no time yet")
        return self.now_at

    def spot(self, uic: int, at: datetime | None = None) -> float:
        if uic == VIX_UIC:
            return self.vix(at)
        if uic == QQQ_UIC and self._nasdaq is not None:
            return self._level(self.now() if at is None else at, self._nasdaq) * QQQ_PER_COMPOSITE
        level = self._level(self.now() if at is None else at)
        if uic == SPY_UIC:
            return level * SPY_PER_SPX
        if uic != US500_UIC:
            raise ValueError(f"the backtest market has no uic {uic}")
        return level

    @property
    def tick_count(self) -> int:
        """Ticks in the loaded day."""
        return int(self._require().prices.size)

    def tick_levels(self, uic: int) -> FloatArray:
        """The loaded day's level of `uic` (US500.I, SPY, QQQ or VIX) at each tick, in
        session order (tick k at the open + k x `TICK_SECONDS`), in the units `spot` gives."""
        if uic == QQQ_UIC and self._nasdaq is not None:
            return self._nasdaq.prices.reshape(-1) * QQQ_PER_COMPOSITE
        flat = self._require().prices.reshape(-1)
        if uic == VIX_UIC:
            return self._vix_open * np.exp(-VIX_ELASTICITY * np.log(flat / flat[0]))
        if uic == SPY_UIC:
            return flat * SPY_PER_SPX
        if uic != US500_UIC:
            raise ValueError(f"the backtest market has no tick levels of uic {uic}")
        return flat

    def vix(self, at: datetime | None = None) -> float:
        ticks = self._require()
        level = self._level(self.now() if at is None else at)
        return self._vix_open * math.exp(-VIX_ELASTICITY * math.log(level / ticks.prices[0, 0]))

    def market_open(self, uic: int, at: datetime | None = None) -> bool:
        venue: Venue = "nyse" if uic in STOCK_VENUE_UICS else "index_options"
        return market_hours.is_market_open(self.now() if at is None else at, venue)

    def effective_time(self, at: datetime, venue: Venue) -> datetime:
        session = market_hours.session(at.astimezone(market_hours.NY).date(), venue)
        if session is None or at < session.open:
            return at  # the loaded day's open level stands for it
        return min(at, session.close)

    def _level(self, at: datetime, series: DayTicks | None = None) -> float:
        ticks = self._require() if series is None else series
        assert self._open is not None
        seconds = (at - self._open).total_seconds()
        if seconds < 0:
            return float(ticks.prices[0, 0])
        minute, second = divmod(int(seconds), 60)
        if minute >= ticks.minutes:
            return float(ticks.prices[-1, -1])
        return float(ticks.prices[minute, min(second // TICK_SECONDS, TICKS_PER_MINUTE - 1)])

    def _require(self) -> DayTicks:
        if self._ticks is None:
            raise RuntimeError("the backtest market has no day loaded")
        return self._ticks
