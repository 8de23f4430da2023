"""The simulated exchange: order placement, matching on every market step, cancel and modify.

Market orders fill at the touch (buy at ask, sell at bid) and leave the open-orders list at
once. Limit orders fill at the touch as soon as they are marketable (so a buy limit above the
ask fills at the ask: price improvement). Liquidity is unlimited unless a control directive
asks for a partial fill. Owned by the event loop; times are simulated UTC unless named `_real`.
"""

from __future__ import annotations

import logging
from collections import Counter, deque
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import ROUND_DOWN, Decimal
from typing import TYPE_CHECKING, Any

from shared.logger_service import kv
from shared.market_hours import Venue
from shared.saxo_sim import saxo_shapes
from shared.saxo_sim.errors import SimApiError, order_rejected
from shared.saxo_sim.margin import OptionLeg, option_margin, share_margin
from shared.saxo_sim.orders import Order, OrderRequest, check_account, check_tick
from shared.saxo_sim.portfolio import Activity, Fill, Portfolio, Position, multiplier
from shared.saxo_sim.sim_clock import ny_date, session_for

if TYPE_CHECKING:
    from shared.saxo_sim.pricing import Quote
    from shared.saxo_sim.state import Instrument, SimState

logger = logging.getLogger(__name__)

TRADABLE_ASSET_TYPES = ("Etf", "StockOption", "StockIndexOption")
VENUE_OF: dict[str, Venue] = {
    "StockIndexOption": "index_options",
    "StockOption": "equity_options",
    "Etf": "nyse",
}


@dataclass
class _Partial:
    fraction: float | None
    amount: Decimal | None
    rest_after_s: float


class Directives:
    """Control-API instructions consumed by the next order placements."""

    def __init__(self) -> None:
        self.rejections: deque[tuple[str, str]] = deque()
        self.partials: deque[_Partial] = deque()

    def reject_next(self, error_code: str, message: str | None, count: int = 1) -> None:
        for _ in range(count):
            self.rejections.append((error_code, message or f"Order rejected: {error_code}"))

    def partial_next(
        self, fraction: float | None, amount: Decimal | None, rest_after_s: float
    ) -> None:
        self.partials.append(_Partial(fraction, amount, rest_after_s))


class Exchange:
    """Orders, fills and the account of one simulator."""

    def __init__(self, state: SimState) -> None:
        self._state = state
        self.portfolio = Portfolio(cash=state.config.starting_cash_usd)
        self.orders: dict[str, Order] = {}
        self.activities: list[Activity] = []
        self.directives = Directives()
        self.activity_lag_s = state.config.activity_lag_s
        self.commission_per_contract = state.config.commission_per_contract_usd
        self.counts: Counter[str] = Counter()
        self._next_order_id = 5_000_000_001
        self._next_log_id = 1

    # --- placement ---------------------------------------------------------------------------
    def place(self, req: OrderRequest) -> dict[str, Any]:
        """Place an order; returns `{"OrderId"[, "ExternalReference"]}` or raises SimApiError."""
        ext = req.external_reference
        check_account(req.account_key, saxo_shapes.ACCOUNT_KEY, ext)
        instrument = self._instrument(req.uic, req.asset_type, ext)
        now = self._state.clock.now()
        order = Order(
            order_id=self._new_order_id(),
            uic=req.uic,
            asset_type=instrument.asset_type,
            buy_sell=req.buy_sell,
            amount=req.amount,
            order_type=req.order_type,
            price=req.price,
            duration=req.duration,
            to_open_close=req.to_open_close,
            external_reference=ext,
            placed_at=now,
            account_key=req.account_key,
        )
        quote = self._state.quote(instrument, now)
        try:
            self._check_business_rules(order, instrument, quote, now)
        except SimApiError as exc:
            self.counts["orders_rejected"] += 1
            self._log(order, "Placed", now, sub_status="Rejected", error_code=exc.error_code)
            logger.info(kv("order_rejected", order_id=order.order_id, code=exc.error_code))
            raise
        self.counts["orders_placed"] += 1
        self.orders[order.order_id] = order
        self._log(order, "Placed", now, sub_status="Confirmed")
        logger.info(kv(
            "order_placed", order_id=order.order_id, uic=order.uic, side=order.buy_sell,
            amount=order.amount, type=order.order_type, price=order.price,
            duration=order.duration,
        ))
        self._execute(order, quote, now, at_placement=True)
        body: dict[str, Any] = {"OrderId": order.order_id}
        if ext:
            body["ExternalReference"] = ext
        return body

    def _instrument(self, uic: int, asset_type: str, ext: str | None) -> Instrument:
        try:
            return self._state.resolve(uic, asset_type)
        except SimApiError:
            known = self._state.catalog.underlying(uic) or self._state.catalog.option(uic)
            if known is None:
                raise order_rejected(
                    "IllegalInstrumentId", "Instrument ID is invalid", ext
                ) from None
            raise order_rejected(
                "InstrumentNotTradableAsTheSelectedType",
                f"Instrument {uic} cannot be traded as {asset_type}",
                ext,
            ) from None

    def _check_business_rules(
        self, order: Order, instrument: Instrument, quote: Quote, now: datetime
    ) -> None:
        ext = order.external_reference
        if self.directives.rejections:
            code, message = self.directives.rejections.popleft()
            raise order_rejected(code, message, ext)
        if instrument.asset_type not in TRADABLE_ASSET_TYPES:
            raise order_rejected(
                "InstrumentNotAllowed", f"{instrument.symbol} is not tradable in the simulator", ext
            )
        if instrument.option is not None and now >= self._expiry_close(instrument):
            raise order_rejected("InstrumentHasExpired", f"{instrument.symbol} has expired", ext)
        if not quote.market_open:
            raise order_rejected("MarketClosed", "Market is closed", ext)
        if order.price is not None:
            root = instrument.option.root if instrument.option is not None else None
            tick = (
                instrument.underlying.tick_size
                if instrument.underlying is not None
                else Decimal("0.01")
            )
            check_tick(order.price, option_root=root, tick=tick, external=ext)
        if order.order_type == "Market" and self._touch(order, quote) is None:
            raise order_rejected("NotTradableAtPresent", "No market price is available", ext)
        self._check_margin(order, instrument, quote)

    def _check_margin(self, order: Order, instrument: Instrument, quote: Quote) -> None:
        price = self._touch(order, quote) or order.price or quote.mid or Decimal(0)
        commission = self._commission(order.asset_type, order.amount)
        signed = order.amount * order.sign
        before = self.balances_summary()
        cash_after = before["cash"] - signed * price * multiplier(order.asset_type) - commission
        margin_after = self.margin_required(extra=(instrument, signed, price))
        equity_after = before["total_value"] - commission
        if margin_after + max(Decimal(0), -cash_after) > equity_after:
            raise order_rejected(
                "WouldExceedMargin",
                "Order would exceed the available margin",
                order.external_reference,
            )

    # --- execution ---------------------------------------------------------------------------
    @staticmethod
    def _touch(order: Order, quote: Quote) -> Decimal | None:
        """The price this order would trade at now, None when that side is missing."""
        side = quote.ask if order.buy_sell == "Buy" else quote.bid
        if side is None or (order.buy_sell == "Buy" and side <= 0):
            return None
        return side

    def _marketable_price(self, order: Order, quote: Quote) -> Decimal | None:
        touch = self._touch(order, quote)
        if touch is None or not quote.market_open:
            return None
        if order.order_type == "Market" or order.price is None:
            return touch
        if order.buy_sell == "Buy":
            return touch if touch <= order.price else None
        return touch if touch >= order.price else None

    def _execute(self, order: Order, quote: Quote, now: datetime, *, at_placement: bool) -> None:
        price = self._marketable_price(order, quote)
        if price is not None:
            amount = order.remaining
            if at_placement and order.duration != "FillOrKill" and self.directives.partials:
                amount = self._partial_amount(order, self.directives.partials.popleft(), now)
            self._fill(order, amount, price, now)
        if order.remaining > 0 and order.duration in ("ImmediateOrCancel", "FillOrKill"):
            self._finish(order, "Cancelled", now)

    def _partial_amount(self, order: Order, partial: _Partial, now: datetime) -> Decimal:
        if partial.amount is not None:
            amount = min(partial.amount, order.amount - 1)
        else:
            assert partial.fraction is not None
            amount = (order.amount * Decimal(repr(partial.fraction))).to_integral_value(ROUND_DOWN)
        amount = max(Decimal(1), amount)
        if amount >= order.amount:
            return order.amount
        order.rest_fill_at = now + timedelta(seconds=partial.rest_after_s)
        return amount

    def _fill(self, order: Order, amount: Decimal, price: Decimal, now: datetime) -> None:
        fill = Fill(
            order_id=order.order_id,
            uic=order.uic,
            asset_type=order.asset_type,
            buy_sell=order.buy_sell,
            amount=amount,
            price=price,
            at=now,
            external_reference=order.external_reference,
            commission=self._commission(order.asset_type, amount),
        )
        position_id = self.portfolio.book(fill)
        order.filled_amount += amount
        order.fill_value += amount * price
        self.counts["fills"] += 1
        final = order.remaining <= 0
        self._log(
            order,
            "FinalFill" if final else "Fill",
            now,
            fill_amount=amount,
            execution_price=price,
            position_id=position_id,
        )
        logger.info(kv(
            "order_fill", order_id=order.order_id, amount=amount, price=price, final=final
        ))
        if final:
            self.orders.pop(order.order_id, None)

    def _finish(self, order: Order, status: str, now: datetime) -> None:
        """End a working order without (further) fills: Cancelled or Expired."""
        self.orders.pop(order.order_id, None)
        order.status = status
        self._log(order, status, now)
        self.counts[f"orders_{status.lower()}"] += 1
        logger.info(kv(f"order_{status.lower()}", order_id=order.order_id))

    def _commission(self, asset_type: str, amount: Decimal) -> Decimal:
        if asset_type in ("StockOption", "StockIndexOption"):
            return self.commission_per_contract * amount
        return Decimal(0)

    # --- cancel / modify ---------------------------------------------------------------------
    def cancel(self, order_ids: list[str], account_key: str) -> tuple[int, dict[str, Any]]:
        """Cancel working orders; returns (HTTP status, `{"Orders": [...]}`); 404 if none found."""
        now = self._state.clock.now()
        results: list[dict[str, Any]] = []
        found = 0
        for order_id in order_ids:
            order = self.orders.get(order_id)
            if order is None or order.account_key != account_key:
                results.append(
                    {
                        "OrderId": order_id,
                        "ErrorInfo": {"ErrorCode": "OrderNotFound", "Message": "Order not found"},
                    }
                )
                continue
            found += 1
            self._finish(order, "Cancelled", now)
            results.append({"OrderId": order_id})
        return (200 if found else 404), {"Orders": results}

    def modify(
        self, body: dict[str, Any], req_price: Decimal | None, amount: Decimal | None
    ) -> dict[str, Any]:
        """PATCH an open order's price, amount or duration; raises SimApiError."""
        order_id = str(body.get("OrderId", ""))
        order = self.orders.get(order_id)
        if order is None:
            raise SimApiError(
                404,
                "OrderNotFound",
                "Order not found",
                error_info=True,
                extra={"OrderId": order_id},
            )
        instrument = self._state.resolve(order.uic, order.asset_type)
        if req_price is not None and order.order_type != "Market":
            root = instrument.option.root if instrument.option is not None else None
            check_tick(
                req_price, option_root=root, tick=Decimal("0.01"), external=order.external_reference
            )
            order.price = req_price
        if amount is not None:
            if amount < order.filled_amount or amount <= 0:
                raise order_rejected(
                    "AmountCannotBeLessThanFilledAmount",
                    "Amount cannot be less than the filled amount",
                )
            order.amount = amount
        duration = body.get("OrderDuration")
        if isinstance(duration, dict) and duration.get("DurationType") in (
            "DayOrder",
            "GoodTillCancel",
        ):
            order.duration = str(duration["DurationType"])
        now = self._state.clock.now()
        self._log(order, "Changed", now)
        self.counts["orders_modified"] += 1
        self._execute(order, self._state.quote(instrument, now), now, at_placement=False)
        return {"OrderId": order.order_id}

    # --- market step -------------------------------------------------------------------------
    def on_market_step(self) -> None:
        """Match resting orders, expire day orders and expired contracts, settle expiries."""
        now = self._state.now()
        for order in list(self.orders.values()):
            instrument = self._state.resolve(order.uic, order.asset_type)
            if self._order_expired(order, instrument, now):
                self._finish(order, "Expired", now)
                continue
            if order.rest_fill_at is not None and now < order.rest_fill_at:
                continue
            self._execute(order, self._state.quote(instrument, now), now, at_placement=False)
        from shared.saxo_sim.settlement import settle_expired

        settle_expired(self, now)

    def _order_expired(self, order: Order, instrument: Instrument, now: datetime) -> bool:
        if instrument.option is not None and now >= self._expiry_close(instrument):
            return True
        if order.duration != "DayOrder":
            return False
        session = session_for(ny_date(order.placed_at), VENUE_OF.get(order.asset_type, "nyse"))
        return session is None or now >= session.close

    def _expiry_close(self, instrument: Instrument) -> datetime:
        assert instrument.option is not None
        return self._state.pricing.expiry_close(instrument.option)

    # --- account views -----------------------------------------------------------------------
    def mark(self, position: Position) -> Decimal:
        """Current mid (or last) price of a position's instrument; the open price if none."""
        try:
            instrument = self._state.resolve(position.uic, position.asset_type)
            quote = self._state.quote(instrument)
        except (SimApiError, ValueError):
            return position.open_price
        value = quote.mid if quote.mid is not None else quote.last
        return value if value is not None else position.open_price

    def margin_required(self, extra: tuple[Instrument, Decimal, Decimal] | None = None) -> Decimal:
        """Margin (USD) of the open positions, plus a hypothetical (instrument, signed, price)."""
        legs: list[OptionLeg] = []
        shares: dict[int, tuple[Decimal, Decimal]] = {}
        holdings = [
            (self._state.catalog.option(p.uic), p.uic, p.amount, self.mark(p))
            for p in self.portfolio.positions.values()
        ]
        if extra is not None:
            instrument, signed, price = extra
            holdings.append((instrument.option, instrument.uic, signed, price))
        for option, uic, amount, price in holdings:
            if option is not None:
                legs.append(
                    OptionLeg(option.underlying_uic, option.strike, option.put_call, amount)
                )
            else:
                held, _ = shares.get(uic, (Decimal(0), price))
                shares[uic] = (held + amount, price)
        total = option_margin(legs, lambda uic: Decimal(repr(self._state.model.spot(uic))))
        for amount, price in shares.values():
            total += share_margin(amount, price)
        return total.quantize(Decimal("0.01"))

    def balances_summary(self) -> dict[str, Decimal]:
        """cash, positions_value (marked at mid), total_value, margin (USD)."""
        positions_value = sum(
            (
                p.amount * self.mark(p) * multiplier(p.asset_type)
                for p in self.portfolio.positions.values()
            ),
            Decimal(0),
        )
        cash = self.portfolio.cash
        return {
            "cash": cash,
            "positions_value": positions_value,
            "total_value": cash + positions_value,
        }

    # --- activities and misc -----------------------------------------------------------------
    def _new_order_id(self) -> str:
        value = self._next_order_id
        self._next_order_id += 1
        return str(value)

    def _log(
        self,
        order: Order,
        status: str,
        now: datetime,
        *,
        sub_status: str | None = None,
        error_code: str | None = None,
        fill_amount: Decimal | None = None,
        execution_price: Decimal | None = None,
        position_id: str | None = None,
    ) -> None:
        self.activities.append(
            Activity(
                log_id=self._next_log_id,
                order_id=order.order_id,
                status=status,
                activity_time=now,
                created_real=self._state.real.monotonic(),
                uic=order.uic,
                asset_type=order.asset_type,
                buy_sell=order.buy_sell,
                amount=order.amount,
                order_type=order.order_type,
                price=order.price,
                duration=order.duration,
                external_reference=order.external_reference,
                correlation_key=order.correlation_key,
                sub_status=sub_status,
                fill_amount=fill_amount,
                filled_amount=order.filled_amount if fill_amount is not None else None,
                average_price=order.average_price if fill_amount is not None else None,
                execution_price=execution_price,
                position_id=position_id,
                error_code=error_code,
            )
        )
        self._next_log_id += 1

    def assign_early(self, position_id: str, amount: int | None) -> dict[str, Any]:
        """Assign a short StockOption position now (ValueError if not one)."""
        from shared.saxo_sim.settlement import assign_early

        return assign_early(self, position_id, amount, self._state.clock.now())

    def stats(self) -> dict[str, Any]:
        return {
            "orders_placed": self.counts["orders_placed"],
            "orders_rejected": self.counts["orders_rejected"],
            "orders_cancelled": self.counts["orders_cancelled"],
            "orders_expired": self.counts["orders_expired"],
            "fills": self.counts["fills"],
            "settlements": self.counts["settlements"],
            "assignments": self.counts["assignments"],
            "open_orders": len(self.orders),
            "open_positions": len(self.portfolio.positions),
        }
