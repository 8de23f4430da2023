"""Records read from and written to the journal, and the one rule for a trade's P&L."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any, Literal


class JournalError(RuntimeError):
    """A journal operation was refused: bad schema version, unknown id, illegal transition."""


class IntentStatus(StrEnum):
    """Life of an order intent: written `pending` before the request, then the outcome."""

    PENDING = "pending"
    SENT = "sent"
    FILLED = "filled"
    FAILED = "failed"
    UNKNOWN = "unknown"

    @property
    def has_outcome(self) -> bool:
        return self in (IntentStatus.FILLED, IntentStatus.FAILED)


# Which statuses an intent may move to. `unknown` (the request may or may not have reached the
# broker) is resolved by reconciliation into `sent`, `filled` or `failed`; outcomes are final.
INTENT_TRANSITIONS: dict[IntentStatus, frozenset[IntentStatus]] = {
    IntentStatus.PENDING: frozenset(
        {IntentStatus.SENT, IntentStatus.FILLED, IntentStatus.FAILED, IntentStatus.UNKNOWN}
    ),
    IntentStatus.SENT: frozenset({IntentStatus.FILLED, IntentStatus.FAILED, IntentStatus.UNKNOWN}),
    IntentStatus.UNKNOWN: frozenset({IntentStatus.SENT, IntentStatus.FILLED, IntentStatus.FAILED}),
    IntentStatus.FILLED: frozenset(),
    IntentStatus.FAILED: frozenset(),
}


class FillSide(StrEnum):
    """Direction of a fill; the values equal `shared.domain.Side`'s, so either may be passed."""

    BUY = "buy"
    SELL = "sell"


class OpenClose(StrEnum):
    """Whether a fill opened or closed (part of) a position."""

    OPEN = "open"
    CLOSE = "close"


@dataclass(frozen=True)
class OrderIntent:
    """An order the bot decided to send, recorded before sending; times UTC."""

    request_id: str
    bot: str
    action: str
    payload: dict[str, Any]
    trade_id: int | None
    status: IntentStatus
    order_id: str | None
    error: str | None
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True)
class StoredState:
    """A bot's persisted state-machine state and its JSON payload; `updated_at` UTC."""

    bot: str
    state: str
    payload: dict[str, Any]
    updated_at: datetime


@dataclass(frozen=True)
class Fill:
    """One execution: `price` per share as filled (premium points), `commission_usd` in USD."""

    fill_id: int
    trade_id: int
    leg: str
    uic: int
    side: FillSide
    open_close: OpenClose
    price: Decimal
    quantity: int
    multiplier: int
    commission_usd: Decimal
    filled_at: datetime
    simulated: bool
    order_id: str | None
    execution_id: str | None

    @property
    def signed_quantity(self) -> int:
        """Contracts bought (+) or sold (-)."""
        return self.quantity if self.side is FillSide.BUY else -self.quantity

    @property
    def cash_flow_usd(self) -> Decimal:
        """Dollars received (+, a sell) or paid (-, a buy) for the contracts, before commission."""
        return cash_flow_usd(self.side, self.price, self.multiplier, self.quantity)


def cash_flow_usd(side: FillSide, price: Decimal, multiplier: int, quantity: int) -> Decimal:
    """Dollars received (+, a sell) or paid (-, a buy) for a fill of `quantity` contracts at
    `price` per share, before commission. Exact."""
    gross = price * multiplier * quantity
    return gross if side is FillSide.SELL else -gross


def fills_pnl_usd(fills: Iterable[Fill]) -> tuple[Decimal, Decimal]:
    """(P&L in USD, commissions in USD) of `fills`: sum of cash flows minus commissions. Exact."""
    cash = Decimal(0)
    commissions = Decimal(0)
    for fill in fills:
        cash += fill.cash_flow_usd
        commissions += fill.commission_usd
    return cash - commissions, commissions


@dataclass(frozen=True)
class TradeRecord:
    """A trade with its fills; `pnl_usd` is derived from the fills and is None while open.

    `net_cash_usd` is the same sum while the trade is open (premium received minus paid so far,
    minus commissions), which is not a P&L until the position is closed.
    """

    trade_id: int
    bot: str
    label: str
    quantity: int
    opened_at: datetime
    closed_at: datetime | None
    exit_reason: str | None
    fills: tuple[Fill, ...] = field(default_factory=tuple)

    @property
    def is_open(self) -> bool:
        return self.closed_at is None

    @property
    def net_cash_usd(self) -> Decimal:
        return fills_pnl_usd(self.fills)[0]

    @property
    def commissions_usd(self) -> Decimal:
        return fills_pnl_usd(self.fills)[1]

    @property
    def pnl_usd(self) -> Decimal | None:
        return None if self.is_open else self.net_cash_usd

    @property
    def is_flat(self) -> bool:
        """True when, for every instrument, the contracts bought equal the contracts sold."""
        net: dict[int, int] = {}
        for fill in self.fills:
            net[fill.uic] = net.get(fill.uic, 0) + fill.signed_quantity
        return all(quantity == 0 for quantity in net.values())


@dataclass(frozen=True)
class DailyPnl:
    """Realized P&L of the trades closed on New York date `day` (USD, after commissions)."""

    day: date
    realized_pnl_usd: Decimal
    commissions_usd: Decimal
    trades_closed: int
    winners: int
    losers: int


@dataclass(frozen=True)
class RealizedTotals:
    """Realized P&L of every closed trade so far (USD, after commissions), for dashboards."""

    pnl_usd: Decimal
    commissions_usd: Decimal
    trades_closed: int
    winners: int
    losers: int

    def plus(self, other: RealizedTotals) -> RealizedTotals:
        """The totals of both sets of trades together (exact; the sets must not overlap)."""
        return RealizedTotals(
            pnl_usd=self.pnl_usd + other.pnl_usd,
            commissions_usd=self.commissions_usd + other.commissions_usd,
            trades_closed=self.trades_closed + other.trades_closed,
            winners=self.winners + other.winners,
            losers=self.losers + other.losers,
        )


@dataclass(frozen=True)
class PositionSnapshot:
    """One broker position as last seen: signed `quantity` (negative = short), UTC `taken_at`."""

    position_key: str
    uic: int
    asset_type: str
    quantity: int
    open_price: Decimal | None = None
    description: str = ""


@dataclass(frozen=True)
class SafetyEvent:
    """Something that protected (or failed to protect) money: stop, breaker trip, orphan."""

    event_id: int
    bot: str
    event: str
    description: str
    details: dict[str, Any]
    occurred_at: datetime


# Who delivers an outbox row: the Google Sheets mirror or the alert sender (shared.alerts).
OutboxChannel = Literal["sheets", "alerts"]


@dataclass(frozen=True)
class OutboxRow:
    """A row waiting for its channel's sender; `delivered_at` None until delivered."""

    outbox_id: int
    kind: str
    payload: dict[str, Any]
    idempotency_key: str
    created_at: datetime
    delivered_at: datetime | None
    attempts: int
    last_error: str | None
