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
from datetime import date, datetime

from shared import market_hours
from shared.backtest.market import MarketData
from shared.domain import OptionContract, Position, Quote
from shared.event_calendar import EventCalendar
from shared.runtime.snapshot import SnapshotBuilder
from shared.strategy_contract import DataRequest, Snapshot


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
    with `LazyQuotes`. `seal_last()` ends the pass."""

    def __init__(self, *, market: MarketData, calendar: EventCalendar, stale_s: float) -> None:
        super().__init__(broker=market, calendar=calendar, stale_s=stale_s)
        self._market = market
        self._open: LazyQuotes | None = None

    def build(
        self,
        request: DataRequest,
        *,
        now: datetime,
        positions: Sequence[Position],
        breaker_allows_entries: bool,
    ) -> Snapshot:
        self.seal_last()
        quotes = LazyQuotes(self._market, now)
        self._open = quotes
        by_type: dict[str, list[int]] = {}
        for ref in request.quotes:
            by_type.setdefault(ref.asset_type, []).append(ref.uic)
        for asset_type, uics in by_type.items():
            quotes.add(uics, asset_type)
        chains: dict[tuple[str, date], tuple[OptionContract, ...]] = {}
        for window in request.option_windows:
            contracts = self._window(window, dict(_spot_only(quotes, window.spot_uic)))
            chains[(window.root, window.expiry)] = contracts
            by_uic: dict[str, list[int]] = {}
            for c in contracts:
                by_uic.setdefault(c.asset_type, []).append(c.uic)
            for asset_type, uics in by_uic.items():
                quotes.add(uics, asset_type)
        vix = self._vix(now) if request.vix else None
        bars = {b.uic: self._bars(b.uic, b.asset_type, b.count) for b in request.daily_bars}
        snapshot = Snapshot(
            now=now,
            calendar=self.calendar_facts(now.astimezone(market_hours.NY).date()),
            quotes=quotes,
            quote_ages_s=LazyAges(quotes, now),
            vix=vix,
            positions=tuple(positions),
            chains=chains,
            bars={uic: rows for uic, rows in bars.items() if rows},
            breaker_allows_entries=breaker_allows_entries,
        )
        self.last = snapshot
        return snapshot

    def seal_last(self) -> None:
        """End the current pass: its snapshot's unread quotes can no longer be priced."""
        if self._open is not None:
            self._open.seal()
            self._open = None


def _spot_only(quotes: LazyQuotes, spot_uic: int) -> Iterator[tuple[int, Quote]]:
    """The window's spot quote (priced now), the only quote `_window` reads."""
    if spot_uic in quotes:
        yield spot_uic, quotes[spot_uic]
