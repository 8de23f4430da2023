"""Canonical objects for the iron fly tests: a synthetic market, snapshots, fills, a day driver.

The market prices a 0DTE SPXW chain with a simple rule so tests can reason about numbers:
time value = max(0.25, 10 - 0.25 x |strike - spot|) points, plus intrinsic value; every quote is
mid +- 0.05. At spot 5000.00: straddle at 5000 = 20.00 -> wings 20; ATM = 5005; the fly's legs
are SC 5005 (8.75 mid), SP 5005 (13.75), LC 5025 (3.75), LP 4985 (6.25).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from bots.iron_fly_0dte.config import IronFlyStrategyConfig
from bots.iron_fly_0dte.strategy import IronFlyStrategy
from shared import market_hours
from shared.config.envelope import MarketDataSection
from shared.domain import OptionContract, Position, PutCall, Quote, Side
from shared.strategy_contract import (
    Action,
    CalendarFacts,
    ClosePosition,
    DataRequest,
    ExecutionReport,
    LegFill,
    OpenPosition,
    RecordEvent,
    Snapshot,
)

NY = ZoneInfo("America/New_York")
DAY = date(2026, 3, 10)  # an ordinary Tuesday
EARLY_CLOSE_DAY = date(2026, 11, 27)  # day after Thanksgiving, closes 13:00 ET
SPX_UIC = 4913
VIX_UIC = 10606
ROOT_UIC = 128
D = Decimal
SPOT = Decimal("5000.00")
VIX = Decimal("15.0")
COMMISSION_USD = Decimal("1.00")  # per leg fill


def at(hour: int, minute: int = 0, second: int = 0, day: date = DAY) -> datetime:
    """A New York wall time on `day`, returned in UTC (as the runtime passes `now`)."""
    return datetime(day.year, day.month, day.day, hour, minute, second, tzinfo=NY).astimezone(UTC)


def option_uic(strike: Decimal, put_call: PutCall) -> int:
    return 1_000_000 + int(strike) * 10 + (0 if put_call is PutCall.CALL else 1)


def settings(**changes: Any) -> IronFlyStrategyConfig:
    return IronFlyStrategyConfig(**changes)


def strategy(**changes: Any) -> IronFlyStrategy:
    return IronFlyStrategy(settings(**changes), market_data=MarketDataSection())


def calendar(day: date = DAY, **flags: Any) -> CalendarFacts:
    values: dict[str, Any] = {"fomc_day": False, "fomc_decision_day": False,
                              "economic_release_day": False}
    values.update(flags)
    return CalendarFacts(day=day, session=market_hours.session(day), **values)


@functools.cache
def _chain(centre: int, day: date) -> tuple[OptionContract, ...]:
    """SPXW contracts of `day` every 5 points within 150 points of `centre`."""
    return tuple(
        OptionContract(uic=option_uic(D(k), pc), root="SPXW", root_id=ROOT_UIC,
                       asset_type="StockIndexOption", underlying_uic=SPX_UIC, expiry=day,
                       strike=D(k), put_call=pc)
        for k in range(centre - 150, centre + 155, 5)
        for pc in (PutCall.CALL, PutCall.PUT)
    )


@dataclass
class Market:
    """A mutable synthetic market; `snapshot` answers a DataRequest like the runtime would."""

    spot: Decimal = SPOT
    vix: Decimal | None = VIX
    day: date = DAY
    leg_overrides: dict[int, tuple[Decimal, Decimal]] = field(default_factory=dict)
    missing: set[int] = field(default_factory=set)  # uics with no quote at all
    ages: dict[int, float] = field(default_factory=dict)
    delayed_minutes: dict[int, int] = field(default_factory=dict)  # uic -> Saxo's delay
    positions: list[Position] = field(default_factory=list)
    facts: CalendarFacts | None = None
    breaker_allows_entries: bool = True
    fallback_vix: Decimal | None = None

    def mid(self, strike: Decimal, put_call: PutCall) -> Decimal:
        time_value = max(D("0.25"), D(10) - D("0.25") * abs(strike - self.spot))
        signed = self.spot - strike if put_call is PutCall.CALL else strike - self.spot
        intrinsic = max(D(0), signed)
        return time_value + intrinsic

    def contracts(self) -> tuple[OptionContract, ...]:
        return _chain(int(self.spot // 5 * 5), self.day)

    def option_quote(self, contract: OptionContract, now: datetime) -> Quote:
        if contract.uic in self.leg_overrides:
            bid, ask = self.leg_overrides[contract.uic]
        else:
            mid = self.mid(contract.strike, contract.put_call)
            bid, ask = max(D(0), mid - D("0.05")), mid + D("0.05")
        return Quote(uic=contract.uic, asset_type="StockIndexOption", bid=bid, ask=ask,
                     mid=(bid + ask) / 2, last=None, updated_at=now)

    def snapshot(self, now: datetime, request: DataRequest | None = None, *,
                 tick: bool = False) -> Snapshot:
        request = request if request is not None else DataRequest()
        quotes: dict[int, Quote] = {}
        chains: dict[tuple[str, date], tuple[OptionContract, ...]] = {}
        for window in request.option_windows:
            chain = tuple(c for c in self.contracts() if c.expiry == window.expiry)
            chains[(window.root, window.expiry)] = chain
            for contract in chain:
                quotes[contract.uic] = self.option_quote(contract, now)
        for ref in request.quotes:
            if ref.uic == SPX_UIC:
                quotes[ref.uic] = Quote(uic=SPX_UIC, asset_type="CfdOnIndex",
                                        bid=self.spot - D("0.25"), ask=self.spot + D("0.25"),
                                        mid=self.spot, last=None, updated_at=now)
            elif ref.uic == VIX_UIC and self.vix is not None:
                quotes[ref.uic] = Quote(uic=VIX_UIC, asset_type="StockIndex", bid=None, ask=None,
                                        mid=None, last=self.vix, updated_at=now)
            else:
                listed = next((c for c in self.contracts() if c.uic == ref.uic), None)
                if listed is not None:
                    quotes[ref.uic] = self.option_quote(listed, now)
        for uic in self.missing:
            quotes.pop(uic, None)
        for uic, minutes in self.delayed_minutes.items():
            if uic in quotes:
                quotes[uic] = replace(quotes[uic], delayed_minutes=minutes)
        ages = {uic: self.ages.get(uic, 0.0) for uic in quotes}
        return Snapshot(
            now=now, calendar=self.facts or calendar(self.day), quotes=quotes, quote_ages_s=ages,
            vix=self.fallback_vix if self.fallback_vix is not None else self.vix,
            positions=tuple(self.positions), chains=chains,
            breaker_allows_entries=self.breaker_allows_entries, triggered_by_tick=tick,
        )


def step(strat: IronFlyStrategy, market: Market, now: datetime, *,
         tick: bool = False) -> list[Action]:
    """One loop pass: data_request, snapshot, decide."""
    return list(strat.decide(market.snapshot(now, strat.data_request(now), tick=tick)))


def run(strat: IronFlyStrategy, market: Market, start: datetime, end: datetime,
        every_s: float = 5.0, path: Callable[[datetime], Decimal] | None = None) -> list[Action]:
    """Drive the strategy from `start` to `end` (inclusive) every `every_s` seconds; `path`
    sets the spot before each pass."""
    actions: list[Action] = []
    now = start
    while now <= end:
        if path is not None:
            market.spot = path(now)
        actions.extend(step(strat, market, now))
        now += timedelta(seconds=every_s)
    return actions


def set_legs(market: Market, order: OpenPosition | ClosePosition,
             quotes: dict[str, tuple[str, str]]) -> None:
    """Pin the quotes (bid, ask) of the order's legs by leg name; others keep their prices."""
    for leg in order.legs:
        if leg.leg in quotes:
            bid, ask = quotes[leg.leg]
            market.leg_overrides[leg.uic] = (D(bid), D(ask))


def pin_legs(market: Market, order: OpenPosition, now: datetime) -> None:
    """Freeze the legs' quotes at their current values, so spot moves do not change P&L."""
    by_uic = {c.uic: c for c in market.contracts()}
    for leg in order.legs:
        quote = market.option_quote(by_uic[leg.uic], now)
        assert quote.bid is not None and quote.ask is not None
        market.leg_overrides[leg.uic] = (quote.bid, quote.ask)


def of_type(actions: Sequence[Action], kind: type) -> list[Any]:
    return [a for a in actions if isinstance(a, kind)]


def records(actions: Sequence[Action], kind: str) -> list[RecordEvent]:
    return [a for a in actions if isinstance(a, RecordEvent) and a.kind == kind]


def fills_for(order: OpenPosition | ClosePosition, prices: dict[str, Decimal], at_: datetime,
              commission: Decimal = COMMISSION_USD) -> tuple[LegFill, ...]:
    """Fills of every leg of `order` at `prices` (by leg name), `commission` USD per leg."""
    return tuple(
        LegFill(leg=leg.leg, uic=leg.uic, side=leg.side, quantity=leg.quantity,
                price=prices[leg.leg], commission_usd=commission, filled_at=at_)
        for leg in order.legs
    )


def quoted_fills(order: OpenPosition | ClosePosition, market: Market,
                 at_: datetime) -> tuple[LegFill, ...]:
    """Fills at the touch: buys at the ask, sells at the bid."""
    by_uic = {c.uic: c for c in market.contracts()}
    prices = {}
    for leg in order.legs:
        quote = market.option_quote(by_uic[leg.uic], at_)
        assert quote.bid is not None and quote.ask is not None
        prices[leg.leg] = quote.ask if leg.side is Side.BUY else quote.bid
    return fills_for(order, prices, at_)


def positions_of(order: OpenPosition, *, opened_at: datetime | None = None,
                 open_prices: dict[str, Decimal] | None = None) -> list[Position]:
    """The broker positions an entry creates (buy = long, sell = short)."""
    return [
        Position(position_id=f"p{leg.uic}", uic=leg.uic, asset_type=leg.asset_type,
                 amount=D(leg.quantity if leg.side is Side.BUY else -leg.quantity),
                 open_price=(open_prices or {}).get(leg.leg), strike=leg.strike,
                 expiry=leg.expiry, put_call=leg.put_call, opened_at=opened_at)
        for leg in order.legs
    ]


def option_position(strike: str, put_call: PutCall, amount: int, *, day: date = DAY,
                    open_price: str | None = None) -> Position:
    k = D(strike)
    return Position(position_id=f"p{option_uic(k, put_call)}", uic=option_uic(k, put_call),
                    asset_type="StockIndexOption", amount=D(amount),
                    open_price=None if open_price is None else D(open_price), strike=k,
                    expiry=day, put_call=put_call)


def enter(strat: IronFlyStrategy, market: Market, *, fill_prices: dict[str, Decimal] | None = None,
          fill_at: datetime | None = None) -> OpenPosition:
    """Drive a normal morning to the entry, report it filled, and put the legs at the broker."""
    actions = run(strat, market, at(9, 30), at(10, 0))
    (order,) = of_type(actions, OpenPosition)
    when = fill_at or at(10, 0, 5)
    fills = (fills_for(order, fill_prices, when) if fill_prices is not None
             else quoted_fills(order, market, when))
    strat.on_execution(ExecutionReport(order.intent_id, "filled", fills), when)
    market.positions = positions_of(order, opened_at=when)
    return order
