"""The backtest's market: today's ticks priced with the simulator's model, served as a Broker.

`shared.backtest.levels.HistoricalModel` gives the underlyings' and VIX's levels at an instant;
options are priced from them by the simulator's Black-Scholes on its VIX-tied surface with its
spreads and tick sizes, and listed by its listing rules (`InstrumentCatalog`). SPY options are
listed by the same rules. `MarketData` is the market-data half of the Broker port (quotes, VIX,
chains, the previous days' bars); orders are filled by `shared.brokers.dry_run.DryRunBroker`
over `SlippedMarketData`. What it cannot serve (`unserved`) stops a run with `BacktestUnsupported`.

Quotes are cached per instant: the snapshot and the fills of one pass ask the same contracts at
the same instant, and a quote is a pure function of (contract, instant), so each is priced once
(inside one pricing batch per instant, which shares the per-expiry work).
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import ExitStack
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import cast

from shared import market_hours
from shared.backtest.history import DailyBar as HistoryBar
from shared.backtest.levels import QQQ_PER_COMPOSITE, SPY_PER_SPX, HistoricalModel
from shared.backtest.paths import TICK_SECONDS, TICKS_PER_MINUTE
from shared.broker import BrokerError, DailyBar, OrderTicket, PriceFeed, TickCallback
from shared.domain import (
    Balance,
    OptionChain,
    OptionContract,
    Order,
    OrderOutcome,
    PlacedOrder,
    Position,
    PutCall,
    Quote,
)
from shared.options_math import tick_size
from shared.saxo_sim import instruments
from shared.saxo_sim.instruments import (
    QQQ_ROOT_ID,
    QQQ_UIC,
    SPXW_ROOT_ID,
    SPY_ROOT_ID,
    SPY_UIC,
    US500_UIC,
    VIX_UIC,
    InstrumentCatalog,
)
from shared.saxo_sim.market_model import MarketModel
from shared.saxo_sim.pricing import PricingEngine
from shared.strategy_contract import DataRequest


@dataclass(frozen=True)
class ServedRoot:
    """An option root the backtest lists: its id, underlying and Saxo asset type."""

    root_id: int
    underlying_uic: int
    asset_type: str


ROOTS = {
    "SPXW": ServedRoot(SPXW_ROOT_ID, US500_UIC, "StockIndexOption"),
    "SPY": ServedRoot(SPY_ROOT_ID, SPY_UIC, "StockOption"),
    "QQQ": ServedRoot(QQQ_ROOT_ID, QQQ_UIC, "StockOption"),
}


def root_of_underlying(uic: int) -> str | None:
    """The option root the backtest lists on underlying `uic` (SPY -> SPY), or None."""
    return next((name for name, root in ROOTS.items() if root.underlying_uic == uic), None)


UNDERLYINGS = (US500_UIC, SPY_UIC, VIX_UIC)  # QQQ too on days with NASDAQ data
_NO_ROOT = ServedRoot(0, 0, "")


class BacktestUnsupported(ValueError):
    """The strategy asks for market data the backtest does not serve yet; the message names it."""


SERVED = (
    "quotes of US500.I (uic 4913), SPY (uic 36590: SPX / 10), QQQ (uic 4328771: from the NASDAQ "
    "Composite, on days the history has it) and VIX.I (uic 10606), their daily bars, SPXW, SPY "
    "and QQQ option chains and their quotes"
)


class MarketData:
    """The market-data half of the Broker port over `HistoricalModel` (no orders, no account:
    `DryRunBroker` keeps those). A fresh listing per day keeps memory flat over years."""

    simulated = True

    def __init__(self, model: HistoricalModel, *, cache: bool = True) -> None:
        self.model = model
        self._cache = cache
        self._catalog = InstrumentCatalog(model.seed)
        self._pricing = PricingEngine(cast(MarketModel, model), self._catalog)
        self._day: date | None = None
        self._priced_at: datetime | None = None  # the instant `_priced` holds quotes for
        self._priced: dict[tuple[int, str], Quote] = {}
        self._batch = ExitStack()
        self._contracts: dict[int, OptionContract] = {}  # uic -> the chain's view of a listing
        self._described: dict[Position, Position] = {}  # today's positions, described
        self._previous: tuple[HistoryBar, ...] = ()
        self._nasdaq_previous: tuple[HistoryBar, ...] = ()

    def new_day(self, day: date, *, keep_listings: bool = False) -> None:
        """Forget yesterday's listings (called before the day's first quote), unless
        `keep_listings` (a position is still held: its contracts must stay quotable)."""
        self._day = day
        self._forget_instant()
        self._described.clear()
        if keep_listings:
            return
        self._catalog = InstrumentCatalog(self.model.seed)
        self._pricing = PricingEngine(cast(MarketModel, self.model), self._catalog)
        self._contracts.clear()

    def described(self, positions: Sequence[Position]) -> list[Position]:
        """`positions` with each listed option's strike, expiry and put/call filled in, as
        Saxo's positions carry them (the dry-run broker keeps only uic and amount). Each
        position is described once a day (they are the same on every pass while held)."""
        described = []
        for position in positions:
            known = self._described.get(position)
            if known is None:
                contract = self._catalog.option(position.uic)
                known = position
                if contract is not None and position.strike is None:
                    known = replace(position, strike=contract.strike, expiry=contract.expiry,
                                    put_call=PutCall(contract.put_call.lower()))  # fmt: skip
                    self._described[position] = known
            described.append(known)
        return described

    def contract_of(self, uic: int) -> instruments.OptionContract | None:
        """The listed (and kept) series of `uic`, or None."""
        return self._catalog.option(uic)

    def root_of(self, uic: int) -> str:
        """The root symbol of a listed contract (SPXW when unknown)."""
        contract = self._catalog.option(uic)
        return "SPXW" if contract is None else contract.root

    def expiry_of(self, uic: int) -> date | None:
        """The expiry of a contract listed (and kept) so far, or None."""
        contract = self._catalog.option(uic)
        return None if contract is None else contract.expiry

    def quotes(self, uics: Sequence[int], asset_type: str) -> dict[int, Quote]:
        now = self.model.now()
        found: dict[int, Quote] = {}
        for uic in uics:
            quote = self.quote_at(uic, asset_type, now)
            if quote is not None:
                found[uic] = quote
        return found

    def is_quotable(self, uic: int) -> bool:
        """True when `quotes` answers for `uic` (the underlying, VIX or a listed contract),
        known without pricing it."""
        if uic == QQQ_UIC:
            return self.model.has_nasdaq
        return uic in UNDERLYINGS or self._catalog.option(uic) is not None

    def unserved(self, request: DataRequest) -> list[str]:
        """What `request` asks that this market cannot answer (empty: everything served)."""
        problems = [f"quotes of uic {ref.uic} ({ref.asset_type})" for ref in request.quotes
                    if not ref.asset_type.endswith("Option") and not self.is_quotable(ref.uic)]
        # an option not listed (e.g. expired) is served as no quote, as a broker answers it
        problems += [f"option chains of {w.root} around uic {w.spot_uic}"
                     for w in request.option_windows
                     if ROOTS.get(w.root, _NO_ROOT).underlying_uic != w.spot_uic]  # fmt: skip
        problems += [f"daily bars of uic {b.uic}" for b in request.daily_bars
                     if b.uic not in (US500_UIC, SPY_UIC, QQQ_UIC)]  # fmt: skip
        return problems

    def quote_at(self, uic: int, asset_type: str, now: datetime) -> Quote | None:
        """The quote of `uic` at `now` (None: not listed), priced once per instant."""
        if now != self._priced_at:
            self._forget_instant()
            self._batch.enter_context(self._pricing.batch(now))
            self._priced_at = now
        key = (uic, asset_type)
        quote = self._priced.get(key)
        if quote is None:
            quote = self._quote(uic, asset_type, now)
            if quote is not None and self._cache:  # None: one listed later is then priced
                self._priced[key] = quote
        return quote

    def _forget_instant(self) -> None:
        self._batch.close()
        self._priced_at = None
        self._priced.clear()

    def _quote(self, uic: int, asset_type: str, now: datetime) -> Quote | None:
        if uic in UNDERLYINGS or uic == QQQ_UIC:
            q = self._pricing.underlying_quote(uic, now)
        else:
            contract = self._catalog.option(uic)
            if contract is None:
                return None
            q = self._pricing.option_quote(contract, now)
        return Quote(uic=uic, asset_type=asset_type, bid=q.bid, ask=q.ask, mid=q.mid,
                     last=q.last, updated_at=now, bid_size=Decimal(q.bid_size),
                     ask_size=Decimal(q.ask_size), market_open=q.market_open)  # fmt: skip

    def vix(self) -> Decimal | None:
        level = self.model.vix()
        return Decimal(repr(round(level, 2)))

    def vix_instrument(self) -> tuple[int, str] | None:
        """None: nothing is streamed in a backtest; VIX is read with `vix()`."""
        return None

    def precheck(self, ticket: OrderTicket) -> str | None:
        """None (accepted): the backtest models no margin, so no entry is refused for it."""
        return None

    def chain(self, root: str, expiry: date) -> OptionChain:
        served = ROOTS.get(root)
        if served is None:
            raise BrokerError(f"the backtest lists no option root {root!r}")
        root_id = served.root_id
        reference = self.model.spot(served.underlying_uic, self.model.now())
        listed = self._catalog.contracts(root_id, expiry, reference)
        contracts = tuple(self._contract(root, c) for c in listed)
        return OptionChain(root=root, root_id=root_id, asset_type=served.asset_type,
                           underlying_uic=served.underlying_uic,
                           contract_size=instruments.CONTRACT_SIZE,
                           expiries=(expiry,), contracts=contracts)  # fmt: skip

    def _contract(self, root: str, listed: instruments.OptionContract) -> OptionContract:
        """The domain contract of a listed series (made once per listing)."""
        contract = self._contracts.get(listed.uic)
        if contract is None:
            contract = OptionContract(
                uic=listed.uic, root=root, root_id=listed.root_id,
                asset_type=ROOTS[root].asset_type, underlying_uic=listed.underlying_uic,
                expiry=listed.expiry, strike=listed.strike,
                put_call=PutCall(listed.put_call.lower()),
            )  # fmt: skip
            self._contracts[listed.uic] = contract
        return contract

    def set_previous_bars(
        self, bars: Sequence[HistoryBar], nasdaq: Sequence[HistoryBar] = ()
    ) -> None:
        """The S&P 500's and the NASDAQ Composite's completed daily bars before today (oldest
        first), for `daily_bars`."""
        self._previous = tuple(bars)
        self._nasdaq_previous = tuple(nasdaq)

    def daily_bars(self, uic: int, asset_type: str, count: int) -> tuple[DailyBar, ...]:
        """Up to `count` completed daily bars before today, oldest first (SPY: SPX / 10, QQQ:
        the NASDAQ Composite scaled); `time` is each session's open (UTC)."""
        if uic not in (US500_UIC, SPY_UIC, QQQ_UIC):
            raise BrokerError(f"the backtest serves no daily bars of uic {uic}")
        scale = {SPY_UIC: SPY_PER_SPX, QQQ_UIC: QQQ_PER_COMPOSITE}.get(uic, 1.0)
        source = self._nasdaq_previous if uic == QQQ_UIC else self._previous
        rows = []
        for bar in source[-count:] if count > 0 else ():
            session = market_hours.session(bar.day, "nyse")
            if session is None:
                continue
            rows.append(DailyBar(session.open.astimezone(UTC), *(
                Decimal(repr(round(price * scale, 2)))
                for price in (bar.open, bar.high, bar.low, bar.close)
            )))  # fmt: skip
        return tuple(rows)

    def open_price_feed(self, on_tick: TickCallback) -> PriceFeed | None:
        return None

    # --- account and orders: kept by DryRunBroker, never asked here -------------------------
    def positions(self) -> list[Position]:
        raise BrokerError("market data only")

    def balance(self) -> Balance:
        raise BrokerError("market data only")

    def place_order(self, ticket: object, *, request_id: str) -> PlacedOrder:
        raise BrokerError("market data only")

    def cancel_order(self, order_id: str) -> bool:
        raise BrokerError("market data only")

    def verify_order(self, order_id: str) -> OrderOutcome:
        raise BrokerError("market data only")

    def open_orders(self) -> list[Order]:
        raise BrokerError("market data only")

    def find_order(self, external_reference: str, since: datetime) -> str | None:
        raise BrokerError("market data only")


class SlippedMarketData(MarketData):
    """The quotes orders fill against: each side moved `ticks` option ticks away from the mid
    (buys pay more, sells get less); underlying and VIX quotes unchanged."""

    def __init__(self, market: MarketData, ticks: int) -> None:
        self._market = market
        self._ticks = ticks

    def quotes(self, uics: Sequence[int], asset_type: str) -> dict[int, Quote]:
        quotes = self._market.quotes(uics, asset_type)
        if self._ticks == 0 or not asset_type.endswith("Option"):
            return quotes
        return {uic: self._slipped(q) for uic, q in quotes.items()}

    def _slipped(self, quote: Quote) -> Quote:
        root = self._market.root_of(quote.uic)
        bid, ask = quote.bid, quote.ask
        if bid is not None and bid > 0:
            bid = max(Decimal(0), bid - self._ticks * tick_size(root, float(bid)))
        if ask is not None:
            ask = ask + self._ticks * tick_size(root, float(ask))
        return Quote(uic=quote.uic, asset_type=quote.asset_type, bid=bid, ask=ask, mid=quote.mid,
                     last=quote.last, updated_at=quote.updated_at, bid_size=quote.bid_size,
                     ask_size=quote.ask_size, market_open=quote.market_open)  # fmt: skip

    def vix(self) -> Decimal | None:
        return self._market.vix()

    def chain(self, root: str, expiry: date) -> OptionChain:
        return self._market.chain(root, expiry)


def tick_times(session_open: datetime, minute: int) -> list[datetime]:
    """The instants of minute `minute`'s four ticks (UTC)."""
    start = session_open + timedelta(minutes=minute)
    return [start + timedelta(seconds=TICK_SECONDS * k) for k in range(TICKS_PER_MINUTE)]
