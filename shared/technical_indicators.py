"""Technical indicators on pandas Series (SMA, EMA, MACD, RSI, ATR, CCI), TA-Lib conventions.

Every function takes price Series (any index, typically bar timestamps in UTC) and returns a
Series or DataFrame on the same index, NaN during warm-up. Conventions shared by all functions:

- Leading NaNs are allowed and skipped, like TA-Lib: warm-up counts from the first valid value.
  A NaN or infinity after the first valid value is a data error and raises ValueError (TA-Lib
  would silently turn every later value into NaN).
- Multi-series inputs (high/low/close, open/close) must share exactly the same index.
- Periods are integers >= 1; anything else raises ValueError naming the parameter.
- Recursive averages are seeded with the simple mean of the first `period` values, as TA-Lib
  does, so after warm-up the values agree with TA-Lib to floating-point precision.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from numpy.lib.stride_tricks import sliding_window_view

__all__ = [
    "atr",
    "cci",
    "ema",
    "green_candles_above_ema",
    "macd",
    "rsi",
    "sma",
]

CCI_CONSTANT = 0.015
# A CCI window whose mean absolute deviation is below this fraction of its mean is flat:
# floating-point noise there would otherwise produce huge, meaningless CCI values.
_FLAT_RELATIVE = 1e-12


def _check_period(name: str, value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 1:
        raise ValueError(f"{name} must be an integer >= 1, got {value!r}")
    return int(value)


def _values(name: str, series: object) -> np.ndarray:
    """Float64 copy of `series`; rejects non-Series, non-numeric data and interior NaN/inf."""
    if not isinstance(series, pd.Series):
        raise ValueError(f"{name} must be a pandas Series, got {type(series).__name__}")
    try:
        values = series.to_numpy(dtype=np.float64, na_value=np.nan)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} must be numeric: {exc}") from exc
    if np.isinf(values).any():
        raise ValueError(f"{name} contains an infinite value")
    first = _first_valid(values)
    if np.isnan(values[first:]).any():
        bad = series.index[first + int(np.argmax(np.isnan(values[first:])))]
        raise ValueError(f"{name} has a NaN after its first valid value (at {bad!r})")
    return values


def _first_valid(values: np.ndarray) -> int:
    """Position of the first non-NaN value; len(values) when there is none."""
    valid = ~np.isnan(values)
    return int(np.argmax(valid)) if valid.any() else len(values)


def _check_same_index(named: dict[str, pd.Series]) -> None:
    (first_name, first), *rest = named.items()
    for name, series in rest:
        if not series.index.equals(first.index):
            raise ValueError(f"{name} and {first_name} must have the same index")


def _seeded_average(values: np.ndarray, start: int, period: int, alpha: float) -> np.ndarray:
    """Exponential average of values[start:], seeded with their first `period`-value mean.

    The output is NaN before position start + period - 1 and y = y_prev + alpha * (x - y_prev)
    afterwards; values[start:] must be finite.
    """
    out = np.full(len(values), np.nan)
    seed_at = start + period - 1
    if seed_at >= len(values):
        return out
    tail = values[seed_at:].copy()
    tail[0] = values[start : seed_at + 1].mean()
    out[seed_at:] = pd.Series(tail).ewm(alpha=alpha, adjust=False).mean().to_numpy()
    return out


def sma(close: pd.Series, period: int) -> pd.Series:
    """Simple moving average of the last `period` values; first valid at position period - 1."""
    period = _check_period("period", period)
    values = _values("close", close)
    result = pd.Series(values, index=close.index).rolling(period).mean()
    return result.rename("sma")


def ema(close: pd.Series, period: int) -> pd.Series:
    """Exponential moving average, alpha = 2 / (period + 1), seeded with the SMA of the first
    `period` valid values (first valid at position period - 1 after any leading NaNs)."""
    period = _check_period("period", period)
    values = _values("close", close)
    out = _seeded_average(values, _first_valid(values), period, 2.0 / (period + 1))
    return pd.Series(out, index=close.index, name="ema")


def macd(close: pd.Series, fast: int = 12, slow: int = 26, signal: int = 9) -> pd.DataFrame:
    """MACD line, signal line and histogram (macd - signal), TA-Lib's MACD convention.

    As in TA-Lib, the fast EMA is seeded at the same bar as the slow EMA (position slow - 1,
    with the mean of the `fast` values ending there), not at position fast - 1; the signal is
    the EMA of the MACD line seeded with its first `signal` values. All three columns are NaN
    before position slow + signal - 2 (33 for 12/26/9, TA-Lib's first valid index), so a row is
    either fully valid or fully NaN. `fast` must be smaller than `slow` (TA-Lib silently swaps).
    """
    fast = _check_period("fast", fast)
    slow = _check_period("slow", slow)
    signal = _check_period("signal", signal)
    if fast >= slow:
        raise ValueError(f"fast ({fast}) must be smaller than slow ({slow})")
    values = _values("close", close)
    first = _first_valid(values)
    slow_ema = _seeded_average(values, first, slow, 2.0 / (slow + 1))
    fast_ema = _seeded_average(values, first + slow - fast, fast, 2.0 / (fast + 1))
    line = fast_ema - slow_ema
    signal_line = _seeded_average(line, first + slow - 1, signal, 2.0 / (signal + 1))
    line[np.isnan(signal_line)] = np.nan
    return pd.DataFrame(
        {"macd": line, "signal": signal_line, "histogram": line - signal_line},
        index=close.index,
    )


def rsi(close: pd.Series, period: int = 14) -> pd.Series:
    """Relative strength index in [0, 100] with Wilder smoothing (alpha = 1 / period).

    First valid at position `period` (it needs `period` price changes), like TA-Lib. When the
    smoothed gain and loss are both zero (a flat market) this returns 50, where TA-Lib returns 0:
    "no movement" is neutral, not oversold.
    """
    period = _check_period("period", period)
    values = _values("close", close)
    first = _first_valid(values)
    change = np.diff(values, prepend=np.nan)
    alpha = 1.0 / period
    gain = _seeded_average(np.where(change > 0, change, 0.0), first + 1, period, alpha)
    loss = _seeded_average(np.where(change < 0, -change, 0.0), first + 1, period, alpha)
    total = gain + loss
    with np.errstate(invalid="ignore", divide="ignore"):
        out = np.where(total > 0, 100.0 * gain / total, 50.0)
    out[np.isnan(total)] = np.nan
    out = np.clip(out, 0.0, 100.0)  # 100 * g / g can round to 100.00000000000001
    return pd.Series(out, index=close.index, name="rsi")


def atr(high: pd.Series, low: pd.Series, close: pd.Series, period: int = 14) -> pd.Series:
    """Average true range (price units) with Wilder smoothing (alpha = 1 / period).

    True range needs the previous close, so the first bar has none; the ATR is seeded with the
    mean of the first `period` true ranges and is first valid at position `period`, like TA-Lib.
    """
    period = _check_period("period", period)
    _check_same_index({"high": high, "low": low, "close": close})
    h, lo, c = _values("high", high), _values("low", low), _values("close", close)
    first = max(_first_valid(h), _first_valid(lo), _first_valid(c))
    prev_close = np.concatenate(([np.nan], c[:-1]))
    true_range = np.fmax(h - lo, np.fmax(np.abs(h - prev_close), np.abs(lo - prev_close)))
    true_range[: first + 1] = np.nan
    out = _seeded_average(true_range, first + 1, period, 1.0 / period)
    return pd.Series(out, index=close.index, name="atr")


def cci(high: pd.Series, low: pd.Series, close: pd.Series, period: int = 20) -> pd.Series:
    """Commodity channel index: (typical - SMA) / (0.015 * mean absolute deviation).

    Typical price = (high + low + close) / 3, SMA and mean absolute deviation over the last
    `period` bars; first valid at position period - 1. A flat window (deviation zero) gives 0,
    like TA-Lib.
    """
    period = _check_period("period", period)
    _check_same_index({"high": high, "low": low, "close": close})
    typical = (_values("high", high) + _values("low", low) + _values("close", close)) / 3.0
    out = np.full(len(typical), np.nan)
    if len(typical) >= period:
        windows = sliding_window_view(typical, period)
        mean = windows.mean(axis=1)
        deviation = np.abs(windows - mean[:, None]).mean(axis=1)
        flat = deviation <= _FLAT_RELATIVE * np.abs(mean)
        with np.errstate(invalid="ignore", divide="ignore"):
            value = (typical[period - 1 :] - mean) / (CCI_CONSTANT * deviation)
        out[period - 1 :] = np.where(flat & ~np.isnan(mean), 0.0, value)
    return pd.Series(out, index=close.index, name="cci")


def green_candles_above_ema(
    open: pd.Series,
    close: pd.Series,
    ema_series: pd.Series,
) -> int:
    """Consecutive green candles (close > open) closing above the EMA, counted back from the last
    bar; 0 when the last bar is not one. A NaN EMA (warm-up) ends the run."""
    _check_same_index({"open": open, "close": close, "ema_series": ema_series})
    o, c = _values("open", open), _values("close", close)
    e = _values("ema_series", ema_series)
    qualifies = (c > o) & (c > e)  # comparisons with NaN are False
    if len(qualifies) == 0 or not qualifies[-1]:
        return 0
    misses = np.flatnonzero(~qualifies)
    return len(qualifies) if len(misses) == 0 else len(qualifies) - 1 - int(misses[-1])
