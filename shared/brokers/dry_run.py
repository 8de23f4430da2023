"""DryRunBroker: market data from any Broker, orders filled locally at the quoted prices.

A buy fills at the ask, a sell at the bid, from a fresh REST quote of the data broker. As on Saxo
and the simulator, a sell at a zero bid fills at 0.00 (a worthless wing is sold for nothing);
a market order with no price on its side (no bid; no or a zero ask for a buy) is rejected. A limit
order fills only when marketable (buy limit >= ask, sell limit <= bid) and otherwise rests until
a later `verify_order` finds it marketable or it is cancelled. Positions live in memory; the
runtime seeds them from the journal's simulated fills at start (`seed_positions`). An option
position carries its contract (strike, expiry, put/call) as a real broker's does: from the seed,
or from a chain this broker has served (orders are placed on contracts read from a chain).
Nothing is ever sent to the data broker's order endpoints. `simulated` is True: fills are
journaled as such.
"""

from __future__ import annotations

import itertools
import logging
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

from shared.broker import (
    Broker,
    BrokerError,
    DailyBar,
    OrderRefused,
    OrderTicket,
    PriceFeed,
    TickCallback,
)
from shared.clock import Clock
from shared.domain import (
    Balance,
    Fill,
    OptionChain,
    OptionContract,
    Order,
    OrderOutcome,
    OrderStatus,
    OrderType,
    PlacedOrder,
    Position,
    PutCall,
    Quote,
    Side,
)
from shared.logger_service import kv

logger = logging.getLogger(__name__)


@dataclass
class _DryOrder:
    order_id: str
    ticket: OrderTicket
    placed_at: datetime
    status: OrderStatus = OrderStatus.WORKING
    fill: Fill | None = None


@dataclass
class _DryPosition:
    uic: int
    asset_type: str
    amount: Decimal = Decimal(0)
    open_price: Decimal | None = None
    opened_at: datetime | None = None
    order_ids: list[str] = field(default_factory=list)
    strike: Decimal | None = None
    expiry: date | None = None
    put_call: PutCall | None = None


class DryRunBroker:
    """Broker whose orders never leave the process. Thread-safe."""

    simulated = True

    def __init__(
        self,
        data: Broker,
        *,
        clock: Clock,
        commission_per_contract_usd: Decimal = Decimal(0),
        starting_cash_usd: Decimal = Decimal(100_000),
    ) -> None:
        self._data = data
        self._clock = clock
        self._commission = commission_per_contract_usd
        self._cash = starting_cash_usd
        self._lock = threading.Lock()
        self._orders: dict[str, _DryOrder] = {}
        self._positions: dict[int, _DryPosition] = {}
        self._contracts: dict[int, OptionContract] = {}  # learned from the chains served
        self._ids = itertools.count(1)

    # --- market data: delegated ---------------------------------------------------------------
    def quotes(self, uics: Sequence[int], asset_type: str) -> dict[int, Quote]:
        return self._data.quotes(uics, asset_type)

    def vix(self) -> Decimal | None:
        return self._data.vix()

    def vix_instrument(self) -> tuple[int, str] | None:
        return self._data.vix_instrument()

    def chain(self, root: str, expiry: date) -> OptionChain:
        chain = self._data.chain(root, expiry)
        with self._lock:
            self._contracts.update((c.uic, c) for c in chain.contracts)
        return chain

    def daily_bars(self, uic: int, asset_type: str, count: int) -> tuple[DailyBar, ...]:
        return self._data.daily_bars(uic, asset_type, count)

    def open_price_feed(self, on_tick: TickCallback) -> PriceFeed | None:
        return self._data.open_price_feed(on_tick)

    def precheck(self, ticket: OrderTicket) -> str | None:
        """Nothing is placed in a dry run: the pre-check is the data broker's own."""
        return self._data.precheck(ticket)

    # --- account: local -----------------------------------------------------------------------
    def seed_positions(self, positions: Iterable[Position]) -> None:
        """Start from these positions (rebuilt from the journal's simulated fills)."""
        with self._lock:
            self._positions = {
                p.uic: _DryPosition(p.uic, p.asset_type, p.amount, p.open_price, p.opened_at,
                                    strike=p.strike, expiry=p.expiry, put_call=p.put_call)
                for p in positions
                if p.amount != 0
            }  # fmt: skip

    def positions(self) -> list[Position]:
        with self._lock:
            return [
                Position(
                    position_id=f"dry-pos-{p.uic}",
                    uic=p.uic,
                    asset_type=p.asset_type,
                    amount=p.amount,
                    open_price=p.open_price,
                    opened_at=p.opened_at,
                    source_order_id=p.order_ids[-1] if p.order_ids else None,
                    strike=p.strike,
                    expiry=p.expiry,
                    put_call=p.put_call,
                )
                for p in self._positions.values()
                if p.amount != 0
            ]

    def balance(self) -> Balance:
        with self._lock:
            return Balance(
                currency="USD",
                total_value=self._cash,
                cash_balance=self._cash,
                margin_available=None,
                margin_used=None,
                margin_utilization_pct=None,
                open_positions=sum(1 for p in self._positions.values() if p.amount != 0),
            )

    # --- orders: filled here ------------------------------------------------------------------
    def place_order(self, ticket: OrderTicket, *, request_id: str) -> PlacedOrder:
        quote = self._fresh_quote(ticket)
        with self._lock:
            order = _DryOrder(f"dry-{next(self._ids)}", ticket, self._clock.now())
            self._orders[order.order_id] = order
            self._try_fill(order, quote)
        logger.info(
            kv(
                "dry_run_order",
                order_id=order.order_id,
                request_id=request_id,
                uic=ticket.uic,
                side=ticket.side,
                quantity=ticket.quantity,
                type=ticket.order_type,
                limit=ticket.limit_price,
                status=order.status,
                price=order.fill.price if order.fill else None,
            )
        )
        return PlacedOrder(order.order_id, request_id, ticket.external_reference)

    def cancel_order(self, order_id: str) -> bool:
        with self._lock:
            order = self._orders.get(order_id)
            if order is None or order.status is not OrderStatus.WORKING:
                return False
            order.status = OrderStatus.CANCELLED
            return True

    def verify_order(self, order_id: str) -> OrderOutcome:
        with self._lock:
            order = self._orders.get(order_id)
            working = order is not None and order.status is OrderStatus.WORKING
        if order is None:
            return OrderOutcome(order_id, OrderStatus.NOT_FOUND, detail="unknown dry-run order")
        if working:
            try:
                quote = self._fresh_quote(order.ticket)
            except OrderRefused as exc:  # no price now: the order keeps resting
                logger.warning(kv("dry_run_verify_no_quote", order_id=order_id, error=exc))
            else:
                with self._lock:
                    if order.status is OrderStatus.WORKING:
                        self._try_fill(order, quote)
        with self._lock:
            filled = order.fill.amount if order.fill else Decimal(0)
            return OrderOutcome(order_id, order.status, order.fill, filled, "dry run")

    def open_orders(self) -> list[Order]:
        with self._lock:
            return [
                Order(
                    order_id=o.order_id,
                    uic=o.ticket.uic,
                    asset_type=o.ticket.asset_type,
                    side=o.ticket.side,
                    amount=Decimal(o.ticket.quantity),
                    order_type=o.ticket.order_type,
                    limit_price=o.ticket.limit_price,
                    status=o.status,
                    external_reference=o.ticket.external_reference,
                    placed_at=o.placed_at,
                )
                for o in self._orders.values()
                if o.status is OrderStatus.WORKING
            ]

    def find_order(self, external_reference: str, since: datetime) -> str | None:
        with self._lock:
            for order in self._orders.values():
                if order.ticket.external_reference == external_reference:
                    return order.order_id
        return None

    # --- internals ----------------------------------------------------------------------------
    def _fresh_quote(self, ticket: OrderTicket) -> Quote:
        """The data broker's quote now; OrderRefused (nothing placed) when there is none."""
        try:
            quotes = self._data.quotes([ticket.uic], ticket.asset_type)
        except BrokerError as exc:
            raise OrderRefused("NoQuote", f"no quote for uic {ticket.uic}: {exc}") from exc
        quote = quotes.get(ticket.uic)
        if quote is None:
            raise OrderRefused("NoQuote", f"no quote for uic {ticket.uic} to fill a dry-run order")
        return quote

    def _try_fill(self, order: _DryOrder, quote: Quote) -> None:
        """Fill `order` at the touch when marketable (caller holds the lock)."""
        ticket = order.ticket
        touch = quote.ask if ticket.side is Side.BUY else quote.bid
        if touch is None or touch < 0 or (ticket.side is Side.BUY and touch == 0):
            if ticket.order_type is OrderType.MARKET:
                order.status = OrderStatus.REJECTED
                logger.warning(kv("dry_run_no_touch", order_id=order.order_id, uic=ticket.uic))
            return
        if ticket.order_type is OrderType.LIMIT:
            assert ticket.limit_price is not None
            marketable = (
                ticket.limit_price >= touch
                if ticket.side is Side.BUY
                else ticket.limit_price <= touch
            )
            if not marketable:
                return
        now = self._clock.now()
        quantity = Decimal(ticket.quantity)
        commission = self._commission * quantity if ticket.asset_type.endswith("Option") else 0
        order.fill = Fill(
            order_id=order.order_id,
            uic=ticket.uic,
            side=ticket.side,
            amount=quantity,
            price=touch,
            filled_at=now,
            source="dry_run",
            commission=Decimal(commission),
        )
        order.status = OrderStatus.FILLED
        self._apply(order, touch, now)

    def _apply(self, order: _DryOrder, price: Decimal, now: datetime) -> None:
        ticket = order.ticket
        signed = Decimal(ticket.quantity) * (1 if ticket.side is Side.BUY else -1)
        position = self._positions.setdefault(
            ticket.uic, _DryPosition(ticket.uic, ticket.asset_type)
        )
        if position.amount == 0:
            position.open_price = price
            position.opened_at = now
        contract = self._contracts.get(ticket.uic)
        if contract is not None:
            position.strike, position.expiry = contract.strike, contract.expiry
            position.put_call = contract.put_call
        position.amount += signed
        position.order_ids.append(order.order_id)
        multiplier = 100 if ticket.asset_type.endswith("Option") else 1
        self._cash -= signed * price * multiplier
        if position.amount == 0:
            del self._positions[ticket.uic]
