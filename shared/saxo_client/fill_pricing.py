"""Pricing a fill from Saxo's own records: order activities first, then the portfolio.

Pure functions over parsed activity rows, plus `Portfolio`, a once-per-verification view of the
open and closed positions, fetched lazily so one verification reads each list at most once.

A 0 price on a fill row is ambiguous: Saxo shows 0 (or nothing) during the activity lag, but a
worthless option sold at a 0 bid really fills at 0.00. Rule: a positive price is taken as is; a
reported 0 triggers an immediate portfolio look-up, and a 0.00 fill is accepted only when the
position's `OpenPrice` or the closed position's `ClosingPrice` is 0 too (two sources agree). A
non-zero portfolio price wins (it was the lag). A 0 from the portfolio alone is never trusted.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal
from typing import Final

from shared.domain import (
    ActivityKind,
    ClosedPosition,
    Fill,
    OrderActivity,
    OrderOutcome,
    OrderStatus,
    Position,
)
from shared.logger_service import kv

logger = logging.getLogger(__name__)

FILL_KINDS: Final = frozenset({ActivityKind.FILL, ActivityKind.FINAL_FILL})


class Portfolio:
    """Open and closed positions, each fetched at most once (on first use)."""

    def __init__(
        self,
        fetch_positions: Callable[[], list[Position]],
        fetch_closed: Callable[[], list[ClosedPosition]],
    ) -> None:
        self._fetch_positions = fetch_positions
        self._fetch_closed = fetch_closed
        self._positions: list[Position] | None = None
        self._closed: list[ClosedPosition] | None = None

    def positions(self) -> list[Position]:
        if self._positions is None:
            self._positions = self._fetch_positions()
        return self._positions

    def closed(self) -> list[ClosedPosition]:
        if self._closed is None:
            self._closed = self._fetch_closed()
        return self._closed


def activity_order(row: OrderActivity) -> tuple[datetime, int]:
    """Sort key: activity time, then Saxo's log id."""
    stamp = row.activity_time or datetime.min.replace(tzinfo=UTC)
    log_id = int(row.log_id) if row.log_id and row.log_id.isdigit() else 0
    return stamp, log_id


def outcome_from_rows(order_id: str, rows: list[OrderActivity]) -> OrderOutcome:
    """Status and fill from one order's activities (oldest first). A cancelled or expired order
    that filled in part carries the fill of that part (its average price)."""
    if not rows:
        return OrderOutcome(order_id, OrderStatus.NOT_FOUND, detail="no activities")
    fills = [r for r in rows if r.kind in FILL_KINDS]
    last = rows[-1]
    if any((r.sub_status or "").lower() == "rejected" for r in rows) and not fills:
        return OrderOutcome(order_id, OrderStatus.REJECTED, detail="rejected")
    filled_amount = max(
        (r.filled_amount or r.amount or Decimal(0) for r in fills), default=Decimal(0)
    )
    if any(r.kind is ActivityKind.FINAL_FILL for r in rows):
        status, detail = OrderStatus.FILLED, "filled"
    elif last.kind in (ActivityKind.CANCELLED, ActivityKind.EXPIRED, ActivityKind.DONE_FOR_DAY):
        status = (
            OrderStatus.CANCELLED if last.kind is ActivityKind.CANCELLED else (OrderStatus.EXPIRED)
        )
        detail = "partially filled then " + status.value if fills else status.value
    elif fills:
        return OrderOutcome(order_id, OrderStatus.PARTIALLY_FILLED, None, filled_amount)
    else:
        return OrderOutcome(order_id, OrderStatus.UNKNOWN, None, Decimal(0), f"last={last.kind}")
    outcome = OrderOutcome(order_id, status, None, filled_amount, detail)
    if filled_amount <= 0:
        return outcome
    price = average_fill_price(fills)
    return priced(outcome, fills[-1], price, "activities") if price is not None else outcome


def needs_price(outcome: OrderOutcome) -> bool:
    """A final order with contracts filled but no priced fill yet."""
    final = outcome.status in (OrderStatus.FILLED, OrderStatus.CANCELLED, OrderStatus.EXPIRED)
    return final and outcome.fill is None and outcome.filled_amount > 0


def average_fill_price(fills: list[OrderActivity]) -> Decimal | None:
    """The order's average fill price from its fill rows (oldest first), or None while it is
    unpublished. Only a positive price is taken here: a reported 0 may be the lag and needs the
    portfolio to confirm it (`zero_reported`). The last row's `AveragePrice` covers every fill;
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


def zero_reported(rows: list[OrderActivity]) -> bool:
    """True when the newest fill row filled contracts and reports a price of exactly 0 with no
    positive price: either the publication lag or a real 0.00 fill (a worthless option sold at
    a 0 bid). The portfolio decides (see `price_from_portfolio`)."""
    fills = [r for r in rows if r.kind in FILL_KINDS]
    if not fills:
        return False
    last = fills[-1]
    if (last.filled_amount or last.amount or Decimal(0)) <= 0:
        return False
    prices = [p for p in (last.average_price, last.execution_price) if p is not None]
    return bool(prices) and all(p == 0 for p in prices)


def price_from_portfolio(
    order_id: str,
    rows: list[OrderActivity],
    outcome: OrderOutcome,
    portfolio: Portfolio,
    *,
    accept_zero: bool,
) -> OrderOutcome | None:
    """The fill priced from the opened position's `OpenPrice` or the closed position's
    `ClosingPrice`; None when neither has it. A 0 price counts only with `accept_zero` (the
    activities reported 0 too: two sources agree on a 0.00 fill)."""
    final = next((r for r in reversed(rows) if r.kind in FILL_KINDS), None)
    position_id = final.position_id if final else None

    def usable(price: Decimal | None) -> bool:
        return price is not None and (price > 0 or (price == 0 and accept_zero))

    for position in portfolio.positions():
        matches = position.source_order_id == order_id or (
            position_id is not None and position.position_id == position_id
        )
        if matches and usable(position.open_price):
            assert position.open_price is not None
            return priced(outcome, final, position.open_price, "position")
    if position_id is None:
        return None
    for closed in portfolio.closed():
        # The order either opened this (since closed) position or closed it: its fill price is
        # the matching side's price, never the other trade's.
        if position_id == closed.opening_position_id:
            price = closed.open_price
        elif position_id == closed.closing_position_id:
            price = closed.closing_price
        else:
            continue
        if usable(price):
            assert price is not None
            return priced(outcome, final, price, "closed_position")
    return None


def commission_from_portfolio(fill: Fill, portfolio: Portfolio) -> Decimal | None:
    """The commission Saxo booked for `fill`: the opening position's `TradeCostsTotal`, else
    the closed position's `CostOpening`/`CostClosing` for the side this order was."""
    for position in portfolio.positions():
        if (
            position.source_order_id == fill.order_id
            and abs(position.amount) == fill.amount
            and position.trade_costs is not None
        ):
            return abs(position.trade_costs)
    if fill.position_id is None:
        return None
    for closed in portfolio.closed():
        if closed.opening_position_id == fill.position_id:
            cost = closed.cost_opening
        elif closed.closing_position_id == fill.position_id:
            cost = closed.cost_closing
        else:
            continue
        if cost is not None:
            return abs(cost)
    return None


def priced(
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
    logger.info(kv(
        "order_filled",
        order_id=outcome.order_id,
        status=outcome.status,
        price=price,
        amount=amount,
        source=source,
    ))
    return replace(outcome, fill=fill, filled_amount=amount)
