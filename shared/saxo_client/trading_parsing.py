"""Pure functions from Saxo portfolio and order payloads to `shared.domain` types, and the
order request body (the other direction). Shared scalar helpers live in `parsing.py`."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import date
from decimal import Decimal
from typing import Any, Final

from shared.domain import (
    ActivityKind,
    Balance,
    ClosedPosition,
    Order,
    OrderActivity,
    OrderStatus,
    OrderType,
    Position,
    PutCall,
    Side,
)
from shared.saxo_client.errors import SaxoPayloadError
from shared.saxo_client.parsing import (
    as_int,
    as_mapping,
    as_str,
    feed_items,
    parse_date,
    parse_time,
    put_call_of,
    require,
    side_of,
    to_decimal,
)

_ACTIVITY_KINDS: Final = {
    "Placed": ActivityKind.PLACED,
    "Working": ActivityKind.WORKING,
    "Changed": ActivityKind.CHANGED,
    "Fill": ActivityKind.FILL,
    "FinalFill": ActivityKind.FINAL_FILL,
    "Cancelled": ActivityKind.CANCELLED,
    "Expired": ActivityKind.EXPIRED,
    "DoneForDay": ActivityKind.DONE_FOR_DAY,
}

_OPEN_ORDER_STATUS: Final = {
    "Working": OrderStatus.WORKING,
    "NotWorking": OrderStatus.WORKING,
    "LockedPlacementPending": OrderStatus.WORKING,
    "Placed": OrderStatus.WORKING,
    "PartiallyFilled": OrderStatus.PARTIALLY_FILLED,
    "Filled": OrderStatus.FILLED,
    "FinalFill": OrderStatus.FILLED,
    "Cancelled": OrderStatus.CANCELLED,
    "Expired": OrderStatus.EXPIRED,
    "Rejected": OrderStatus.REJECTED,
}

_MONTHS: Final = {
    name: number
    for number, name in enumerate(
        ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"), 1
    )
}
# Futures-style month codes as seen in Saxo option symbols ("SPY/11N25C587": N = July).
_MONTH_CODES: Final = {code: number for number, code in enumerate("FGHJKMNQUVXZ", 1)}
_OPTION_SYMBOL: Final = re.compile(
    r"^(?P<root>[A-Za-z0-9.]+)/(?P<day>\d{1,2})(?P<month>[A-Za-z]{3}|[FGHJKMNQUVXZ])"
    r"(?P<year>\d{2})(?P<pc>[CP])(?P<strike>\d+(?:\.\d+)?)(?::[A-Za-z0-9_]+)?$"
)


# --- portfolio -----------------------------------------------------------------------------


def parse_option_symbol(symbol: str) -> tuple[str, date, PutCall, Decimal] | None:
    """("SPY", 2025-07-11, call, 587) from "SPY/11N25C587:xcbf" or "SPXW/30Jan26C5900:xcbf";
    None when the symbol is not an option symbol."""
    match = _OPTION_SYMBOL.match(symbol.strip())
    if match is None:
        return None
    month_text = match["month"].upper()
    month = _MONTHS.get(month_text) if len(month_text) == 3 else _MONTH_CODES.get(month_text)
    if month is None:
        return None
    try:
        expiry = date(2000 + int(match["year"]), month, int(match["day"]))
    except ValueError:
        return None
    put_call = PutCall.CALL if match["pc"] == "C" else PutCall.PUT
    return match["root"].upper(), expiry, put_call, Decimal(match["strike"])


def parse_position(payload: Mapping[str, Any]) -> Position:
    """A positions feed row -> Position (strike/expiry from OptionsData, else from the symbol)."""
    position_id = as_str(payload.get("PositionId"))
    where = f"Position({position_id})"
    if position_id is None:
        raise SaxoPayloadError("Position: missing PositionId")
    base = as_mapping(require(payload, "PositionBase", where), f"{where}.PositionBase")
    view = as_mapping(payload.get("PositionView"), f"{where}.PositionView")
    display = as_mapping(payload.get("DisplayAndFormat"), f"{where}.DisplayAndFormat")
    options = as_mapping(base.get("OptionsData"), f"{where}.OptionsData")
    amount = to_decimal(require(base, "Amount", where), f"{where}.Amount")
    assert amount is not None
    symbol = as_str(display.get("Symbol"))
    strike = to_decimal(options.get("Strike"), f"{where}.OptionsData.Strike")
    expiry = parse_date(options.get("ExpiryDate"), f"{where}.OptionsData.ExpiryDate")
    put_call = (
        put_call_of(options["PutCall"], f"{where}.OptionsData.PutCall")
        if options.get("PutCall") is not None
        else None
    )
    if symbol and (strike is None or expiry is None or put_call is None):
        parsed = parse_option_symbol(symbol)
        if parsed is not None:
            _, symbol_expiry, symbol_pc, symbol_strike = parsed
            strike = strike if strike is not None else symbol_strike
            expiry = expiry or symbol_expiry
            put_call = put_call or symbol_pc
    return Position(
        position_id=position_id,
        uic=as_int(require(base, "Uic", where), f"{where}.Uic"),
        asset_type=str(require(base, "AssetType", where)),
        amount=amount,
        open_price=to_decimal(base.get("OpenPrice"), f"{where}.OpenPrice"),
        current_price=to_decimal(view.get("CurrentPrice"), f"{where}.CurrentPrice"),
        strike=strike,
        expiry=expiry,
        put_call=put_call,
        symbol=symbol,
        opened_at=parse_time(base.get("ExecutionTimeOpen"), f"{where}.ExecutionTimeOpen"),
        profit_loss=to_decimal(view.get("ProfitLossOnTrade"), f"{where}.ProfitLossOnTrade"),
        source_order_id=as_str(base.get("SourceOrderId")),
        external_reference=as_str(base.get("ExternalReference")),
        trade_costs=to_decimal(view.get("TradeCostsTotal"), f"{where}.TradeCostsTotal"),
    )


def parse_positions(body: object) -> list[Position]:
    return [parse_position(row) for row in feed_items(body, "Positions")]


def parse_balance(payload: Mapping[str, Any]) -> Balance:
    """A balances answer (a bare object) -> Balance."""
    where = "Balance"
    total = to_decimal(require(payload, "TotalValue", where), "Balance.TotalValue")
    cash = to_decimal(require(payload, "CashBalance", where), "Balance.CashBalance")
    assert total is not None and cash is not None
    open_count = payload.get("OpenPositionsCount")
    return Balance(
        currency=str(require(payload, "Currency", where)),
        total_value=total,
        cash_balance=cash,
        margin_available=to_decimal(
            payload.get("MarginAvailableForTrading"), "Balance.MarginAvailableForTrading"
        ),
        margin_used=to_decimal(
            payload.get("MarginUsedByCurrentPositions"), "Balance.MarginUsedByCurrentPositions"
        ),
        margin_utilization_pct=to_decimal(
            payload.get("MarginUtilizationPct"), "Balance.MarginUtilizationPct"
        ),
        open_positions=as_int(open_count, "Balance.OpenPositionsCount")
        if open_count is not None
        else None,
    )


def parse_closed_position(payload: Mapping[str, Any]) -> ClosedPosition:
    """A closedpositions feed row -> ClosedPosition (note Saxo's `BuyOrSell` spelling)."""
    unique_id = as_str(payload.get("ClosedPositionUniqueId")) or ""
    where = f"ClosedPosition({unique_id})"
    inner = as_mapping(require(payload, "ClosedPosition", where), f"{where}.ClosedPosition")
    amount = to_decimal(require(inner, "Amount", where), f"{where}.Amount")
    assert amount is not None
    side_text = inner.get("BuyOrSell")
    return ClosedPosition(
        closed_position_id=unique_id,
        uic=as_int(require(inner, "Uic", where), f"{where}.Uic"),
        asset_type=str(inner.get("AssetType") or ""),
        amount=amount,
        side=side_of(side_text, f"{where}.BuyOrSell") if side_text is not None else None,
        open_price=to_decimal(inner.get("OpenPrice"), f"{where}.OpenPrice"),
        closing_price=to_decimal(inner.get("ClosingPrice"), f"{where}.ClosingPrice"),
        closed_at=parse_time(inner.get("ExecutionTimeClose"), f"{where}.ExecutionTimeClose"),
        profit_loss=to_decimal(inner.get("ClosedProfitLoss"), f"{where}.ClosedProfitLoss"),
        cost_opening=to_decimal(inner.get("CostOpening"), f"{where}.CostOpening"),
        cost_closing=to_decimal(inner.get("CostClosing"), f"{where}.CostClosing"),
        opening_position_id=as_str(inner.get("OpeningPositionId")),
        closing_position_id=as_str(inner.get("ClosingPositionId")),
    )


# --- orders --------------------------------------------------------------------------------


def order_type_of(value: object) -> OrderType:
    if value == "Market":
        return OrderType.MARKET
    if value == "Limit":
        return OrderType.LIMIT
    return OrderType.OTHER


def parse_open_order(payload: Mapping[str, Any]) -> Order:
    """An open-orders row -> Order (note `OpenOrderType`, `Price`, not the placement names)."""
    order_id = as_str(payload.get("OrderId"))
    if order_id is None:
        raise SaxoPayloadError("Order: missing OrderId")
    where = f"Order({order_id})"
    amount = to_decimal(require(payload, "Amount", where), f"{where}.Amount")
    assert amount is not None
    details = as_mapping(payload.get("MultiLegOrderDetails"), f"{where}.MultiLegOrderDetails")
    status_text = payload.get("Status")
    return Order(
        order_id=order_id,
        uic=as_int(require(payload, "Uic", where), f"{where}.Uic"),
        asset_type=str(payload.get("AssetType") or ""),
        side=side_of(payload.get("BuySell"), f"{where}.BuySell"),
        amount=amount,
        order_type=order_type_of(payload.get("OpenOrderType", payload.get("OrderType"))),
        limit_price=to_decimal(payload.get("Price"), f"{where}.Price"),
        status=_OPEN_ORDER_STATUS.get(str(status_text), OrderStatus.WORKING),
        filled_amount=to_decimal(payload.get("FilledAmount"), f"{where}.FilledAmount")
        or Decimal(0),
        external_reference=as_str(payload.get("ExternalReference")),
        placed_at=parse_time(payload.get("OrderTime"), f"{where}.OrderTime"),
        multi_leg_order_id=as_str(details.get("MultiLegOrderId")),
    )


def parse_single_order(body: object) -> Order | None:
    """`GET /port/v1/orders/{ClientKey}/{OrderId}` is a feed: Data[0], or None when the order is
    no longer working (filled or cancelled orders vanish)."""
    rows = feed_items(body, "SingleOrder")
    return parse_open_order(rows[0]) if rows else None


def parse_open_orders(body: object) -> list[Order]:
    return [parse_open_order(row) for row in feed_items(body, "Orders")]


def parse_activity(payload: Mapping[str, Any]) -> OrderActivity:
    """An orderactivities row -> OrderActivity. `AveragePrice`/`ExecutionPrice` stay None when
    absent and keep a reported 0 as Decimal(0): a 0 is either the publication lag or a real fill
    at 0.00, and only `orders.py` (which can cross-check the portfolio) may decide which."""
    order_id = as_str(payload.get("OrderId"))
    if order_id is None:
        raise SaxoPayloadError("OrderActivity: missing OrderId")
    where = f"OrderActivity({order_id})"
    side_text = payload.get("BuySell")
    uic = payload.get("Uic")
    commission = payload.get("Commission", payload.get("Commissions"))
    return OrderActivity(
        order_id=order_id,
        kind=_ACTIVITY_KINDS.get(str(payload.get("Status")), ActivityKind.OTHER),
        sub_status=as_str(payload.get("SubStatus")),
        activity_time=parse_time(payload.get("ActivityTime"), f"{where}.ActivityTime"),
        uic=as_int(uic, f"{where}.Uic") if uic is not None else None,
        asset_type=as_str(payload.get("AssetType")),
        side=side_of(side_text, f"{where}.BuySell") if side_text is not None else None,
        amount=to_decimal(payload.get("Amount"), f"{where}.Amount"),
        filled_amount=to_decimal(payload.get("FilledAmount"), f"{where}.FilledAmount"),
        average_price=_fill_price(payload.get("AveragePrice"), f"{where}.AveragePrice"),
        execution_price=_fill_price(payload.get("ExecutionPrice"), f"{where}.ExecutionPrice"),
        limit_price=to_decimal(payload.get("Price"), f"{where}.Price"),
        position_id=as_str(payload.get("PositionId")),
        external_reference=as_str(payload.get("ExternalReference")),
        commission=to_decimal(commission, f"{where}.Commission")
        if isinstance(commission, int | float | str)
        else None,
        log_id=as_str(payload.get("LogId")),
    )


def _fill_price(value: object, field: str) -> Decimal | None:
    """A fill price >= 0 (0 kept: see `parse_activity`); None when absent or negative."""
    number = to_decimal(value, field)
    return number if number is not None and number >= 0 else None


def parse_activities(body: object) -> list[OrderActivity]:
    return [parse_activity(row) for row in feed_items(body, "OrderActivities")]


def placed_order_ids(body: object) -> tuple[str | None, tuple[str, ...]]:
    """(OrderId or MultiLegOrderId, per-leg/related OrderIds) from a placement answer."""
    payload = as_mapping(body, "OrderPlacement")
    top = as_str(payload.get("OrderId")) or as_str(payload.get("MultiLegOrderId"))
    legs: list[str] = []
    orders = payload.get("Orders")
    if isinstance(orders, Sequence):
        for item in orders:
            if isinstance(item, Mapping) and item.get("OrderId") is not None:
                legs.append(str(item["OrderId"]))
    return top, tuple(legs)


# --- domain -> Saxo request bodies ---------------------------------------------------------

_DURATIONS: Final = {
    "day": "DayOrder",
    "gtc": "GoodTillCancel",
    "ioc": "ImmediateOrCancel",
    "fok": "FillOrKill",
}


def order_body(
    *,
    account_key: str,
    uic: int,
    asset_type: str,
    side: Side,
    amount: Decimal,
    order_type: OrderType,
    limit_price: Decimal | None,
    to_open: bool | None,
    duration: str,
    external_reference: str,
    manual: bool,
) -> dict[str, Any]:
    """The `POST /trade/v2/orders` body for one market or limit order (saxo_api.md 2.6)."""
    if order_type not in (OrderType.MARKET, OrderType.LIMIT):
        raise ValueError(f"order type {order_type} is not supported by this client")
    if duration not in _DURATIONS:
        raise ValueError(f"duration {duration!r} must be one of {', '.join(_DURATIONS)}")
    body: dict[str, Any] = {
        "AccountKey": account_key,
        "Uic": uic,
        "AssetType": asset_type,
        "BuySell": "Buy" if side is Side.BUY else "Sell",
        "Amount": int(amount) if amount == amount.to_integral_value() else float(amount),
        "OrderType": "Market" if order_type is OrderType.MARKET else "Limit",
        "OrderDuration": {"DurationType": _DURATIONS[duration]},
        "ManualOrder": manual,
        "ExternalReference": external_reference,
        "OrderRelation": "StandAlone",
    }
    if order_type is OrderType.LIMIT:
        if limit_price is None:
            raise ValueError("a limit order needs limit_price")
        body["OrderPrice"] = float(limit_price)
    if to_open is not None:
        body["ToOpenClose"] = "ToOpen" if to_open else "ToClose"
    return body
