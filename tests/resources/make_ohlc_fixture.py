"""Generate tests/resources/ohlc_fixture.csv: 400 seeded SPX-like daily OHLC bars.

Run once and commit the CSV; tests read the CSV, never this script, so a change in numpy's
random generator cannot silently change the reference data.

    /work/venv/bin/python tests/resources/make_ohlc_fixture.py
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

SEED = 20260123
BARS = 400
START_PRICE = 6000.0
DAILY_VOL = 0.011  # about 17.5 % annualised, SPX-like


def make_fixture(seed: int = SEED, bars: int = BARS) -> pd.DataFrame:
    """Geometric random walk; high/low envelope the open and close by a random margin."""
    rng = np.random.default_rng(seed)
    close = START_PRICE * np.exp(np.cumsum(rng.normal(0.0002, DAILY_VOL, bars)))
    prev_close = np.concatenate(([START_PRICE], close[:-1]))
    gap = rng.normal(0.0, DAILY_VOL / 3, bars)
    open_ = prev_close * np.exp(gap)
    body_top = np.maximum(open_, close)
    body_bottom = np.minimum(open_, close)
    high = body_top * (1 + np.abs(rng.normal(0.0, DAILY_VOL / 2, bars)))
    low = body_bottom * (1 - np.abs(rng.normal(0.0, DAILY_VOL / 2, bars)))
    index = pd.bdate_range("2024-06-03", periods=bars, name="date")
    frame = pd.DataFrame({"open": open_, "high": high, "low": low, "close": close}, index=index)
    return frame.round(2)


def main() -> None:
    path = Path(__file__).with_name("ohlc_fixture.csv")
    make_fixture().to_csv(path)


if __name__ == "__main__":
    main()
