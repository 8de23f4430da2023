"""Market history for backtests: S&P 500 and NASDAQ OHLC and VIX closes, from `arch` or CSV.

Default: the example data the `arch` package ships (S&P 500 and NASDAQ Composite daily OHLC
1999-2018, VIX daily close 2014-2018), read from the installed package. `--data DIR` reads the
user's files instead: `DIR/SPX.csv` with columns `date,open,high,low,close` (daily bars, index
points), or `datetime,open,high,low,close` (1-minute bars: `datetime` is the bar's start, ISO,
New York time when it has no offset; bars outside the NYSE session are ignored, minutes missing
inside it repeat the previous close), optionally `DIR/VIX.csv` with columns `date,close` and
`DIR/NASDAQ.csv` (the NASDAQ Composite, QQQ's source; either shape). Dates are New York trading
dates.
"""

from __future__ import annotations

import bisect
import csv
import gzip
import importlib.util
import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

import numpy as np
import numpy.typing as npt

from shared import market_hours

INSTALL_HINT = 'pip install "calypso[backtest]"'
ARCH_SOURCE = (
    "S&P 500 daily OHLC and VIX daily close shipped with the `arch` package "
    "and the NASDAQ Composite daily OHLC (example data; SPX itself; SPY taken as SPX / 10; QQQ "
    "as the NASDAQ Composite x 0.02325, their 2018-12-31 closes' ratio)"
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
    # day -> (minutes, 4) array of real 1-minute (open, high, low, close) from the session open
    minute_bars: Mapping[date, npt.NDArray[np.float64]] = field(default_factory=dict)
    filled_minutes: int = 0  # session minutes the 1-minute files lacked (previous close used)
    # the NASDAQ Composite (QQQ is served from it), the same shapes; empty: QQQ not served
    nasdaq_bars: tuple[DailyBar, ...] = ()
    nasdaq_minute_bars: Mapping[date, npt.NDArray[np.float64]] = field(default_factory=dict)

    def nasdaq_before(self, day: date, count: int) -> tuple[DailyBar, ...]:
        """The NASDAQ Composite's last `count` bars strictly before `day`, ascending."""
        index = bisect.bisect_left([bar.day for bar in self.nasdaq_bars], day)
        return self.nasdaq_bars[max(0, index - count) : index]

    def nasdaq_on(self, day: date) -> DailyBar | None:
        """The NASDAQ Composite's bar of `day`, or None."""
        found: dict[date, DailyBar] | None = self.__dict__.get("_nasdaq")
        if found is None:
            found = {bar.day: bar for bar in self.nasdaq_bars}
            object.__setattr__(self, "_nasdaq", found)
        return found.get(day)

    def between(self, start: date, end: date) -> Iterator[DailyBar]:
        """Bars with start <= day <= end, ascending."""
        return (bar for bar in self.bars if start <= bar.day <= end)

    def before(self, day: date, count: int) -> tuple[DailyBar, ...]:
        """The last `count` bars strictly before `day`, ascending."""
        index = bisect.bisect_left([bar.day for bar in self.bars], day)
        return self.bars[max(0, index - count) : index]

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
    bars = _arch_bars(folder, "sp500")
    closes: dict[date, float] = {}
    for _line, row in _gzip_rows(folder / "vix" / "vix.csv.gz"):
        try:
            value = float(row["vix"])
        except ValueError:  # the file marks days without a close with "."
            continue
        if math.isfinite(value) and value > 0:
            closes[_us_date(row["Date"])] = value
    return DailyHistory(bars=bars, vix_close=closes, source=ARCH_SOURCE,
                        nasdaq_bars=_arch_bars(folder, "nasdaq"))  # fmt: skip


def _arch_bars(folder: Path, name: str) -> tuple[DailyBar, ...]:
    bars = []
    for line, row in _gzip_rows(folder / name / f"{name}.csv.gz"):
        day = _us_date(row["Date"])
        o, h, lo, c = (float(row[key]) for key in ("Open", "High", "Low", "Close"))
        bars.append(_checked_bar(day, o, h, lo, c, f"arch {name}:{line}"))
    return tuple(bars)


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
    """The user's `SPX.csv` (and optional `VIX.csv`, `NASDAQ.csv`) in `folder`; HistoryError
    names problems."""
    spx = folder / "SPX.csv"
    if not spx.is_file():
        raise HistoryError(f"{spx}: missing (columns: date,open,high,low,close, or datetime,...)")
    bars, minutes, filled = _symbol_file(spx)
    kinds = ["SPX 1-minute bars" if minutes else "SPX daily bars"]
    nasdaq: tuple[DailyBar, ...] = ()
    nasdaq_minutes: dict[date, npt.NDArray[np.float64]] = {}
    if (folder / "NASDAQ.csv").is_file():
        nasdaq, nasdaq_minutes, more = _symbol_file(folder / "NASDAQ.csv")
        filled += more
        kinds.append("NASDAQ 1-minute bars" if nasdaq_minutes else "NASDAQ daily bars")
    return DailyHistory(bars=bars, vix_close=_vix_closes(folder / "VIX.csv"),
                        source=f"user CSV files in {folder} ({', '.join(kinds)})",
                        minute_bars=minutes, filled_minutes=filled, nasdaq_bars=nasdaq,
                        nasdaq_minute_bars=nasdaq_minutes)  # fmt: skip


def _symbol_file(
    path: Path,
) -> tuple[tuple[DailyBar, ...], dict[date, npt.NDArray[np.float64]], int]:
    """One index's file: daily bars (ascending) and, for a 1-minute file, its minute arrays
    and how many session minutes it lacked."""
    if _header(path)[:1] == ["datetime"]:
        minutes, filled = _minute_bars(path)
        days = [_daily_from_minutes(day, rows) for day, rows in sorted(minutes.items())]
        return tuple(days), minutes, filled
    bars = []
    for line, row in _rows(path, ("date", "open", "high", "low", "close")):
        try:
            bars.append(
                _checked_bar(date.fromisoformat(row["date"]), float(row["open"]),
                             float(row["high"]), float(row["low"]), float(row["close"]),
                             f"{path}:{line}")
            )
        except ValueError as exc:
            raise HistoryError(f"{path}:{line}: {exc}") from None
    bars.sort(key=lambda bar: bar.day)
    return tuple(bars), {}, 0


def _vix_closes(vix_file: Path) -> dict[date, float]:
    closes: dict[date, float] = {}
    if vix_file.is_file():
        for line, row in _rows(vix_file, ("date", "close")):
            try:
                closes[date.fromisoformat(row["date"])] = float(row["close"])
            except ValueError as exc:
                raise HistoryError(f"{vix_file}:{line}: {exc}") from None
    return closes


def _header(path: Path) -> list[str]:
    with path.open(newline="", encoding="utf-8") as handle:
        return next(csv.reader(handle), [])


def _minute_bars(path: Path) -> tuple[dict[date, npt.NDArray[np.float64]], int]:
    """Per NYSE session day, a (session minutes, 4) OHLC array; and how many minutes were
    missing (filled flat at the previous close, or the day's first open before its first bar)."""
    by_day: dict[date, dict[int, tuple[float, float, float, float]]] = {}
    for line, row in _rows(path, ("datetime", "open", "high", "low", "close")):
        try:
            at = datetime.fromisoformat(row["datetime"])
            at = at.replace(tzinfo=market_hours.NY) if at.tzinfo is None else at
            o, h, lo, c = (float(row[key]) for key in ("open", "high", "low", "close"))
        except ValueError as exc:
            raise HistoryError(f"{path}:{line}: {exc}") from None
        if not (0 < lo <= min(o, c) and max(o, c) <= h):
            raise HistoryError(f"{path}:{line}: {at} has inconsistent OHLC {o}/{h}/{lo}/{c}")
        day = at.astimezone(market_hours.NY).date()
        session = market_hours.session(day, "nyse")
        if session is None or not session.open <= at < session.close:
            continue  # outside the session: not traded by the bots
        minute = int((at - session.open).total_seconds() // 60)
        by_day.setdefault(day, {})[minute] = (o, h, lo, c)
    days: dict[date, npt.NDArray[np.float64]] = {}
    filled = 0
    for day, rows in by_day.items():
        session = market_hours.session(day, "nyse")
        assert session is not None
        count = int((session.close - session.open).total_seconds() // 60)
        array = np.empty((count, 4))
        previous = rows[min(rows)][0]
        for minute in range(count):
            bar = rows.get(minute)
            if bar is None:
                filled += 1
                bar = (previous, previous, previous, previous)
            array[minute] = bar
            previous = bar[3]
        array.setflags(write=False)
        days[day] = array
    return days, filled


def _daily_from_minutes(day: date, rows: npt.NDArray[np.float64]) -> DailyBar:
    return DailyBar(day, float(rows[0, 0]), float(rows[:, 1].max()), float(rows[:, 2].min()),
                    float(rows[-1, 3]))  # fmt: skip


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
