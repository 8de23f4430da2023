"""Snapshots for the backtest: the runtime's `SnapshotBuilder`, with quotes priced on demand.

A strategy asks for an option window (the Iron Fly: about 90 contracts, from two minutes before
its entry) but reads only the few quotes its selection needs; pricing one costs about 0.1 ms.
`LazyQuotes` knows which uics the snapshot holds (those the market can quote, found without
pricing) and prices each the first time it is read, at the snapshot's instant, through the
market's per-instant cache. A pure quote of (contract, instant) makes this the same snapshot
the eager builder gives, read for read; `seal()` (the end of the pass) makes a later read of a
quote never priced fail loudly rather than price it against another day's market.

Everything else (REST timing of VIX, calendar facts, windows around spot, daily bars) is the
runtime builder's own code.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from datetime import datetime

from shared.backtest.market import MarketData
from shared.domain import Quote
from shared.event_calendar import EventCalendar
from shared.runtime.snapshot import SnapshotBuilder


class LazyQuotes(Mapping[int, Quote]):
    """The quotes of one snapshot at `now`, priced when first read (see the module doc)."""

    def __init__(self, market: MarketData, now: datetime) -> None:
        self._market = market
        self._now = now
        self._asset_types: dict[int, str] = {}  # uic -> asset type, in the eager order
        self._priced: dict[int, Quote] = {}
        self._sealed = False

    def add(self, uics: Sequence[int], asset_type: str) -> None:
        """Hold `uics` (of `asset_type`) that the market can quote; a uic already held keeps
        its place but takes the later asset type, as `dict.update` would."""
        for uic in uics:
            if self._market.is_quotable(uic):
                self._asset_types[uic] = asset_type
                self._priced.pop(uic, None)

    def seal(self) -> None:
        """The pass is over: reading a quote not priced yet raises from now on."""
        self._sealed = True

    def __getitem__(self, uic: int) -> Quote:
        quote = self._priced.get(uic)
        if quote is not None:
            return quote
        asset_type = self._asset_types[uic]  # KeyError: not in this snapshot
        if self._sealed:
            raise RuntimeError(f"quote of uic {uic} read after its backtest pass ended")
        quote = self._market.quote_at(uic, asset_type, self._now)
        if quote is None:  # cannot happen: held uics are quotable
            raise RuntimeError(f"uic {uic} stopped being quotable within one pass")
        self._priced[uic] = quote
        return quote

    def __iter__(self) -> Iterator[int]:
        return iter(self._asset_types)

    def __len__(self) -> int:
        return len(self._asset_types)

    def __contains__(self, uic: object) -> bool:
        return uic in self._asset_types


class LazyAges(Mapping[int, float]):
    """`quote_ages_s` over `LazyQuotes`: each quote's age at `now` (s, >= 0; 0 when unknown),
    the runtime's `_ages` rule, computed when read."""

    def __init__(self, quotes: LazyQuotes, now: datetime) -> None:
        self._quotes = quotes
        self._now = now

    def __getitem__(self, uic: int) -> float:
        age = self._quotes[uic].age_seconds(self._now)
        return max(0.0, age) if age is not None else 0.0

    def __iter__(self) -> Iterator[int]:
        return iter(self._quotes)

    def __len__(self) -> int:
        return len(self._quotes)

    def __contains__(self, uic: object) -> bool:
        return uic in self._quotes


class LazySnapshotBuilder(SnapshotBuilder):
    """`SnapshotBuilder.build` for a backtest market (no stream, every quote from the market at
    `now`: passes are at least 15 s apart, so the builder's 5 s REST reuse never applies),
    with `LazyQuotes` through the builder's quote hooks. `seal_last()` ends the pass."""

    def __init__(self, *, market: MarketData, calendar: EventCalendar, stale_s: float) -> None:
        super().__init__(broker=market, calendar=calendar, stale_s=stale_s)
        self._market = market
        self._open: LazyQuotes | None = None

    def _new_quotes(self, now: datetime) -> Mapping[int, Quote]:
        self.seal_last()
        self._open = LazyQuotes(self._market, now)
        return self._open

    def _add_quotes(
        self, quotes: Mapping[int, Quote], uics: list[int], asset_type: str, now: datetime
    ) -> None:
        assert isinstance(quotes, LazyQuotes)
        quotes.add(uics, asset_type)

    def _quote_ages(self, quotes: Mapping[int, Quote], now: datetime) -> Mapping[int, float]:
        assert isinstance(quotes, LazyQuotes)
        return LazyAges(quotes, now)

    def seal_last(self) -> None:
        """End the current pass: its snapshot's unread quotes can no longer be priced."""
        if self._open is not None:
            self._open.seal()
            self._open = None
