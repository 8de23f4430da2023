"""Order placement, cancellation, status and fill verification.

Nothing here re-sends an order request on its own. When a placement gets no answer (timeout,
connection error, 5xx) the order is looked up by its ExternalReference in the open orders and the
order activities; if it cannot be found, OrderStateUnknown is raised for the caller to reconcile.

Fill verification follows saxo_api.md 5: the single-order status (`Data[0]`; absent = no longer
working), then activities `AveragePrice` -> `ExecutionPrice` with a bounded wait for the lag,
then the position's `OpenPrice`, then the closed position's `ClosingPrice`. A partial fill of a
cancelled or expired order is priced the same way. Money only ever comes from the broker's fills.

A 0 price on a fill row is ambiguous: Saxo shows 0 (or nothing) during the activity lag, but a
worthless option sold at a 0 bid really fills at 0.00. Rule: a positive price is taken as is; a
reported 0 triggers an immediate portfolio look-up, and a 0.00 fill is accepted only when the
position's `OpenPrice` or the closed position's `ClosingPrice` is 0 too (two sources agree). A
non-zero portfolio price wins (it was the lag). A 0 from the portfolio alone is never trusted.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Final

from shared.clock import Clock
from shared.domain import (
    ActivityKind,
    Fill,
    Order,
    OrderActivity,
    OrderOutcome,
    OrderStatus,
    OrderType,
    PlacedOrder,
    Side,
)
from shared.saxo_client import parsing, trading_parsing
from shared.saxo_client.errors import (
    OrderRejected,
    OrderStateUnknown,
    SaxoBadRequest,
    SaxoConflict,
    SaxoError,
    SaxoNotFound,
    SaxoServerError,
    SaxoTransportError,
    error_fields,
)
from shared.saxo_client.portfolio import AccountRef
from shared.saxo_client.transport import SaxoTransport, new_request_id

logger = logging.getLogger(__name__)

MAX_EXTERNAL_REFERENCE: Final = 50
_FILL_KINDS: Final = frozenset({ActivityKind.FILL, ActivityKind.FINAL_FILL})


@dataclass(frozen=True)
class OrderRequest:
    """One single-leg order. `amount` is positive (contracts or shares); `side` gives direction.
    `to_open` True/False sends ToOpen/ToClose (options); `duration` is day|gtc|ioc|fok."""

    uic: int
    asset_type: str
    side: Side
    amount: Decimal
    order_type: OrderType = OrderType.MARKET
    limit_price: Decimal | None = None
    to_open: bool | None = None
    duration: str = "day"
    external_reference: str | None = None
    manual: bool = False

    def __post_init__(self) -> None:
        if self.amount <= 0:
            raise ValueError(f"order amount must be positive, got {self.amount}")
        if self.order_type is OrderType.LIMIT:
            if self.limit_price is None or not self.limit_price.is_finite():
                raise ValueError("a limit order needs a finite limit_price")
            if self.limit_price < 0:
                raise ValueError(f"limit price must not be negative, got {self.limit_price}")
        if self.external_reference and len(self.external_reference) > MAX_EXTERNAL_REFERENCE:
            raise ValueError(f"external_reference longer than {MAX_EXTERNAL_REFERENCE} chars")


@dataclass(frozen=True)
class VerifyTiming:
    """Bounds of fill verification, in seconds of the wall clock."""

    status_wait_s: float = 5.0
    price_wait_s: float = 10.0
    poll_interval_s: float = 0.5
    lookup_wait_s: float = 6.0
    activity_lookback: timedelta = timedelta(hours=12)


class OrderService:
    """Places and verifies orders for one account."""

    def __init__(
        self,
        *,
        transport: SaxoTransport,
        account: Callable[[], AccountRef],
        wall_clock: Clock,
        market_clock: Clock,
        timing: VerifyTiming | None = None,
    ) -> None:
        self._transport = transport
        self._account = account
        self._wall = wall_clock
        self._market = market_clock
        self._timing = timing or VerifyTiming()

    # --- placement --------------------------------------------------------------------------

    def place(self, request: OrderRequest, *, request_id: str | None = None) -> PlacedOrder:
        """Send one order. Raises OrderRejected (Saxo said no) or OrderStateUnknown (no answer
        and not found afterwards). Never re-sends."""
        account = self._account()
        request_id = request_id or new_request_id()
        reference = request.external_reference or f"cal-{request_id[:24]}"
        body = trading_parsing.order_body(
            account_key=account.account_key,
            uic=request.uic,
            asset_type=request.asset_type,
            side=request.side,
            amount=request.amount,
            order_type=request.order_type,
            limit_price=request.limit_price,
            to_open=request.to_open,
            duration=request.duration,
            external_reference=reference,
            manual=request.manual,
        )
        since = self._market.now() - timedelta(minutes=5)
        logger.info(
            "order_send request_id=%s ref=%s uic=%d asset_type=%s side=%s amount=%s type=%s "
            "price=%s",
            request_id,
            reference,
            request.uic,
            request.asset_type,
            request.side,
            request.amount,
            request.order_type,
            request.limit_price,
        )
        try:
            response = self._transport.send(
                "POST", "/trade/v2/orders", json_body=body, is_order=True, request_id=request_id
            )
        except (SaxoTransportError, SaxoServerError) as exc:
            logger.error(
                "order_send_no_answer request_id=%s ref=%s error=%s; looking it up",
                request_id,
                reference,
                exc,
            )
            order_id = self._find_by_reference(reference, since=since, request_id=request_id)
            if order_id is None:
                raise OrderStateUnknown(request_id, reference, type(exc).__name__) from exc
            return PlacedOrder(order_id, request_id, reference)
        except SaxoBadRequest as exc:
            raise OrderRejected(
                exc.error_code or "Unknown", exc.message, request_id=request_id
            ) from exc
        except SaxoConflict as exc:
            raise OrderRejected(
                exc.error_code or "DuplicateOrder",
                exc.message or "409 Conflict",
                request_id=request_id,
            ) from exc
        code, message, _ = _error_info(response.body)
        order_id, legs = trading_parsing.placed_order_ids(response.body)
        if code is not None or order_id is None:
            raise OrderRejected(code or "Unknown", message or "no OrderId", request_id=request_id)
        logger.info(
            "order_placed order_id=%s request_id=%s ref=%s", order_id, request_id, reference
        )
        return PlacedOrder(order_id, request_id, reference, legs)

    def _find_by_reference(self, reference: str, *, since: datetime, request_id: str) -> str | None:
        deadline = self._wall.monotonic() + self._timing.lookup_wait_s
        while True:
            try:
                for order in self.open_orders():
                    if order.external_reference == reference:
                        logger.info(
                            "order_found_open order_id=%s ref=%s", order.order_id, reference
                        )
                        return order.order_id
                for activity in self.activities(since=since):
                    if activity.external_reference != reference:
                        continue
                    if (activity.sub_status or "").lower() == "rejected":
                        raise OrderRejected(
                            "Rejected", "rejected (found in activities)", request_id=request_id
                        )
                    logger.info(
                        "order_found_activity order_id=%s ref=%s", activity.order_id, reference
                    )
                    return activity.order_id
            except (SaxoTransportError, SaxoServerError) as exc:
                logger.warning("order_lookup_failed ref=%s error=%s", reference, exc)
            if self._wall.monotonic() >= deadline:
                return None
            self._wall.sleep(self._timing.poll_interval_s)

    # --- cancel and status ------------------------------------------------------------------

    def cancel(self, order_id: str) -> bool:
        """Cancel a working order. True when Saxo accepted the cancel; False when the order is no
        longer working (already filled or cancelled: verify it). Never retried blindly."""
        account = self._account()
        try:
            response = self._transport.send(
                "DELETE",
                f"/trade/v2/orders/{order_id}",
                params={"AccountKey": account.account_key},
                is_order=True,
            )
        except SaxoNotFound:
            logger.info("order_cancel_not_found order_id=%s", order_id)
            return False
        except SaxoBadRequest as exc:
            logger.warning(
                "order_cancel_refused order_id=%s error_code=%s", order_id, exc.error_code
            )
            return False
        code, message, _ = _error_info(response.body)
        if code is not None:
            logger.warning(
                "order_cancel_refused order_id=%s error_code=%s message=%s", order_id, code, message
            )
            return False
        logger.info("order_cancel_sent order_id=%s", order_id)
        return True

    def status(self, order_id: str) -> Order | None:
        """The working order, or None when it is no longer listed (filled, cancelled, expired)."""
        account = self._account()
        body = self._transport.get(f"/port/v1/orders/{account.client_key}/{order_id}").body
        return trading_parsing.parse_single_order(body)

    def open_orders(self) -> list[Order]:
        account = self._account()
        body = self._transport.get(
            "/port/v1/orders",
            {"ClientKey": account.client_key, "AccountKey": account.account_key},
        ).body
        return trading_parsing.parse_open_orders(body)

    def activities(
        self, order_id: str | None = None, *, since: datetime | None = None
    ) -> list[OrderActivity]:
        """Audit entries (`/cs/v1/audit/orderactivities`), oldest first: of one order when
        `order_id` is given, else of the account since `since` (tz-aware UTC; default: the
        market clock's now minus `activity_lookback`). Give one or the other, not both."""
        if order_id is not None and since is not None:
            raise ValueError("give either order_id or since, not both")
        if since is not None and since.tzinfo is None:
            raise ValueError("since must be timezone-aware")
        account = self._account()
        params: dict[str, str | int] = {
            "ClientKey": account.client_key,
            "AccountKey": account.account_key,
        }
        if order_id is not None:
            params["OrderId"] = order_id
        else:
            start = since or (self._market.now() - self._timing.activity_lookback)
            params["FromDateTime"] = start.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        body = self._transport.get("/cs/v1/audit/orderactivities", params).body
        rows = trading_parsing.parse_activities(body)
        return sorted(rows, key=_activity_order)

    # --- fill verification ------------------------------------------------------------------

    def verify(self, order_id: str, *, wait_for_final: bool = True) -> OrderOutcome:
        """Final status and fill of an order (see module docstring). With `wait_for_final` a
        still-working order is polled for `status_wait_s` before WORKING is returned."""
        deadline = self._wall.monotonic() + self._timing.status_wait_s
        while True:
            working = self.status(order_id)
            if working is None or not wait_for_final or self._wall.monotonic() >= deadline:
                break
            self._wall.sleep(self._timing.poll_interval_s)
        if working is not None:
            return OrderOutcome(
                order_id, working.status, filled_amount=working.filled_amount, detail="working"
            )
        return self._outcome_from_activities(order_id)

    def _outcome_from_activities(self, order_id: str) -> OrderOutcome:
        """Status and fill of an order that no longer works. A filled amount (complete, or
        partial before a cancel/expiry) always gets its price from the broker: activities first
        (bounded wait for the lag), then the portfolio; never from a quote or limit."""
        deadline = self._wall.monotonic() + self._timing.price_wait_s
        portfolio_checked = False
        while True:
            rows = self.activities(order_id)
            outcome = _outcome(order_id, rows)
            if outcome.fill is not None and outcome.fill.commission is None:
                return self._with_commission(outcome)
            if outcome.fill is not None:
                return outcome
            if not _needs_price(outcome):
                return outcome
            if _zero_reported(rows) and not portfolio_checked:
                # A 0 is the lag or a real 0.00 fill: ask the portfolio now rather than waiting.
                portfolio_checked = True
                found = self._fill_from_portfolio(order_id, rows, outcome, accept_zero=True)
                if found is not None:
                    return found
            if self._wall.monotonic() >= deadline:
                break
            logger.info("fill_price_pending order_id=%s", order_id)
            self._wall.sleep(self._timing.poll_interval_s)
        found = self._fill_from_portfolio(
            order_id, rows, outcome, accept_zero=_zero_reported(rows)
        )
        if found is not None:
            return found
        logger.error(
            "fill_price_unknown order_id=%s status=%s filled=%s",
            order_id,
            outcome.status,
            outcome.filled_amount,
        )
        return replace(outcome, detail=f"{outcome.detail}, price unknown")

    def _with_commission(self, outcome: OrderOutcome) -> OrderOutcome:
        """Add the commission Saxo booked for this fill, when it reports one: the opening
        position's `TradeCostsTotal`, else the closed position's `CostClosing`."""
        fill = outcome.fill
        assert fill is not None
        account = self._account()
        commission: Decimal | None = None
        try:
            body = self._transport.get(
                "/port/v1/positions",
                {
                    "ClientKey": account.client_key,
                    "AccountKey": account.account_key,
                    "FieldGroups": "PositionBase,PositionView",
                },
            ).body
            for position in trading_parsing.parse_positions(body):
                if (
                    position.source_order_id == fill.order_id
                    and abs(position.amount) == fill.amount
                    and position.trade_costs is not None
                ):
                    commission = abs(position.trade_costs)
            if commission is None and fill.position_id is not None:
                closed = self._transport.get(
                    "/port/v1/closedpositions",
                    {
                        "ClientKey": account.client_key,
                        "AccountKey": account.account_key,
                        "$top": 50,
                    },
                ).body
                for row in parsing.feed_items(closed, "ClosedPositions"):
                    closed_position = trading_parsing.parse_closed_position(row)
                    # The side this order was: the opening cost for the order that opened the
                    # (since closed) position, the closing cost for the order that closed it.
                    if closed_position.opening_position_id == fill.position_id:
                        cost = closed_position.cost_opening
                    elif closed_position.closing_position_id == fill.position_id:
                        cost = closed_position.cost_closing
                    else:
                        continue
                    if cost is not None:
                        commission = abs(cost)
                        break
        except SaxoError as exc:
            logger.warning("fill_commission_lookup_failed order_id=%s error=%s", fill.order_id, exc)
        if commission is None:
            return outcome
        logger.info("fill_commission order_id=%s commission=%s", fill.order_id, commission)
        return replace(outcome, fill=replace(fill, commission=commission))

    def _fill_from_portfolio(
        self, order_id: str, rows: list[OrderActivity], outcome: OrderOutcome, *, accept_zero: bool
    ) -> OrderOutcome | None:
        """The fill priced from the opened position's `OpenPrice` or the closed position's
        `ClosingPrice`, with its commission; None when neither has it. A 0 price counts only
        with `accept_zero` (the activities reported 0 too: two sources agree on a 0.00 fill)."""
        final = next((r for r in reversed(rows) if r.kind in _FILL_KINDS), None)
        position_id = final.position_id if final else None
        account = self._account()

        def usable(price: Decimal | None) -> bool:
            return price is not None and (price > 0 or (price == 0 and accept_zero))

        try:
            body = self._transport.get(
                "/port/v1/positions",
                {
                    "ClientKey": account.client_key,
                    "AccountKey": account.account_key,
                    "FieldGroups": "PositionBase,PositionView",
                },
            ).body
            for position in trading_parsing.parse_positions(body):
                matches = position.source_order_id == order_id or (
                    position_id is not None and position.position_id == position_id
                )
                if matches and position.open_price is not None and usable(position.open_price):
                    filled = _filled(outcome, final, position.open_price, "position")
                    return self._with_commission(filled)
            closed = self._transport.get(
                "/port/v1/closedpositions",
                {"ClientKey": account.client_key, "AccountKey": account.account_key, "$top": 50},
            ).body
            for row in parsing.feed_items(closed, "ClosedPositions"):
                closed_position = trading_parsing.parse_closed_position(row)
                # The order either opened this (since closed) position or closed it: its fill
                # price is the matching side's price, never the other trade's.
                if position_id is None:
                    price = None
                elif position_id == closed_position.opening_position_id:
                    price = closed_position.open_price
                elif position_id == closed_position.closing_position_id:
                    price = closed_position.closing_price
                else:
                    price = None
                if price is not None and usable(price):
                    filled = _filled(outcome, final, price, "closed_position")
                    return self._with_commission(filled)
        except SaxoError as exc:
            logger.warning("fill_portfolio_lookup_failed order_id=%s error=%s", order_id, exc)
        return None


def _activity_order(row: OrderActivity) -> tuple[datetime, int]:
    stamp = row.activity_time or datetime.min.replace(tzinfo=UTC)
    log_id = int(row.log_id) if row.log_id and row.log_id.isdigit() else 0
    return stamp, log_id


def _outcome(order_id: str, rows: list[OrderActivity]) -> OrderOutcome:
    """Status and fill from one order's activities (oldest first). A cancelled or expired order
    that filled in part carries the fill of that part (its average price)."""
    if not rows:
        return OrderOutcome(order_id, OrderStatus.NOT_FOUND, detail="no activities")
    fills = [r for r in rows if r.kind in _FILL_KINDS]
    last = rows[-1]
    if any((r.sub_status or "").lower() == "rejected" for r in rows) and not fills:
        return OrderOutcome(order_id, OrderStatus.REJECTED, detail="rejected")
    filled_amount = max(
        (r.filled_amount or r.amount or Decimal(0) for r in fills), default=Decimal(0)
    )
    if any(r.kind is ActivityKind.FINAL_FILL for r in rows):
        status, detail = OrderStatus.FILLED, "filled"
    elif last.kind in (ActivityKind.CANCELLED, ActivityKind.EXPIRED, ActivityKind.DONE_FOR_DAY):
        status = OrderStatus.CANCELLED if last.kind is ActivityKind.CANCELLED else (
            OrderStatus.EXPIRED
        )
        detail = "partially filled then " + status.value if fills else status.value
    elif fills:
        return OrderOutcome(order_id, OrderStatus.PARTIALLY_FILLED, None, filled_amount)
    else:
        return OrderOutcome(order_id, OrderStatus.UNKNOWN, None, Decimal(0), f"last={last.kind}")
    outcome = OrderOutcome(order_id, status, None, filled_amount, detail)
    if filled_amount <= 0:
        return outcome
    price = _average_fill_price(fills)
    return _filled(outcome, fills[-1], price, "activities") if price is not None else outcome


def _needs_price(outcome: OrderOutcome) -> bool:
    """A final order with contracts filled but no priced fill yet."""
    final = outcome.status in (OrderStatus.FILLED, OrderStatus.CANCELLED, OrderStatus.EXPIRED)
    return final and outcome.fill is None and outcome.filled_amount > 0


def _average_fill_price(fills: list[OrderActivity]) -> Decimal | None:
    """The order's average fill price from its fill rows (oldest first), or None while it is
    unpublished. Only a positive price is taken here: a reported 0 may be the lag and needs the
    portfolio to confirm it (`_zero_reported`). The last row's `AveragePrice` covers every fill;
    else the `ExecutionPrice` of each fill weighted by its share of the cumulative amount."""
    last = fills[-1]
    if last.average_price is not None and last.average_price > 0:
        return last.average_price
    if len(fills) == 1:
        price = last.execution_price
        return price if price is not None and price > 0 else None
    total = Decimal(0)
    previous = Decimal(0)
    for row in fills:
        cumulative = row.filled_amount
        price = row.execution_price
        if cumulative is None or price is None or price <= 0 or cumulative <= previous:
            return None
        total += price * (cumulative - previous)
        previous = cumulative
    return total / previous if previous > 0 else None


def _zero_reported(rows: list[OrderActivity]) -> bool:
    """True when the newest fill row filled contracts and reports a price of exactly 0 with no
    positive price: either the publication lag or a real 0.00 fill (a worthless option sold at
    a 0 bid). The portfolio decides (see `OrderService._fill_from_portfolio`)."""
    fills = [r for r in rows if r.kind in _FILL_KINDS]
    if not fills:
        return False
    last = fills[-1]
    if (last.filled_amount or last.amount or Decimal(0)) <= 0:
        return False
    prices = [p for p in (last.average_price, last.execution_price) if p is not None]
    return bool(prices) and all(p == 0 for p in prices)


def _filled(
    outcome: OrderOutcome, final: OrderActivity | None, price: Decimal, source: str
) -> OrderOutcome:
    """`outcome` (its status kept: a partial fill may end cancelled) with the fill at `price`."""
    amount = outcome.filled_amount or (final.amount if final and final.amount else Decimal(0))
    fill = Fill(
        order_id=outcome.order_id,
        uic=final.uic if final else None,
        side=final.side if final else None,
        amount=amount,
        price=price,
        filled_at=final.activity_time if final else None,
        source=source,
        commission=final.commission if final else None,
        position_id=final.position_id if final else None,
    )
    logger.info(
        "order_filled order_id=%s status=%s price=%s amount=%s source=%s",
        outcome.order_id,
        outcome.status,
        price,
        amount,
        source,
    )
    return replace(outcome, fill=fill, filled_amount=amount)


def _error_info(body: object) -> tuple[str | None, str, object]:
    """(ErrorCode, Message, ModelState) when a 2xx placement/cancel body reports an error."""
    if not isinstance(body, dict):
        return None, "", None
    orders = body.get("Orders")
    leg_error = isinstance(orders, list) and any(
        isinstance(order, dict) and "ErrorInfo" in order for order in orders
    )
    if "ErrorInfo" not in body and "ErrorCode" not in body and not leg_error:
        return None, "", None
    return error_fields(body)
