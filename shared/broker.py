"""The Broker port: what the runtime and executor need from a broker, in domain types only.

Adapters: `shared.brokers.saxo_broker.SaxoBroker` (live, sim, local over `SaxoClient`) and
`shared.brokers.dry_run.DryRunBroker` (market data from any broker, orders filled locally).
Every method may raise `BrokerError` (or a subclass); nothing here retries an order.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Protocol

from shared.domain import (
    Balance,
    OptionChain,
    Order,
    OrderOutcome,
    OrderType,
    PlacedOrder,
    Position,
    Quote,
    Side,
)


class BrokerError(RuntimeError):
    """A broker call failed; the message never holds secrets."""


class OrderRefused(BrokerError):
    """The broker answered and refused the order: nothing was placed."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"order refused: {code}: {message}")
        self.code = code


class OrderOutcomeUnknown(BrokerError):
    """The order may or may not have reached the broker; look it up before anything else."""


@dataclass(frozen=True)
class OrderTicket:
    """One single-leg order. `quantity` positive (contracts or shares); `to_open` True/False
    sends ToOpen/ToClose (options); `external_reference` (<= 50 chars) finds it again."""

    uic: int
    asset_type: str
    side: Side
    quantity: int
    order_type: OrderType
    external_reference: str
    limit_price: Decimal | None = None
    to_open: bool | None = None

    def __post_init__(self) -> None:
        if self.quantity <= 0:
            raise ValueError(f"order quantity must be positive, got {self.quantity}")
        if self.order_type is OrderType.LIMIT and self.limit_price is None:
            raise ValueError("a limit order needs a limit_price")
        if not 0 < len(self.external_reference) <= 50:
            raise ValueError("external_reference must be 1..50 characters")


@dataclass(frozen=True)
class DailyBar:
    """One completed daily bar; `time` is the bar's start (UTC)."""

    time: datetime
    open: Decimal
    high: Decimal
    low: Decimal
    close: Decimal


TickCallback = Callable[[int], None]


class PriceFeed(Protocol):
    """A streaming price source. `on_tick(uic)` runs on the stream's thread: keep it short."""

    def subscribe(self, uic: int, asset_type: str) -> None: ...

    def latest(self, uic: int) -> Quote | None: ...

    def is_fresh(self, uic: int, max_silence_s: float) -> bool: ...

    def stop(self) -> None: ...


class Broker(Protocol):
    """Market data, account state and orders. `simulated` is True when fills are not real."""

    simulated: bool

    def quotes(self, uics: Sequence[int], asset_type: str) -> dict[int, Quote]:
        """REST snapshots of many instruments of one asset type; unpriced ones are absent."""
        ...

    def vix(self) -> Decimal | None:
        """The VIX level, or None when the broker has none."""
        ...

    def vix_instrument(self) -> tuple[int, str] | None:
        """(uic, asset type) of the broker's VIX, so it can be streamed; None when unknown."""
        ...

    def chain(self, root: str, expiry: date) -> OptionChain:
        """The listed contracts of `root` expiring on `expiry` (a New York date)."""
        ...

    def daily_bars(self, uic: int, asset_type: str, count: int) -> tuple[DailyBar, ...]:
        """`count` completed daily bars, oldest first; BrokerError when unsupported."""
        ...

    def positions(self) -> list[Position]:
        """Every open position of the account."""
        ...

    def balance(self) -> Balance:
        """Cash, total value and margin of the account."""
        ...

    def place_order(self, ticket: OrderTicket, *, request_id: str) -> PlacedOrder:
        """Send one order once. Raises OrderRefused (nothing placed) or OrderOutcomeUnknown."""
        ...

    def precheck(self, ticket: OrderTicket) -> str | None:
        """The broker's pre-check of `ticket` (margin, tradability; nothing is placed): None
        when it would be accepted, else the refusal as "ErrorCode: message"."""
        ...

    def cancel_order(self, order_id: str) -> bool:
        """Cancel a working order; False when it is no longer working (verify it)."""
        ...

    def verify_order(self, order_id: str) -> OrderOutcome:
        """The order's status and fill now, without waiting (poll again on a later pass)."""
        ...

    def open_orders(self) -> list[Order]:
        """The account's working orders."""
        ...

    def find_order(self, external_reference: str, since: datetime) -> str | None:
        """The id of an order placed since `since` (UTC) with this reference, or None."""
        ...

    def open_price_feed(self, on_tick: TickCallback) -> PriceFeed | None:
        """A started streaming feed calling `on_tick(uic)` per update, or None if unavailable."""
        ...
