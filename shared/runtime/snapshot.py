"""Building a strategy's Snapshot from its DataRequest: stream quotes when fresh, REST otherwise,
option windows from the broker's chain, VIX, daily bars and today's calendar facts.

REST budget (docs/RUNTIME.md): every requested quote is streamed (ticks of `tick_uics` only wake
the strategy); a uic whose stream is stale is asked over REST at most every
`REST_FALLBACK_SECONDS`; VIX comes from the stream, then REST (at most every
`VIX_REST_SECONDS`), then the external fallback (Yahoo), and its source and age are logged. The
account's margin used (`/port/v1/balances`) is read only when asked, at most every
`MARGIN_REST_SECONDS`.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime
from decimal import Decimal
from typing import Final

from shared import event_calendar, market_hours
from shared.broker import Broker, BrokerError, PriceFeed
from shared.domain import OptionContract, Position, Quote
from shared.external_price_feed import PriceFallback
from shared.logger_service import kv
from shared.strategy_contract import (
    Bar,
    CalendarFacts,
    DataRequest,
    InstrumentRef,
    OptionWindow,
    Snapshot,
)

logger = logging.getLogger(__name__)

REST_FALLBACK_SECONDS: Final = 5.0  # runtime-clock seconds between REST quotes of a stale uic
VIX_REST_SECONDS: Final = 30.0  # runtime-clock seconds between REST VIX reads
MARGIN_REST_SECONDS: Final = 60.0  # runtime-clock seconds between balance (margin) reads


@dataclass(frozen=True)
class VixReading:
    """A VIX level, where it came from (`stream`, `rest`, or the fallback's source) and its age
    in seconds at the time it was used (None when the source gives no time)."""

    level: Decimal
    source: str
    age_s: float | None


class SnapshotBuilder:
    """Gathers what a DataRequest names. Broker errors propagate (the iteration fails)."""

    def __init__(
        self,
        *,
        broker: Broker,
        calendar: event_calendar.EventCalendar,
        stale_s: float,
        feed: PriceFeed | None = None,
        vix_fallback: PriceFallback | None = None,
    ) -> None:
        self._broker = broker
        self._calendar = calendar
        self._stale_s = stale_s
        self.feed = feed
        self._vix_fallback = vix_fallback
        self._subscribed: set[int] = set()
        self._tick_uics: frozenset[int] = frozenset()
        self._rest: dict[int, tuple[datetime, Quote]] = {}  # uic -> (asked at, REST quote)
        self._vix_rest: tuple[datetime, Decimal | None] | None = None
        self._margin_rest: tuple[datetime, Decimal | None] | None = None
        self._vix_source: str | None = None
        self.vix_reading: VixReading | None = None
        self._bars_unavailable_logged = False
        self._facts: CalendarFacts | None = None
        self.last: Snapshot | None = None

    def calendar_facts(self, day: date) -> CalendarFacts:
        if self._facts is None or self._facts.day != day:
            events = self._calendar.events_on(day)
            self._facts = CalendarFacts(
                day=day,
                session=market_hours.session(day, "index_options"),
                fomc_day=any(e.kind == "fomc" for e in events),
                fomc_decision_day=any(e.kind == "fomc_decision" for e in events),
                economic_release_day=event_calendar.is_economic_release_day(self._calendar, day),
                events=tuple(e.name for e in events),
            )
        return self._facts

    def build(
        self,
        request: DataRequest,
        *,
        now: datetime,
        positions: Sequence[Position],
        breaker_allows_entries: bool,
    ) -> Snapshot:
        quotes = self._new_quotes(now)
        self._tick_uics = request.tick_uics
        for ref in request.quotes:
            self._subscribe(ref.uic, ref.asset_type)
        for asset_type, uics in _by_asset_type(request.quotes).items():
            self._add_quotes(quotes, uics, asset_type, now)
        chains: dict[tuple[str, date], tuple[OptionContract, ...]] = {}
        for window in request.option_windows:
            contracts = self._window(window, quotes)
            chains[(window.root, window.expiry)] = contracts
            for c in contracts:
                if c.uic in request.tick_uics:
                    self._subscribe(c.uic, c.asset_type)
            for asset_type, uics in _by_asset_type(contracts).items():
                self._add_quotes(quotes, uics, asset_type, now)
        vix = self._vix(now) if request.vix else None
        bars = {b.uic: self._bars(b.uic, b.asset_type, b.count) for b in request.daily_bars}
        snapshot = Snapshot(
            now=now,
            calendar=self.calendar_facts(now.astimezone(market_hours.NY).date()),
            quotes=quotes,
            quote_ages_s=self._quote_ages(quotes, now),
            vix=vix,
            positions=tuple(positions),
            chains=chains,
            bars={uic: rows for uic, rows in bars.items() if rows},
            breaker_allows_entries=breaker_allows_entries,
            margin_used_usd=self._margin_used(now) if request.account_margin else None,
        )
        self.last = snapshot
        return snapshot

    # --- how quotes are held (the backtest's builder prices them when read) ------------------
    def _new_quotes(self, now: datetime) -> Mapping[int, Quote]:
        """An empty quote mapping for the snapshot at `now` (a dict: quotes fetched now)."""
        return {}

    def _add_quotes(
        self, quotes: Mapping[int, Quote], uics: list[int], asset_type: str, now: datetime
    ) -> None:
        """Add `uics` (of `asset_type`) to `quotes` (from `_new_quotes`): stream or REST."""
        assert isinstance(quotes, dict)
        quotes.update(self._quotes(uics, asset_type, now))

    def _quote_ages(self, quotes: Mapping[int, Quote], now: datetime) -> Mapping[int, float]:
        """Each quote's age at `now` (s, >= 0; 0 when unknown)."""
        return _ages(quotes.values(), now)

    def on_ticks(self, uics: Iterable[int], now: datetime) -> Snapshot | None:
        """The last snapshot with fresh streamed quotes for `uics` (no REST); None if none of
        them is one the strategy asked to be woken by (`DataRequest.tick_uics`)."""
        if self.last is None or self.feed is None:
            return None
        waking = [uic for uic in uics if uic in self._tick_uics]
        if not waking:
            return None
        quotes = dict(self.last.quotes)
        changed = False
        for uic in self._subscribed.intersection(quotes):  # the legs too, as of this tick
            latest = self.feed.latest(uic)
            if latest is not None:
                quotes[uic] = latest
                changed = True
        if not changed:
            return None
        return replace(
            self.last,
            now=now,
            quotes=quotes,
            quote_ages_s=_ages(quotes.values(), now),
            triggered_by_tick=True,
        )

    # --- helpers -----------------------------------------------------------------------------
    def _subscribe(self, uic: int, asset_type: str) -> None:
        if self.feed is None or uic in self._subscribed:
            return
        try:
            self.feed.subscribe(uic, asset_type)
            self._subscribed.add(uic)
        except BrokerError as exc:
            logger.warning(kv("stream_subscribe_failed", uic=uic, error=exc))

    def _quotes(self, uics: list[int], asset_type: str, now: datetime) -> dict[int, Quote]:
        """Stream quotes that are fresh, REST for the rest. Fresh means the subscription is
        alive (data or heartbeat within `stale_s`) AND the quote itself is at most `stale_s`
        old at `now`: a quiet stream keeps a quote whose price stopped changing, and strategies
        treat such an old quote as no price, so it is replaced by a REST quote."""
        found: dict[int, Quote] = {}
        missing: list[int] = []
        for uic in uics:
            latest = self.feed.latest(uic) if self.feed is not None else None
            if (
                latest is not None
                and self.feed is not None
                and self.feed.is_fresh(uic, self._stale_s)
                and not _older_than(latest, now, self._stale_s)
            ):
                found[uic] = latest
            else:
                missing.append(uic)
        due = [uic for uic in missing if not self._rest_recent(uic, now)]
        for uic in missing:
            if uic not in due:
                found[uic] = self._rest[uic][1]
        if due:
            fetched = self._broker.quotes(due, asset_type)
            for uic, quote in fetched.items():
                self._rest[uic] = (now, quote)
            found.update(fetched)
        return found

    def _rest_recent(self, uic: int, now: datetime) -> bool:
        """True when `uic` was asked over REST less than REST_FALLBACK_SECONDS ago."""
        asked = self._rest.get(uic)
        return asked is not None and 0 <= (now - asked[0]).total_seconds() < REST_FALLBACK_SECONDS

    def _window(
        self, window: OptionWindow, quotes: Mapping[int, Quote]
    ) -> tuple[OptionContract, ...]:
        spot_quote = quotes.get(window.spot_uic)
        spot = spot_quote.price if spot_quote is not None else None
        if spot is None:
            return ()
        chain = self._broker.chain(window.root, window.expiry)
        contracts = [c for c in chain.contracts if c.expiry == window.expiry]
        strikes = sorted({c.strike for c in contracts})
        if not strikes:
            return ()
        centre = min(range(len(strikes)), key=lambda i: abs(strikes[i] - spot))
        low = max(0, centre - window.strikes_each_side)
        wanted = set(strikes[low : centre + window.strikes_each_side + 1])
        return tuple(c for c in contracts if c.strike in wanted)

    def _vix(self, now: datetime) -> Decimal | None:
        """VIX: stream, then REST, then the external fallback; the source and age are kept in
        `vix_reading` and logged when the source changes. None when no source has a level."""
        reading = self._vix_from_stream(now) or self._vix_from_rest(now)
        if reading is None and self._vix_fallback is not None:
            external = self._vix_fallback.vix()
            if external is not None:
                age = max(0.0, (now - external.as_of).total_seconds())
                reading = VixReading(external.value, external.source, age)
        self.vix_reading = reading
        source = reading.source if reading is not None else "none"
        if source != self._vix_source:
            self._vix_source = source
            log = logger.info if source in ("stream", "rest") else logger.warning
            log(kv("vix_source", source=source,
                   level=reading.level if reading is not None else None,
                   age_s=None if reading is None or reading.age_s is None
                   else round(reading.age_s, 1)))  # fmt: skip
        return reading.level if reading is not None else None

    def _vix_from_stream(self, now: datetime) -> VixReading | None:
        ref = self._broker.vix_instrument()
        if self.feed is None or ref is None:
            return None
        self._subscribe(*ref)
        quote = self.feed.latest(ref[0])
        if quote is None or not self.feed.is_fresh(ref[0], self._stale_s):
            return None
        level = quote.last if quote.last is not None else quote.price
        age = quote.age_seconds(now)
        if level is None or (age is not None and age > self._stale_s):
            return None
        return VixReading(level, "stream", max(0.0, age) if age is not None else None)

    def _vix_from_rest(self, now: datetime) -> VixReading | None:
        if self._vix_rest is None or not (
            0 <= (now - self._vix_rest[0]).total_seconds() < VIX_REST_SECONDS
        ):
            try:
                level = self._broker.vix()
            except BrokerError as exc:
                logger.warning(kv("vix_unavailable", error=exc))
                level = None
            self._vix_rest = (now, level)
        asked_at, level = self._vix_rest
        if level is None:
            return None
        return VixReading(level, "rest", (now - asked_at).total_seconds())

    def _margin_used(self, now: datetime) -> Decimal | None:
        """The account's margin used by current positions (USD, >= 0: Saxo reports it
        negative), read at most every MARGIN_REST_SECONDS; None when the broker has no figure
        or the read fails (a margin figure never fails the iteration)."""
        if self._margin_rest is None or not (
            0 <= (now - self._margin_rest[0]).total_seconds() < MARGIN_REST_SECONDS
        ):
            try:
                used = self._broker.balance().margin_used
            except BrokerError as exc:
                logger.warning(kv("margin_unavailable", error=exc))
                used = None
            self._margin_rest = (now, abs(used) if used is not None else None)
        return self._margin_rest[1]

    def _bars(self, uic: int, asset_type: str, count: int) -> tuple[Bar, ...]:
        try:
            rows = self._broker.daily_bars(uic, asset_type, count)
        except BrokerError as exc:
            if not self._bars_unavailable_logged:
                self._bars_unavailable_logged = True
                logger.warning(kv("daily_bars_unavailable", uic=uic, error=exc))
            return ()
        return tuple(
            Bar(r.time, float(r.open), float(r.high), float(r.low), float(r.close)) for r in rows
        )


def _older_than(quote: Quote, now: datetime, max_age_s: float) -> bool:
    """True when the quote's own time says it is more than `max_age_s` old at `now`."""
    age = quote.age_seconds(now)
    return age is not None and age > max_age_s


def _by_asset_type(refs: Iterable[InstrumentRef | OptionContract]) -> dict[str, list[int]]:
    """The uics of `refs` grouped by asset type, in first-seen order."""
    grouped: dict[str, list[int]] = {}
    for ref in refs:
        grouped.setdefault(ref.asset_type, []).append(ref.uic)
    return grouped


def _ages(quotes: Iterable[Quote], now: datetime) -> dict[int, float]:
    ages: dict[int, float] = {}
    for quote in quotes:
        age = quote.age_seconds(now)
        ages[quote.uic] = max(0.0, age) if age is not None else 0.0
    return ages
