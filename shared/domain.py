"""CALYPSO's broker-neutral domain types: quotes, option chains, positions, orders, fills, balances.

Frozen dataclasses, snake_case, Decimal prices, timezone-aware UTC datetimes. Saxo's PascalCase
names never appear here; `shared.saxo_client.parsing` converts into these types.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum


class PutCall(StrEnum):
    CALL = "call"
    PUT = "put"


class Side(StrEnum):
    BUY = "buy"
    SELL = "sell"

    @property
    def opposite(self) -> Side:
        return Side.SELL if self is Side.BUY else Side.BUY


class OrderType(StrEnum):
    MARKET = "market"
    LIMIT = "limit"
    OTHER = "other"


class OpenClose(StrEnum):
    TO_OPEN = "to_open"
    TO_CLOSE = "to_close"


class OrderStatus(StrEnum):
    """Where an order stands, as far as the broker has told us."""

    WORKING = "working"
    PARTIALLY_FILLED = "partially_filled"
    FILLED = "filled"
    CANCELLED = "cancelled"
    EXPIRED = "expired"
    REJECTED = "rejected"
    NOT_FOUND = "not_found"
    UNKNOWN = "unknown"

    @property
    def is_final(self) -> bool:
        return self in _FINAL_STATUSES


_FINAL_STATUSES = frozenset(
    {OrderStatus.FILLED, OrderStatus.CANCELLED, OrderStatus.EXPIRED, OrderStatus.REJECTED}
)


class ActivityKind(StrEnum):
    """One order-audit entry's status (Saxo OrderLogStatus)."""

    PLACED = "placed"
    WORKING = "working"
    CHANGED = "changed"
    FILL = "fill"
    FINAL_FILL = "final_fill"
    CANCELLED = "cancelled"
    EXPIRED = "expired"
    DONE_FOR_DAY = "done_for_day"
    OTHER = "other"


@dataclass(frozen=True)
class Greeks:
    """Per-contract greeks as the broker reports them, per share (one underlying unit), not x100:
    `delta` (-1..1), `gamma` (per 1 USD of underlying), `theta` (USD per share per calendar
    day, negative for a long), `vega` (USD per share per vol point), `mid_vol` (implied vol as
    Saxo sends it) and `theoretical_price` (USD per share). Saxo's `Instrument*` names."""

    delta: float | None
    gamma: float | None
    theta: float | None
    vega: float | None
    mid_vol: float | None
    theoretical_price: float | None


@dataclass(frozen=True)
class Quote:
    """A price snapshot for one instrument.

    `updated_at` is the broker's last-update instant (UTC) when it sent one; `bid`/`ask` are None
    when that side is not priced (indices such as VIX have only `last`).
    """

    uic: int
    asset_type: str
    bid: Decimal | None
    ask: Decimal | None
    mid: Decimal | None
    last: Decimal | None
    updated_at: datetime | None
    bid_size: Decimal | None = None
    ask_size: Decimal | None = None
    market_open: bool | None = None
    delayed_minutes: int = 0
    greeks: Greeks | None = None

    @property
    def two_sided(self) -> bool:
        return self.bid is not None and self.ask is not None

    @property
    def price(self) -> Decimal | None:
        """Best single price: the bid/ask midpoint, else the broker's mid, else the last trade."""
        if self.bid is not None and self.ask is not None and self.bid > 0 and self.ask > 0:
            return (self.bid + self.ask) / 2
        if self.mid is not None and self.mid > 0:
            return self.mid
        if self.last is not None and self.last > 0:
            return self.last
        return None

    def age_seconds(self, now: datetime) -> float | None:
        """Seconds since `updated_at` at `now` (UTC); None when the age is unknown."""
        if self.updated_at is None:
            return None
        return (now - self.updated_at).total_seconds()


@dataclass(frozen=True)
class OptionContract:
    """One listed option. `strike` in index points or dollars; `expiry` is the exchange date."""

    uic: int
    root: str
    root_id: int
    asset_type: str
    underlying_uic: int | None
    expiry: date
    strike: Decimal
    put_call: PutCall


@dataclass(frozen=True)
class OptionChain:
    """The listed expiries of one option root and the contracts known for some of them."""

    root: str
    root_id: int
    asset_type: str
    underlying_uic: int | None
    contract_size: int
    expiries: tuple[date, ...]
    contracts: tuple[OptionContract, ...] = field(default=())

    def for_expiry(self, expiry: date) -> tuple[OptionContract, ...]:
        """Contracts of `expiry`, sorted by strike then call before put."""
        rows = [c for c in self.contracts if c.expiry == expiry]
        return tuple(sorted(rows, key=lambda c: (c.strike, c.put_call != PutCall.CALL)))

    def strikes(self, expiry: date) -> tuple[Decimal, ...]:
        return tuple(sorted({c.strike for c in self.contracts if c.expiry == expiry}))

    def find(self, expiry: date, strike: Decimal, put_call: PutCall) -> OptionContract | None:
        for contract in self.contracts:
            if (
                contract.expiry == expiry
                and contract.strike == strike
                and contract.put_call == put_call
            ):
                return contract
        return None


@dataclass(frozen=True)
class Position:
    """An open position. `amount` is signed (negative = short), in contracts or shares."""

    position_id: str
    uic: int
    asset_type: str
    amount: Decimal
    open_price: Decimal | None
    current_price: Decimal | None = None
    strike: Decimal | None = None
    expiry: date | None = None
    put_call: PutCall | None = None
    symbol: str | None = None
    opened_at: datetime | None = None
    profit_loss: Decimal | None = None
    source_order_id: str | None = None
    external_reference: str | None = None
    trade_costs: Decimal | None = None  # costs booked on the position (negative = paid), USD

    @property
    def is_short(self) -> bool:
        return self.amount < 0


@dataclass(frozen=True)
class Order:
    """A working order as listed by the broker (filled/cancelled orders are not listed)."""

    order_id: str
    uic: int
    asset_type: str
    side: Side
    amount: Decimal
    order_type: OrderType
    limit_price: Decimal | None
    status: OrderStatus
    filled_amount: Decimal = Decimal(0)
    external_reference: str | None = None
    placed_at: datetime | None = None
    multi_leg_order_id: str | None = None


@dataclass(frozen=True)
class OrderActivity:
    """One order-audit entry; average/execution price are None until the broker has them."""

    order_id: str
    kind: ActivityKind
    sub_status: str | None
    activity_time: datetime | None
    uic: int | None
    asset_type: str | None
    side: Side | None
    amount: Decimal | None
    filled_amount: Decimal | None
    average_price: Decimal | None
    execution_price: Decimal | None
    limit_price: Decimal | None
    position_id: str | None = None
    external_reference: str | None = None
    commission: Decimal | None = None
    log_id: str | None = None


@dataclass(frozen=True)
class Fill:
    """A verified execution. `price` per contract/share; `source` names where it was read."""

    order_id: str
    uic: int | None
    side: Side | None
    amount: Decimal
    price: Decimal
    filled_at: datetime | None
    source: str
    commission: Decimal | None = None
    position_id: str | None = None


@dataclass(frozen=True)
class OrderOutcome:
    """What fill verification concluded: a final status and, when filled, the fill."""

    order_id: str
    status: OrderStatus
    fill: Fill | None = None
    filled_amount: Decimal = Decimal(0)
    detail: str = ""


@dataclass(frozen=True)
class PlacedOrder:
    """The broker's acknowledgement of an order request."""

    order_id: str
    request_id: str
    external_reference: str | None = None
    leg_order_ids: tuple[str, ...] = ()


@dataclass(frozen=True)
class Balance:
    """Account balance in `currency`."""

    currency: str
    total_value: Decimal
    cash_balance: Decimal
    margin_available: Decimal | None
    margin_used: Decimal | None
    margin_utilization_pct: Decimal | None
    open_positions: int | None = None


@dataclass(frozen=True)
class ClosedPosition:
    """A closed position leg with its closing price (newest first in broker lists)."""

    closed_position_id: str
    uic: int
    asset_type: str
    amount: Decimal
    side: Side | None
    open_price: Decimal | None
    closing_price: Decimal | None
    closed_at: datetime | None
    profit_loss: Decimal | None
    cost_opening: Decimal | None = None
    cost_closing: Decimal | None = None
    opening_position_id: str | None = None
    closing_position_id: str | None = None


@dataclass(frozen=True)
class PriceUpdate:
    """A streamed price change. `received_at` is when the frame arrived on the client's market
    clock (wall clock, or the simulator's in local mode); `received_monotonic` is
    `time.perf_counter()` at that moment (for latency measurement)."""

    uic: int
    quote: Quote
    received_at: datetime
    received_monotonic: float
    reference_id: str
    message_id: int
