"""The backtest's market: today's ticks priced with the simulator's model, served as a Broker.

`HistoricalModel` answers what `saxo_sim.pricing.PricingEngine` asks of a market model (levels
at an instant, session state), from one day's ticks; options are then priced by the simulator's
Black-Scholes on its VIX-tied surface with its spreads and tick sizes, and listed by its listing
rules (`InstrumentCatalog`). Intraday VIX is modelled: the previous day's close moved against
the underlying (`VIX_ELASTICITY` times its log return since the open), so no decision sees a
later close. `MarketData` is the market-data half of the Broker port (quotes, VIX, chains);
orders are filled by `shared.brokers.dry_run.DryRunBroker` over `SlippedMarketData`.

Quotes are cached per instant: the snapshot and the fills of one pass ask the same contracts at
the same instant, and a quote is a pure function of (contract, instant), so each is priced once
(inside one pricing batch per instant, which shares the per-expiry work).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from contextlib import ExitStack
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import cast

from shared import market_hours
from shared.backtest.paths import TICK_SECONDS, TICKS_PER_MINUTE, DayTicks
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
from shared.market_hours import Venue
from shared.options_math import tick_size
from shared.saxo_sim import instruments
from shared.saxo_sim.instruments import SPXW_ROOT_ID, US500_UIC, VIX_UIC, InstrumentCatalog
from shared.saxo_sim.market_model import MarketModel
from shared.saxo_sim.pricing import PricingEngine
from shared.strategy_contract import DataRequest

VIX_ELASTICITY = 5.0  # VIX log change per unit of SPX log return (about -5 % per +1 %)
OPTION_ASSET_TYPE = "StockIndexOption"
ROOTS = {"SPXW": SPXW_ROOT_ID}


class BacktestUnsupported(ValueError):
    """The strategy asks for market data the backtest does not serve yet; the message names it."""


SERVED = "US500.I (uic 4913) and VIX.I (uic 10606) quotes, SPXW option chains and their quotes"


class HistoricalModel:
    """Levels of US500.I and VIX at any instant of the loaded day (the last tick at or before
    it; the open before the session, the close after it). Times tz-aware."""

    def __init__(self, seed: int) -> None:
        self.seed = seed
        self.now_at: datetime | None = None
        self._ticks: DayTicks | None = None
        self._open: datetime | None = None
        self._vix_open = 0.0

    def load_day(self, ticks: DayTicks, session_open: datetime, vix_open: float) -> None:
        self._ticks, self._open, self._vix_open = ticks, session_open, vix_open

    def now(self) -> datetime:
        if self.now_at is None:
            raise RuntimeError("the backtest market has no time yet")
        return self.now_at

    def spot(self, uic: int, at: datetime | None = None) -> float:
        if uic == VIX_UIC:
            return self.vix(at)
        if uic != US500_UIC:
            raise ValueError(f"the backtest market has no uic {uic}")
        return self._level(self.now() if at is None else at)

    def vix(self, at: datetime | None = None) -> float:
        ticks = self._require()
        level = self._level(self.now() if at is None else at)
        return self._vix_open * math.exp(-VIX_ELASTICITY * math.log(level / ticks.prices[0, 0]))

    def market_open(self, uic: int, at: datetime | None = None) -> bool:
        return market_hours.is_market_open(self.now() if at is None else at, "index_options")

    def effective_time(self, at: datetime, venue: Venue) -> datetime:
        session = market_hours.session(at.astimezone(market_hours.NY).date(), venue)
        if session is None or at < session.open:
            return at  # the loaded day's open level stands for it
        return min(at, session.close)

    def _level(self, at: datetime) -> float:
        ticks = self._require()
        assert self._open is not None
        seconds = (at - self._open).total_seconds()
        if seconds < 0:
            return float(ticks.prices[0, 0])
        minute, second = divmod(int(seconds), 60)
        if minute >= ticks.minutes:
            return float(ticks.prices[-1, -1])
        return float(ticks.prices[minute, min(second // TICK_SECONDS, TICKS_PER_MINUTE - 1)])

    def _require(self) -> DayTicks:
        if self._ticks is None:
            raise RuntimeError("the backtest market has no day loaded")
        return self._ticks


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

    def new_day(self, day: date, *, keep_listings: bool = False) -> None:
        """Forget yesterday's listings (called before the day's first quote), unless
        `keep_listings` (a position is still held: its contracts must stay quotable)."""
        self._day = day
        self._forget_instant()
        if keep_listings:
            return
        self._catalog = InstrumentCatalog(self.model.seed)
        self._pricing = PricingEngine(cast(MarketModel, self.model), self._catalog)
        self._contracts.clear()

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
        return uic in (US500_UIC, VIX_UIC) or self._catalog.option(uic) is not None

    def unserved(self, request: DataRequest) -> list[str]:
        """What `request` asks that this market cannot answer (empty: everything served)."""
        problems = [f"quotes of uic {ref.uic} ({ref.asset_type})" for ref in request.quotes
                    if not self.is_quotable(ref.uic)]  # fmt: skip
        problems += [f"option chains of {w.root}" for w in request.option_windows
                     if w.root not in ROOTS or w.spot_uic != US500_UIC]  # fmt: skip
        problems += [f"daily bars of uic {b.uic}" for b in request.daily_bars]
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
        if uic in (US500_UIC, VIX_UIC):
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
        root_id = ROOTS.get(root)
        if root_id is None:
            raise BrokerError(f"the backtest lists no option root {root!r}")
        reference = self.model.spot(US500_UIC, self.model.now())
        listed = self._catalog.contracts(root_id, expiry, reference)
        contracts = tuple(self._contract(root, c) for c in listed)
        return OptionChain(root=root, root_id=root_id, asset_type=OPTION_ASSET_TYPE,
                           underlying_uic=US500_UIC, contract_size=instruments.CONTRACT_SIZE,
                           expiries=(expiry,), contracts=contracts)  # fmt: skip

    def _contract(self, root: str, listed: instruments.OptionContract) -> OptionContract:
        """The domain contract of a listed series (made once per listing)."""
        contract = self._contracts.get(listed.uic)
        if contract is None:
            contract = OptionContract(
                uic=listed.uic, root=root, root_id=listed.root_id,
                asset_type=OPTION_ASSET_TYPE, underlying_uic=listed.underlying_uic,
                expiry=listed.expiry, strike=listed.strike,
                put_call=PutCall(listed.put_call.lower()),
            )  # fmt: skip
            self._contracts[listed.uic] = contract
        return contract

    def daily_bars(self, uic: int, asset_type: str, count: int) -> tuple[DailyBar, ...]:
        raise BrokerError("the backtest serves no daily bars yet")

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
        bid, ask = quote.bid, quote.ask
        if bid is not None and bid > 0:
            bid = max(Decimal(0), bid - self._ticks * tick_size("SPXW", float(bid)))
        if ask is not None:
            ask = ask + self._ticks * tick_size("SPXW", float(ask))
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
