"""The simulator's volatility: the intraday U-shaped variance profile and a VIX-tied vol surface.

Conventions: vols are annual decimals. The surface is built in TRADING time (252 trading days a
year, 20 % of a day's variance overnight, 80 % intraday along the U-shaped profile) and quoted
in CALENDAR time (ACT/365, `options_math.years_to_expiry`), so a 0DTE option's implied vol is
high in calendar terms, as on the real market, while its price matches the path's real moves.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import numpy.typing as npt

TRADING_DAYS_PER_YEAR = 252
OVERNIGHT_VARIANCE_SHARE = 0.2
# Intraday variance per second: 1 + OPEN_BUMP * exp(-m / DECAY) + CLOSE_BUMP * exp(-(M - m) / DECAY)
# with m minutes since the open and M the session length in minutes.
OPEN_BUMP = 2.5
CLOSE_BUMP = 1.5
BUMP_DECAY_MINUTES = 12.0


@lru_cache(maxsize=8)
def _profile(n_seconds: int) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    minutes = (np.arange(n_seconds, dtype=np.float64) + 0.5) / 60.0
    total = n_seconds / 60.0
    weights = (
        1.0
        + OPEN_BUMP * np.exp(-minutes / BUMP_DECAY_MINUTES)
        + CLOSE_BUMP * np.exp(-(total - minutes) / BUMP_DECAY_MINUTES)
    )
    weights /= weights.sum()
    cumulative = np.concatenate(([0.0], np.cumsum(weights)))
    cumulative[-1] = 1.0
    weights.setflags(write=False)
    cumulative.setflags(write=False)
    return weights, cumulative


def u_profile_weights(n_seconds: int) -> npt.NDArray[np.float64]:
    """Per-second share of a session's intraday variance (n_seconds long, sums to 1, read-only)."""
    if n_seconds <= 0:
        raise ValueError(f"n_seconds must be > 0, got {n_seconds}")
    return _profile(n_seconds)[0]


def remaining_intraday_variance(n_seconds: int, elapsed_seconds: float) -> float:
    """Share (0..1) of a session's intraday variance still to come after `elapsed_seconds`."""
    if n_seconds <= 0:
        raise ValueError(f"n_seconds must be > 0, got {n_seconds}")
    cumulative = _profile(n_seconds)[1]
    position = min(max(elapsed_seconds, 0.0), float(n_seconds))
    whole = int(position)
    done = float(cumulative[whole])
    if whole < n_seconds:
        done += (position - whole) * float(cumulative[whole + 1] - cumulative[whole])
    return max(0.0, 1.0 - done)


@dataclass(frozen=True)
class VolSurface:
    """Implied vol as a function of VIX, moneyness and time.

    ATM (trading time) = long_run + (VIX/100 - long_run) * g(T) / g(30 days), with
    g(T) = (1 - exp(-kappa T)) / (kappa T): an upward-sloping term structure when VIX is below
    its long-run level, inverted above it. Smile in standardised moneyness
    z = ln(K/F) / (atm * sqrt(T)): multiplier 1 - skew * z + curvature * z^2, clamped to
    [min_multiplier, max_multiplier]: higher vols for lower strikes, a mild rise for far calls.
    """

    long_run_vol: float = 0.19
    term_kappa: float = 6.0  # per year
    skew: float = 0.12
    curvature: float = 0.03
    min_multiplier: float = 0.6
    max_multiplier: float = 3.0
    min_vol: float = 0.03

    def atm_vol(self, vix: float, trading_years: float) -> float:
        """ATM vol (annual, trading time) for a horizon of `trading_years` at this VIX level."""
        if not vix > 0:
            raise ValueError(f"vix must be > 0, got {vix!r}")
        base = vix / 100.0
        ratio = self._g(max(trading_years, 0.0)) / self._g(30.0 / 365.0)
        return max(self.min_vol, self.long_run_vol + (base - self.long_run_vol) * ratio)

    def trading_vol(
        self, vix: float, spot: float, strike: float, trading_years: float, carry: float
    ) -> float:
        """Smile vol in trading time; `carry` = (rate - dividend yield) * calendar years."""
        atm = self.atm_vol(vix, trading_years)
        if trading_years <= 0:
            return atm
        forward = spot * math.exp(carry)
        z = math.log(strike / forward) / (atm * math.sqrt(trading_years))
        multiplier = 1.0 - self.skew * z + self.curvature * z * z
        return atm * min(self.max_multiplier, max(self.min_multiplier, multiplier))

    def implied_vol(
        self,
        vix: float,
        spot: float,
        strike: float,
        calendar_years: float,
        trading_years: float,
        carry: float,
    ) -> float:
        """Calendar-time implied vol (what Black-Scholes with ACT/365 years takes).

        Carries the trading-time variance: iv^2 * calendar_years = vol^2 * trading_years.
        At calendar_years == 0 returns the trading-time vol (the price is intrinsic anyway).
        """
        vol = self.trading_vol(vix, spot, strike, trading_years, carry)
        if calendar_years <= 0:
            return vol
        return max(self.min_vol, vol * math.sqrt(max(trading_years, 0.0) / calendar_years))

    def _g(self, years: float) -> float:
        x = self.term_kappa * years
        if x < 1e-9:
            return 1.0
        return (1.0 - math.exp(-x)) / x
