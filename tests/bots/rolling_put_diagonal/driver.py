"""A pure desk for RollingPutDiagonalStrategy: QQQ at a set price, Black-Scholes puts for any
expiry, daily bars, and an executor that fills every order at the touch (buys at the ask,
sells at the bid, 0.65 USD a contract) and keeps the broker's positions. No I/O, no sleeps."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from bots.rolling_put_diagonal.config import RollingPutDiagonalStrategy as Cfg
from bots.rolling_put_diagonal.strategy import RollingPutDiagonalStrategy
from shared import market_hours
from shared.domain import Greeks, OptionContract, Position, PutCall, Quote, Side
from shared.event_calendar import EventCalendar
from shared.market_hours import NY
from shared.options_math import bs_greeks
from shared.strategy_contract import (
    Action,
    Bar,
    CalendarFacts,
    ClosePosition,
    ExecutionReport,
    LegFill,
    OpenPosition,
    RecordEvent,
    Snapshot,
)

QQQ = 4328771
ROOT_ID = 6045
COMMISSION = Decimal("0.65")
VOL = 0.20
HALF_SPREAD = Decimal("0.02")


def et(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=NY).astimezone(UTC)


def rising_bars(last_day: date, last_close: float, count: int = 60) -> tuple[Bar, ...]:
    """`count` green daily bars up to `last_day`, each 0.4 % above the one before: every entry
    indicator holds (closes above a rising EMA, MACD histogram positive)."""
    days = _sessions_up_to(last_day, count)
    closes = [last_close / 1.004 ** (count - 1 - i) for i in range(count)]
    return tuple(Bar(datetime.combine(d, time(0), tzinfo=UTC), c * 0.997, c * 1.002, c * 0.996, c)
                 for d, c in zip(days, closes, strict=True))  # fmt: skip


def falling_bars(last_day: date, last_close: float, count: int = 60) -> tuple[Bar, ...]:
    """Red bars, each 0.4 % below the one before: the close is under the EMA."""
    days = _sessions_up_to(last_day, count)
    closes = [last_close * 1.004 ** (count - 1 - i) for i in range(count)]
    return tuple(Bar(datetime.combine(d, time(0), tzinfo=UTC), c * 1.003, c * 1.004, c * 0.998, c)
                 for d, c in zip(days, closes, strict=True))  # fmt: skip


def _sessions_up_to(last_day: date, count: int) -> list[date]:
    days = [last_day]
    while len(days) < count:
        days.append(market_hours.previous_session(days[-1]).day)
    return list(reversed(days))


def put_uic(expiry: date, strike: Decimal) -> int:
    return 200_000_000 + (expiry.toordinal() - 739_000) * 10_000 + int(strike)


@dataclass
class Desk:
    """Market, broker and executor in one, for one strategy."""

    strategy: RollingPutDiagonalStrategy
    price: Decimal = Decimal(500)
    bars: tuple[Bar, ...] = ()
    positions: dict[int, Position] = field(default_factory=dict)
    fills: list[LegFill] = field(default_factory=list)
    orders: list[OpenPosition | ClosePosition] = field(default_factory=list)
    fail: dict[str, str] = field(default_factory=dict)  # leg name -> status, once
    reported: list[Action] = field(default_factory=list)  # what on_execution returned
    greeks: bool = True
    margin_used_usd: Decimal | None = None  # the account margin the broker reports (USD)

    def put_quote(self, uic: int, now: datetime) -> Quote:
        strike, expiry = _decode(uic)
        close = datetime.combine(expiry, time(16), tzinfo=NY)
        years = max((close - now).total_seconds(), 0) / (365 * 86400)
        g = bs_greeks(float(self.price), float(strike), years, VOL, 0.0, "put")
        mid = Decimal(str(round(max(g.price, 0.03), 2)))
        greeks = Greeks(g.delta, g.gamma, g.theta_per_day, None, VOL, g.price) if self.greeks \
            else None  # fmt: skip
        return Quote(uic, "StockOption", mid - HALF_SPREAD, mid + HALF_SPREAD, mid, None, now,
                     greeks=greeks)  # fmt: skip

    def snapshot(self, now: datetime) -> Snapshot:
        request = self.strategy.data_request(now)
        day = now.astimezone(NY).date()
        quotes: dict[int, Quote] = {
            QQQ: Quote(QQQ, "Etf", self.price - Decimal("0.01"), self.price + Decimal("0.01"),
                       self.price, self.price, now),
        }  # fmt: skip
        for ref in request.quotes:
            if ref.uic != QQQ:
                quotes[ref.uic] = self.put_quote(ref.uic, now)
        chains: dict[tuple[str, date], tuple[OptionContract, ...]] = {}
        for window in request.option_windows:
            centre = Decimal(round(self.price))
            strikes = [centre + k for k in range(-window.strikes_each_side,
                                                 window.strikes_each_side + 1)]  # fmt: skip
            contracts = tuple(
                OptionContract(put_uic(window.expiry, k), "QQQ", ROOT_ID, "StockOption", QQQ,
                               window.expiry, k, PutCall.PUT)
                for k in strikes)  # fmt: skip
            chains[("QQQ", window.expiry)] = contracts
            quotes.update({c.uic: self.put_quote(c.uic, now) for c in contracts})
        bars = {QQQ: self.bars} if request.daily_bars and self.bars else {}
        return Snapshot(
            now=now, calendar=CalendarFacts(day, market_hours.session(day), False, False, False),
            quotes=quotes, quote_ages_s={}, vix=None, positions=tuple(self.positions.values()),
            chains=chains, bars=bars,
            margin_used_usd=self.margin_used_usd if request.account_margin else None,
        )  # fmt: skip

    def step(self, now: datetime) -> list[Action]:
        """One decide at `now`; every order it returns is executed at once and reported."""
        actions = list(self.strategy.decide(self.snapshot(now)))
        for action in actions:
            if isinstance(action, OpenPosition | ClosePosition):
                self.execute(action, now)
        return actions

    def execute(self, order: OpenPosition | ClosePosition, now: datetime) -> None:
        self.orders.append(order)
        leg = order.legs[0]
        status = self.fail.pop(leg.leg, None)
        if status is not None:
            report = ExecutionReport(order.intent_id, status)  # type: ignore[arg-type]
            self.reported += self.strategy.on_execution(report, now)
            return
        fills = []
        for spec in order.legs:
            quote = self.put_quote(spec.uic, now)
            price = quote.ask if spec.side is Side.BUY else quote.bid
            assert price is not None
            fill = LegFill(spec.leg, spec.uic, spec.side, spec.quantity, price,
                           COMMISSION * spec.quantity, now)  # fmt: skip
            fills.append(fill)
            self._book(fill)
        self.fills.extend(fills)
        done = "filled" if isinstance(order, OpenPosition) else "closed"
        report = ExecutionReport(order.intent_id, done, tuple(fills))
        self.reported += self.strategy.on_execution(report, now)

    def _book(self, fill: LegFill) -> None:
        strike, expiry = _decode(fill.uic)
        held = self.positions.get(fill.uic)
        amount = (held.amount if held else Decimal(0)) + (
            fill.quantity if fill.side is Side.BUY else -fill.quantity)
        if amount == 0:
            self.positions.pop(fill.uic, None)
            return
        self.positions[fill.uic] = Position(f"p{fill.uic}", fill.uic, "StockOption", amount,
                                           fill.price, strike=strike, expiry=expiry,
                                           put_call=PutCall.PUT)  # fmt: skip

    def expire(self, day: date) -> None:
        """The broker settles every option expiring before `day`."""
        for uic in [u for u, p in self.positions.items() if p.expiry and p.expiry < day]:
            del self.positions[uic]

    def fills_net_usd(self) -> Decimal:
        """Every fill x 100 x quantity (sells +), less commissions: computed here, not by the
        strategy."""
        return sum((((1 if f.side is Side.SELL else -1) * f.price * 100 * f.quantity)
                    - f.commission_usd for f in self.fills), Decimal(0))  # fmt: skip


def _decode(uic: int) -> tuple[Decimal, date]:
    rest = uic - 200_000_000
    return Decimal(rest % 10_000), date.fromordinal(rest // 10_000 + 739_000)


def make_strategy(**config: Any) -> RollingPutDiagonalStrategy:
    return RollingPutDiagonalStrategy(config=Cfg(**config), calendar=EventCalendar())


def run_day(desk: Desk, day: date, *, every_minutes: int = 15,
            start: time = time(9, 30), end: time = time(16, 0)) -> list[Action]:  # fmt: skip
    """Decides every `every_minutes` through `day`'s session (settling expired options first)."""
    desk.expire(day)
    session = market_hours.session(day)
    assert session is not None
    now = max(et(day, start.hour, start.minute), session.open.astimezone(UTC))
    stop = min(et(day, end.hour, end.minute), session.close.astimezone(UTC))
    actions: list[Action] = []
    while now < stop:
        actions += desk.step(now)
        now += timedelta(minutes=every_minutes)
    return actions


def names(actions: Sequence[Action]) -> list[str]:
    """Decision and safety-event names among `actions`."""
    found = []
    for event in actions:
        if isinstance(event, RecordEvent):
            found.append(str(event.payload.get("event") or event.key.split(":", 1)[1]))
    return found


def intents(desk: Desk, purpose: str) -> list[str]:
    return [o.intent_id for o in desk.orders if f":{purpose}:" in o.intent_id]



