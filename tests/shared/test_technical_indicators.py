"""Indicators against TA-Lib on the committed OHLC fixture, plus edge cases and properties."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import talib
from hypothesis import given, settings
from hypothesis import strategies as st

from shared import technical_indicators as ti

FIXTURE = Path(__file__).resolve().parents[1] / "resources" / "ohlc_fixture.csv"
RTOL = 1e-6
ATOL = 1e-9  # for values that cross zero (MACD histogram)


@pytest.fixture(scope="module")
def bars() -> pd.DataFrame:
    return pd.read_csv(FIXTURE, index_col="date", parse_dates=True)


def first_valid(values: pd.Series | np.ndarray) -> int:
    array = np.asarray(values, dtype=float)
    return int(np.argmax(~np.isnan(array)))


def assert_matches_talib(mine: pd.Series, reference: np.ndarray) -> None:
    assert first_valid(mine) == first_valid(reference)
    start = first_valid(reference)
    np.testing.assert_allclose(mine.to_numpy()[start:], reference[start:], rtol=RTOL, atol=ATOL)


# --------------------------------------------------------------------------- vs TA-Lib

SingleSeries = Callable[[pd.DataFrame], tuple[pd.Series, np.ndarray]]

CASES: dict[str, SingleSeries] = {
    "sma5": lambda b: (ti.sma(b.close, 5), talib.SMA(b.close.to_numpy(), 5)),
    "sma20": lambda b: (ti.sma(b.close, 20), talib.SMA(b.close.to_numpy(), 20)),
    "ema1": lambda b: (ti.ema(b.close, 1), talib.EMA(b.close.to_numpy(), 1)),
    "ema9": lambda b: (ti.ema(b.close, 9), talib.EMA(b.close.to_numpy(), 9)),
    "ema50": lambda b: (ti.ema(b.close, 50), talib.EMA(b.close.to_numpy(), 50)),
    "rsi2": lambda b: (ti.rsi(b.close, 2), talib.RSI(b.close.to_numpy(), 2)),
    "rsi14": lambda b: (ti.rsi(b.close), talib.RSI(b.close.to_numpy(), 14)),
    "atr1": lambda b: (
        ti.atr(b.high, b.low, b.close, 1),
        talib.ATR(b.high.to_numpy(), b.low.to_numpy(), b.close.to_numpy(), 1),
    ),
    "atr14": lambda b: (
        ti.atr(b.high, b.low, b.close),
        talib.ATR(b.high.to_numpy(), b.low.to_numpy(), b.close.to_numpy(), 14),
    ),
    "cci5": lambda b: (
        ti.cci(b.high, b.low, b.close, 5),
        talib.CCI(b.high.to_numpy(), b.low.to_numpy(), b.close.to_numpy(), 5),
    ),
    "cci20": lambda b: (
        ti.cci(b.high, b.low, b.close),
        talib.CCI(b.high.to_numpy(), b.low.to_numpy(), b.close.to_numpy(), 20),
    ),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_single_series_indicator_matches_talib(bars: pd.DataFrame, case: str) -> None:
    mine, reference = CASES[case](bars)
    assert_matches_talib(mine, reference)


@pytest.mark.parametrize(("fast", "slow", "signal"), [(12, 26, 9), (5, 13, 4), (2, 3, 1)])
def test_macd_matches_talib_columns(bars: pd.DataFrame, fast: int, slow: int, signal: int) -> None:
    result = ti.macd(bars.close, fast, slow, signal)
    reference = talib.MACD(bars.close.to_numpy(), fast, slow, signal)
    for column, expected in zip(("macd", "signal", "histogram"), reference, strict=True):
        assert_matches_talib(result[column], expected)


def test_macd_default_warm_up_ends_at_index_33(bars: pd.DataFrame) -> None:
    # 26 bars for the slow EMA (first at 25) plus 9 MACD values for the signal (first at 33).
    result = ti.macd(bars.close)
    assert result.iloc[:33].isna().all().all()
    assert result.iloc[33:].notna().all().all()


def test_indicators_keep_the_input_index(bars: pd.DataFrame) -> None:
    assert ti.ema(bars.close, 10).index.equals(bars.index)
    assert ti.atr(bars.high, bars.low, bars.close).index.equals(bars.index)
    assert ti.macd(bars.close).index.equals(bars.index)


# --------------------------------------------------------------------------- NaN handling


def test_leading_nans_delay_the_seed_like_talib(bars: pd.DataFrame) -> None:
    close = bars.close.copy()
    close.iloc[:3] = np.nan
    mine = ti.ema(close, 10)
    assert first_valid(mine) == 3 + 10 - 1
    assert_matches_talib(mine, talib.EMA(close.to_numpy(), 10))


def test_leading_nans_in_macd_match_talib(bars: pd.DataFrame) -> None:
    close = bars.close.copy()
    close.iloc[:4] = np.nan
    result = ti.macd(close)
    assert_matches_talib(result["signal"], talib.MACD(close.to_numpy(), 12, 26, 9)[1])


@pytest.mark.parametrize("func", [ti.sma, ti.ema, ti.rsi])
def test_nan_after_first_valid_value_is_rejected(bars: pd.DataFrame, func: Callable) -> None:
    close = bars.close.copy()
    close.iloc[50] = np.nan
    with pytest.raises(ValueError, match="NaN after its first valid value"):
        func(close, 5)


def test_infinite_value_is_rejected(bars: pd.DataFrame) -> None:
    close = bars.close.copy()
    close.iloc[10] = np.inf
    with pytest.raises(ValueError, match="infinite"):
        ti.ema(close, 5)


def test_series_shorter_than_warm_up_is_all_nan() -> None:
    close = pd.Series([1.0, 2.0, 3.0])
    assert ti.ema(close, 5).isna().all()
    assert ti.macd(close).isna().all().all()
    assert ti.cci(close, close, close, 5).isna().all()


# --------------------------------------------------------------------------- validation


@pytest.mark.parametrize("period", [0, -3, 2.5, True, "14"])
def test_bad_period_is_rejected_with_its_name(bars: pd.DataFrame, period: object) -> None:
    with pytest.raises(ValueError, match="period must be an integer >= 1"):
        ti.ema(bars.close, period)  # type: ignore[arg-type]


def test_bad_macd_period_names_the_parameter(bars: pd.DataFrame) -> None:
    with pytest.raises(ValueError, match="slow must be an integer"):
        ti.macd(bars.close, slow=0)


def test_macd_rejects_fast_not_below_slow(bars: pd.DataFrame) -> None:
    with pytest.raises(ValueError, match="fast"):
        ti.macd(bars.close, fast=26, slow=12)


def test_multi_series_inputs_need_the_same_index(bars: pd.DataFrame) -> None:
    shifted_low = bars.low.shift(1, freq="D")
    with pytest.raises(ValueError, match="same index"):
        ti.atr(bars.high, shifted_low, bars.close)


def test_non_numeric_input_is_rejected() -> None:
    with pytest.raises(ValueError, match="close must be numeric"):
        ti.sma(pd.Series(["a", "b", "c"]), 2)


def test_non_series_input_is_rejected() -> None:
    with pytest.raises(ValueError, match="pandas Series"):
        ti.sma([1.0, 2.0, 3.0], 2)


# --------------------------------------------------------------------------- flat markets


def test_rsi_of_a_flat_market_is_neutral_50() -> None:
    # Documented difference: TA-Lib returns 0 here, which would read as deeply oversold.
    result = ti.rsi(pd.Series([100.0] * 30), 14)
    assert (result.dropna() == 50.0).all()


def test_rsi_of_a_rising_market_is_100() -> None:
    result = ti.rsi(pd.Series(np.arange(1.0, 31.0)), 14)
    assert (result.dropna() == 100.0).all()


def test_cci_of_a_flat_window_is_zero() -> None:
    flat = pd.Series([5000.1] * 30)
    assert (ti.cci(flat, flat, flat, 20).dropna() == 0.0).all()


# --------------------------------------------------------------------------- green candles


def candles(opens: list[float], closes: list[float], emas: list[float]) -> tuple[pd.Series, ...]:
    index = pd.date_range("2026-01-05 14:30", periods=len(opens), freq="5min", tz="UTC")
    return (
        pd.Series(opens, index=index),
        pd.Series(closes, index=index),
        pd.Series(emas, index=index),
    )


def test_green_candles_counts_the_latest_run_only() -> None:
    # bar 0 qualifies, bar 1 is red, bars 2-4 are green and above the EMA.
    o, c, e = candles([10, 12, 10, 11, 12], [11, 11, 11, 12, 13], [9, 9, 9, 9, 9])
    assert ti.green_candles_above_ema(o, c, e) == 3


def test_green_candles_is_zero_when_last_bar_is_red() -> None:
    o, c, e = candles([10, 11, 13], [11, 12, 12], [9, 9, 9])
    assert ti.green_candles_above_ema(o, c, e) == 0


def test_green_candle_closing_below_ema_breaks_the_run() -> None:
    o, c, e = candles([10, 11, 12], [11, 12, 13], [9, 12.5, 9])
    assert ti.green_candles_above_ema(o, c, e) == 1


def test_green_candles_stop_at_the_ema_warm_up() -> None:
    o, c, e = candles([10, 11, 12], [11, 12, 13], [np.nan, 9, 9])
    assert ti.green_candles_above_ema(o, c, e) == 2


def test_green_candles_counts_every_bar_when_all_qualify() -> None:
    o, c, e = candles([10, 11, 12], [11, 12, 13], [9, 9, 9])
    assert ti.green_candles_above_ema(o, c, e) == 3


def test_green_candles_of_empty_series_is_zero() -> None:
    o, c, e = candles([], [], [])
    assert ti.green_candles_above_ema(o, c, e) == 0


# --------------------------------------------------------------------------- properties

prices = st.floats(min_value=1.0, max_value=10_000.0, allow_nan=False, allow_infinity=False)


@settings(derandomize=True, database=None, max_examples=60, deadline=None)
@given(value=prices, length=st.integers(1, 60), period=st.integers(1, 30))
def test_ema_of_a_constant_series_is_that_constant(value: float, length: int, period: int) -> None:
    result = ti.ema(pd.Series([value] * length), period).dropna()
    np.testing.assert_allclose(result.to_numpy(), value, rtol=1e-12)


@settings(derandomize=True, database=None, max_examples=60, deadline=None)
@given(closes=st.lists(prices, min_size=2, max_size=80), period=st.integers(1, 20))
def test_rsi_stays_within_0_and_100(closes: list[float], period: int) -> None:
    result = ti.rsi(pd.Series(closes), period).dropna()
    assert ((result >= 0.0) & (result <= 100.0)).all()


@settings(derandomize=True, database=None, max_examples=40, deadline=None)
@given(closes=st.lists(prices, min_size=1, max_size=80), period=st.integers(1, 20))
def test_ema_matches_talib_on_arbitrary_prices(closes: list[float], period: int) -> None:
    array = np.array(closes)
    assert_matches_talib(ti.ema(pd.Series(array), period), talib.EMA(array, period))
