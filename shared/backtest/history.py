"""Daily market history for backtests: S&P 500 OHLC and VIX closes, from `arch` or CSV files.

Default: the example data the `arch` package ships (S&P 500 and NASDAQ Composite daily OHLC
1999-2018, VIX daily close 2014-2018), read from the installed package. `--data DIR` reads the
user's files instead: `DIR/SPX.csv` with columns `date,open,high,low,close` (index points) and
optionally `DIR/VIX.csv` with columns `date,close`. Dates are New York trading dates.
"""

from __future__ import annotations

import bisect
import csv
import gzip
import importlib.util
import math
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path

INSTALL_HINT = 'pip install "calypso[backtest]"'
ARCH_SOURCE = (
    "S&P 500 daily OHLC and VIX daily close shipped with the `arch` package "
    "(example data; SPX itself. SPY = SPX / 10 and QQQ from the NASDAQ Composite, which the "
    "other bots will need, are not served yet)"
)


class HistoryError(ValueError):
    """History data is missing or malformed; the message names the file and the problem."""


class BacktestExtraMissing(RuntimeError):
    """The optional `backtest` dependencies are not installed."""


@dataclass(frozen=True)
class DailyBar:
    """One trading day of the underlying: prices in index points."""

    day: date
    open: float
    high: float
    low: float
    close: float


@dataclass(frozen=True)
class DailyHistory:
    """The underlying's daily bars (ascending) and VIX closes by day; `source` for the report."""

    bars: tuple[DailyBar, ...]
    vix_close: dict[date, float]
    source: str

    def between(self, start: date, end: date) -> Iterator[DailyBar]:
        """Bars with start <= day <= end, ascending."""
        return (bar for bar in self.bars if start <= bar.day <= end)

    def vix_before(self, day: date) -> float | None:
        """The last VIX close strictly before `day` (what is known at its open), or None."""
        days = self._vix_days()
        index = bisect.bisect_left(days, day)
        return self.vix_close[days[index - 1]] if index > 0 else None

    def _vix_days(self) -> list[date]:
        cached: list[date] | None = self.__dict__.get("_days")
        if cached is None:
            cached = sorted(self.vix_close)
            object.__setattr__(self, "_days", cached)
        return cached


def load_arch_history() -> DailyHistory:
    """S&P 500 OHLC and VIX closes from the data files of the installed `arch` package (read
    directly: importing `arch` itself pulls scipy and statsmodels and takes seconds).

    Raises BacktestExtraMissing (naming the install command) when `arch` is not installed.
    """
    spec = importlib.util.find_spec("arch")
    if spec is None or not spec.submodule_search_locations:
        raise BacktestExtraMissing(
            f"calypso backtest needs the optional backtest dependencies: {INSTALL_HINT}"
        )
    folder = Path(next(iter(spec.submodule_search_locations))) / "data"
    bars = []
    for line, row in _gzip_rows(folder / "sp500" / "sp500.csv.gz"):
        day = _us_date(row["Date"])
        o, h, lo, c = (float(row[key]) for key in ("Open", "High", "Low", "Close"))
        bars.append(_checked_bar(day, o, h, lo, c, f"arch sp500:{line}"))
    closes: dict[date, float] = {}
    for _line, row in _gzip_rows(folder / "vix" / "vix.csv.gz"):
        try:
            value = float(row["vix"])
        except ValueError:  # the file marks days without a close with "."
            continue
        if math.isfinite(value) and value > 0:
            closes[_us_date(row["Date"])] = value
    return DailyHistory(bars=tuple(bars), vix_close=closes, source=ARCH_SOURCE)


def _gzip_rows(path: Path) -> Iterator[tuple[int, dict[str, str]]]:
    try:
        with gzip.open(path, "rt", encoding="utf-8", newline="") as handle:
            yield from enumerate(csv.DictReader(handle), start=2)
    except FileNotFoundError:
        raise HistoryError(f"{path}: missing from the installed arch package") from None


def _us_date(text: str) -> date:
    month, day, year = (int(part) for part in text.split("/"))
    return date(year, month, day)


def load_csv_history(folder: Path) -> DailyHistory:
    """The user's `SPX.csv` (and optional `VIX.csv`) in `folder`; HistoryError names problems."""
    spx = folder / "SPX.csv"
    if not spx.is_file():
        raise HistoryError(f"{spx}: missing (columns: date,open,high,low,close)")
    bars = []
    for line, row in _rows(spx, ("date", "open", "high", "low", "close")):
        try:
            bars.append(
                _checked_bar(date.fromisoformat(row["date"]), float(row["open"]),
                             float(row["high"]), float(row["low"]), float(row["close"]),
                             f"{spx}:{line}")
            )
        except ValueError as exc:
            raise HistoryError(f"{spx}:{line}: {exc}") from None
    bars.sort(key=lambda bar: bar.day)
    closes: dict[date, float] = {}
    vix_file = folder / "VIX.csv"
    if vix_file.is_file():
        for line, row in _rows(vix_file, ("date", "close")):
            try:
                closes[date.fromisoformat(row["date"])] = float(row["close"])
            except ValueError as exc:
                raise HistoryError(f"{vix_file}:{line}: {exc}") from None
    return DailyHistory(bars=tuple(bars), vix_close=closes, source=f"user CSV files in {folder}")


def _rows(path: Path, columns: tuple[str, ...]) -> Iterator[tuple[int, dict[str, str]]]:
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        missing = [c for c in columns if c not in (reader.fieldnames or [])]
        if missing:
            raise HistoryError(f"{path}: missing columns {missing} (needs {', '.join(columns)})")
        yield from enumerate(reader, start=2)


def _checked_bar(day: date, o: float, h: float, lo: float, c: float, where: str) -> DailyBar:
    if not (0 < lo <= min(o, c) and max(o, c) <= h):
        raise HistoryError(f"{where}: {day} has inconsistent OHLC {o}/{h}/{lo}/{c}")
    return DailyBar(day, o, h, lo, c)
