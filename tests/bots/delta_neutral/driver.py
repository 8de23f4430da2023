"""Drives DeltaNeutralStrategy with hand-built snapshots and executor reports (no I/O)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from decimal import Decimal
from typing import Any

from bots.delta_neutral.config import DeltaNeutralStrategyConfig
from bots.delta_neutral.strategy import DeltaNeutralStrategy
from shared import market_hours
from shared.domain import OptionContract, Position, Quote, Side
from shared.event_calendar import EventCalendar
from shared.market_hours import NY
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
from tests.bots.delta_neutral.factory import SPY_UIC, VIX_UIC, quote


def et(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=NY).astimezone(UTC)


@dataclass
class Market:
    """What the next snapshot shows: spot, VIX, chains by expiry, positions, previous close."""

    spot: Decimal = Decimal(600)
    vix: Decimal = Decimal(15)
    chains: dict[date, tuple[list[OptionContract], dict[int, Quote]]] = field(default_factory=dict)
    positions: list[Position] = field(default_factory=list)
    previous_close: Decimal | None = Decimal(600)


def make_strategy(**config: Any) -> DeltaNeutralStrategy:
    return DeltaNeutralStrategy(
        config=DeltaNeutralStrategyConfig(**config), calendar=EventCalendar()
    )


def snapshot(market: Market, now: datetime) -> Snapshot:
    day = now.astimezone(NY).date()
    quotes: dict[int, Quote] = {
        SPY_UIC: quote(
            SPY_UIC,
            str(market.spot - Decimal("0.01")),
            str(market.spot + Decimal("0.01")),
            updated_at=now,
        ),
        VIX_UIC: Quote(VIX_UIC, "StockIndex", None, None, None, market.vix, now),
    }
    chains = {}
    for expiry, (contracts, chain_quotes) in market.chains.items():
        chains[("SPY", expiry)] = tuple(contracts)
        quotes.update({uic: _at(q, now) for uic, q in chain_quotes.items()})
    bars = {}
    if market.previous_close is not None:
        prev = market_hours.previous_session(day).day
        close = float(market.previous_close)
        bars[SPY_UIC] = (Bar(et(prev, 9, 30), close, close, close, close),)
    return Snapshot(
        now=now,
        calendar=CalendarFacts(day, market_hours.session(day), False, False, False),
        quotes=quotes,
        quote_ages_s={},
        vix=market.vix,
        positions=tuple(market.positions),
        chains=chains,
        bars=bars,
    )


def _at(q: Quote, now: datetime) -> Quote:
    from dataclasses import replace

    return replace(q, updated_at=now)


def of(actions: Sequence[Action], kind: type) -> list[Any]:
    return [a for a in actions if isinstance(a, kind)]


def only(actions: Sequence[Action], kind: type) -> Any:
    found = of(actions, kind)
    assert len(found) == 1, actions
    return found[0]


def fills_for(
    order: OpenPosition | ClosePosition,
    prices: dict[str, str],
    now: datetime,
    commission: str = "0.65",
) -> tuple[LegFill, ...]:
    """One fill per leg named in `prices` (leg name -> price per share)."""
    return tuple(
        LegFill(
            leg.leg,
            leg.uic,
            leg.side,
            leg.quantity,
            Decimal(prices[leg.leg]),
            Decimal(commission),
            now,
        )
        for leg in order.legs
        if leg.leg in prices
    )


def report(
    order: OpenPosition | ClosePosition, status: str, fills: tuple[LegFill, ...] = ()
) -> ExecutionReport:
    return ExecutionReport(order.intent_id, status, fills)


def positions_after(order: OpenPosition, fills: Sequence[LegFill]) -> list[Position]:
    """The broker's positions once `fills` of `order` are booked."""
    by_uic = {leg.uic: leg for leg in order.legs}
    out = []
    for fill in fills:
        leg = by_uic[fill.uic]
        sign = 1 if fill.side is Side.BUY else -1
        out.append(
            Position(
                f"p{fill.uic}",
                fill.uic,
                "StockOption",
                Decimal(sign * fill.quantity),
                fill.price,
                strike=leg.strike,
                expiry=leg.expiry,
                put_call=leg.put_call,
            )
        )
    return out


def decisions(actions: Sequence[Action]) -> list[str]:
    """Names of the decision lines and safety events among `actions`."""
    names = []
    for event in of(actions, RecordEvent):
        if event.kind == "safety_event":
            names.append(str(event.payload["event"]))
        else:
            names.append(str(event.key).split(":", 1)[1])
    return names
