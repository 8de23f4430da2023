"""The market model's documented parameters, each underlying's venue and its array type.

Levels are index points (US500.I, VIX) or dollars (SPY, QQQ); log drifts, vols and reversion
rates are per trading day unless named otherwise.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from shared.market_hours import Venue
from shared.saxo_sim.instruments import QQQ_UIC, SPY_UIC, US500_UIC, VIX_UIC
from shared.saxo_sim.sim_clock import CLOCK_VENUE

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

# The venue whose session each underlying follows: SPY and QQQ freeze at the NYSE close.
VENUES: dict[int, Venue] = {
    US500_UIC: CLOCK_VENUE,
    VIX_UIC: CLOCK_VENUE,
    SPY_UIC: "nyse",
    QQQ_UIC: "nyse",
}
