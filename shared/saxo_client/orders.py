"""Order placement, cancellation, status and fill verification.

Nothing here re-sends an order request on its own, and nothing here waits for an unanswered
one: a placement without an answer (timeout, connection error, 5xx) raises OrderStateUnknown
at once, and the caller looks the order up by its ExternalReference (`find_by_reference`: one
look at the open orders and the activities). The executor is the one owner of that look-up
(docs/RUNTIME.md), so no call here blocks the trading loop.

Fill verification follows saxo_api.md 5: the single-order status (`Data[0]`; absent = no longer
working), then activities `AveragePrice` -> `ExecutionPrice` (optionally waiting a bounded time
for the lag), then the position's `OpenPrice`, then the closed position's `ClosingPrice` (see
`fill_pricing`). A partial fill of a cancelled or expired order is priced the same way. Money
only ever comes from the broker's fills. The trading loop verifies with `wait_for_final=False`:
one look, nothing sleeps.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any, Final

from shared.clock import Clock
from shared.domain import (
    ClosedPosition,
    Order,
    OrderActivity,
    OrderOutcome,
    OrderType,
    PlacedOrder,
    Position,
    Side,
)
from shared.logger_service import kv
from shared.saxo_client import fill_pricing, parsing, trading_parsing
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
class FoundOrder:
    """An order found by its ExternalReference; `rejected` when Saxo refused it."""

    order_id: str
    rejected: bool


@dataclass(frozen=True)
class VerifyTiming:
    """Bounds of fill verification, in seconds of the wall clock."""

    status_wait_s: float = 5.0
    price_wait_s: float = 10.0
    poll_interval_s: float = 0.5
    activity_lookback: timedelta = timedelta(hours=12)


@dataclass(frozen=True)
class PrecheckAnswer:
    """Saxo's order pre-check: `ok`, else its ErrorCode (e.g. WouldExceedMargin) and message."""

    ok: bool
    error_code: str = ""
    message: str = ""


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

    def _order_body(self, request: OrderRequest, reference: str) -> dict[str, Any]:
        """The `/trade/v2/orders` body of `request` on the account, with `reference` as its
        ExternalReference."""
        account = self._account()
        return trading_parsing.order_body(
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

    def place(self, request: OrderRequest, *, request_id: str | None = None) -> PlacedOrder:
        """Send one order. Raises OrderRejected (Saxo said no) or OrderStateUnknown (no answer:
        raised at once, the caller looks the order up with `find_by_reference`). Never
        re-sends, never waits."""
        request_id = request_id or new_request_id()
        reference = request.external_reference or f"cal-{request_id[:24]}"
        body = self._order_body(request, reference)
        logger.info(kv(
            "order_send",
            request_id=request_id,
            ref=reference,
            uic=request.uic,
            asset_type=request.asset_type,
            side=request.side,
            amount=request.amount,
            type=request.order_type,
            price=request.limit_price,
        ))
        try:
            response = self._transport.send(
                "POST", "/trade/v2/orders", json_body=body, is_order=True, request_id=request_id
            )
        except (SaxoTransportError, SaxoServerError) as exc:
            logger.error(kv(
                "order_send_no_answer", request_id=request_id, ref=reference, error=exc,
                next="look_up",
            ))
            raise OrderStateUnknown(request_id, reference, type(exc).__name__) from exc
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
        logger.info(kv("order_placed", order_id=order_id, request_id=request_id, ref=reference))
        return PlacedOrder(order_id, request_id, reference, legs)

    def precheck(self, request: OrderRequest) -> PrecheckAnswer:
        """Ask Saxo whether `request` would be accepted (`POST /trade/v2/orders/precheck`):
        margin, tradability, market hours. Nothing is placed. Raises SaxoError when Saxo does
        not answer (the caller decides; nothing is retried here)."""
        body = self._order_body(request, request.external_reference or "cal-precheck")
        try:
            response = self._transport.send("POST", "/trade/v2/orders/precheck", json_body=body)
        except SaxoBadRequest as exc:
            return PrecheckAnswer(False, exc.error_code or "Unknown", exc.message)
        code, message, _ = _error_info(response.body)
        result = response.body.get("PreCheckResult") if isinstance(response.body, dict) else None
        if code is not None or result != "Ok":
            return PrecheckAnswer(False, code or "Unknown", message or f"PreCheckResult {result}")
        return PrecheckAnswer(True)

    def find_by_reference(self, reference: str, *, since: datetime) -> FoundOrder | None:
        """One look for an order placed since `since` (tz-aware) with this ExternalReference:
        the working orders, then the account's activities. None when neither lists it."""
        for order in self.open_orders():
            if order.external_reference == reference:
                logger.info(kv("order_found_open", order_id=order.order_id, ref=reference))
                return FoundOrder(order.order_id, rejected=False)
        for activity in self.activities(since=since):
            if activity.external_reference == reference:
                rejected = (activity.sub_status or "").lower() == "rejected"
                logger.info(kv(
                    "order_found_activity",
                    order_id=activity.order_id,
                    ref=reference,
                    rejected=rejected,
                ))
                return FoundOrder(activity.order_id, rejected=rejected)
        return None

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
            logger.info(kv("order_cancel_not_found", order_id=order_id))
            return False
        except SaxoBadRequest as exc:
            logger.warning(kv("order_cancel_refused", order_id=order_id, error_code=exc.error_code))
            return False
        code, message, _ = _error_info(response.body)
        if code is not None:
            logger.warning(kv(
                "order_cancel_refused", order_id=order_id, error_code=code, message=message
            ))
            return False
        logger.info(kv("order_cancel_sent", order_id=order_id))
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
        return sorted(rows, key=fill_pricing.activity_order)

    # --- fill verification ------------------------------------------------------------------

    def verify(self, order_id: str, *, wait_for_final: bool = True) -> OrderOutcome:
        """Final status and fill of an order (see module docstring). With `wait_for_final` a
        still-working order is polled for `status_wait_s` and an unpublished fill price for
        `price_wait_s`; without it nothing waits: one look, and a filled order whose price is
        not published yet comes back with `fill` None (verify again later)."""
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
        return self._outcome_from_activities(order_id, wait=wait_for_final)

    def _outcome_from_activities(self, order_id: str, *, wait: bool) -> OrderOutcome:
        """Status and fill of an order that no longer works. A filled amount (complete, or
        partial before a cancel/expiry) always gets its price from the broker: activities first
        (with `wait`, a bounded wait for the lag), then the portfolio; never a quote or limit."""
        deadline = self._wall.monotonic() + (self._timing.price_wait_s if wait else 0.0)
        portfolio = self._portfolio()
        zero_checked: fill_pricing.Portfolio | None = None  # the view a reported 0 was checked in
        while True:
            rows = self.activities(order_id)
            outcome = fill_pricing.outcome_from_rows(order_id, rows)
            if outcome.fill is not None:
                return self._with_commission(outcome, portfolio)
            if not fill_pricing.needs_price(outcome):
                return outcome
            zero = fill_pricing.zero_reported(rows)
            if zero and zero_checked is None:
                # A 0 is the lag or a real 0.00 fill: ask the portfolio now rather than waiting.
                zero_checked = portfolio
                found = self._price_from_portfolio(order_id, rows, outcome, portfolio, True)
                if found is not None:
                    return found
            if self._wall.monotonic() >= deadline:
                break
            logger.info(kv("fill_price_pending", order_id=order_id))
            self._wall.sleep(self._timing.poll_interval_s)
            portfolio = self._portfolio()
        if not (zero and zero_checked is portfolio):  # else this view was just asked the same
            found = self._price_from_portfolio(order_id, rows, outcome, portfolio, zero)
            if found is not None:
                return found
        log = logger.error if wait else logger.info
        log(
            "fill_price_unknown order_id=%s status=%s filled=%s",
            order_id,
            outcome.status,
            outcome.filled_amount,
        )
        return replace(outcome, detail=f"{outcome.detail}, price unknown")

    def _portfolio(self) -> fill_pricing.Portfolio:
        """A fresh lazily fetched view of the account's open and closed positions."""
        account = self._account()

        def positions() -> list[Position]:
            body = self._transport.get(
                "/port/v1/positions",
                {
                    "ClientKey": account.client_key,
                    "AccountKey": account.account_key,
                    "FieldGroups": "PositionBase,PositionView",
                },
            ).body
            return trading_parsing.parse_positions(body)

        def closed() -> list[ClosedPosition]:
            body = self._transport.get(
                "/port/v1/closedpositions",
                {"ClientKey": account.client_key, "AccountKey": account.account_key, "$top": 50},
            ).body
            return [
                trading_parsing.parse_closed_position(row)
                for row in parsing.feed_items(body, "ClosedPositions")
            ]

        return fill_pricing.Portfolio(positions, closed)

    def _price_from_portfolio(
        self,
        order_id: str,
        rows: list[OrderActivity],
        outcome: OrderOutcome,
        portfolio: fill_pricing.Portfolio,
        accept_zero: bool,
    ) -> OrderOutcome | None:
        try:
            found = fill_pricing.price_from_portfolio(
                order_id, rows, outcome, portfolio, accept_zero=accept_zero
            )
        except SaxoError as exc:
            logger.warning(kv("fill_portfolio_lookup_failed", order_id=order_id, error=exc))
            return None
        return None if found is None else self._with_commission(found, portfolio)

    def _with_commission(
        self, outcome: OrderOutcome, portfolio: fill_pricing.Portfolio
    ) -> OrderOutcome:
        """`outcome` with the commission Saxo booked for its fill, when the activities did not
        carry one and the portfolio reports it (read from the same portfolio view)."""
        fill = outcome.fill
        assert fill is not None
        if fill.commission is not None:
            return outcome
        try:
            commission = fill_pricing.commission_from_portfolio(fill, portfolio)
        except SaxoError as exc:
            logger.warning(kv("fill_commission_lookup_failed", order_id=fill.order_id, error=exc))
            return outcome
        if commission is None:
            return outcome
        logger.info(kv("fill_commission", order_id=fill.order_id, commission=commission))
        return replace(outcome, fill=replace(fill, commission=commission))


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
