"""Order model and request validation for the simulated exchange (Saxo `/trade/v2/orders`).

Syntax problems raise 400 InvalidModelState naming each field; business rules (tick size,
unsupported types) raise 400 with `ErrorInfo`. Prices and amounts are Decimal.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from shared.options_math import is_on_tick
from shared.saxo_sim.errors import SimApiError, invalid_model_state, order_rejected

ORDER_TYPES = ("Market", "Limit")
DURATION_TYPES = ("DayOrder", "GoodTillCancel", "ImmediateOrCancel", "FillOrKill")
KNOWN_DURATIONS = (*DURATION_TYPES, "GoodTillDate", "AtTheOpening", "AtTheClose", "GoodForPeriod")
KNOWN_ORDER_TYPES = (
    "Market",
    "Limit",
    "Stop",
    "StopIfTraded",
    "StopIfBid",
    "StopIfOffered",
    "StopLimit",
    "TrailingStop",
    "TrailingStopIfTraded",
    "TrailingStopIfBid",
    "TrailingStopIfOffered",
)
MAX_EXTERNAL_REFERENCE = 50


@dataclass
class Order:
    """One order on the simulated exchange. `amount`/`filled_amount` in contracts or shares."""

    order_id: str
    uic: int
    asset_type: str
    buy_sell: str
    amount: Decimal
    order_type: str
    price: Decimal | None
    duration: str
    to_open_close: str | None
    external_reference: str | None
    placed_at: datetime
    account_key: str
    status: str = "Working"
    filled_amount: Decimal = Decimal(0)
    fill_value: Decimal = Decimal(0)  # sum of price x amount over fills
    rest_fill_at: datetime | None = None  # partial-fill directive: remainder not before this
    correlation_key: str = field(default_factory=lambda: str(uuid.uuid4()))

    @property
    def remaining(self) -> Decimal:
        return self.amount - self.filled_amount

    @property
    def average_price(self) -> Decimal | None:
        if self.filled_amount <= 0:
            return None
        return self.fill_value / self.filled_amount

    @property
    def sign(self) -> int:
        """+1 for Buy, -1 for Sell."""
        return 1 if self.buy_sell == "Buy" else -1


@dataclass(frozen=True)
class OrderRequest:
    """A syntactically valid placement body."""

    account_key: str
    uic: int
    asset_type: str
    buy_sell: str
    amount: Decimal
    order_type: str
    price: Decimal | None
    duration: str
    to_open_close: str | None
    external_reference: str | None
    manual_order: bool


def to_decimal(value: Any) -> Decimal | None:
    """A JSON number as an exact Decimal (via its repr, so 2.55 stays 2.55); None if not numeric."""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return None
    try:
        result = Decimal(repr(value)) if isinstance(value, float) else Decimal(value)
    except InvalidOperation:
        return None
    return result if result.is_finite() else None


def parse_order(body: dict[str, Any]) -> OrderRequest:
    """Validate a placement body; raises SimApiError (InvalidModelState or ErrorInfo)."""
    problems: dict[str, list[str]] = {}

    def need(name: str) -> Any:
        if body.get(name) is None:
            problems.setdefault(name, []).append(f"The {name} field is required.")
        return body.get(name)

    if "Orders" in body and "Uic" not in body:
        raise invalid_model_state(
            {"Orders": ["OCO and related orders are not supported by the simulator"]}
        )
    account_key = need("AccountKey")
    uic = need("Uic")
    asset_type = need("AssetType")
    buy_sell = need("BuySell")
    raw_amount = need("Amount")
    order_type = need("OrderType")
    manual = need("ManualOrder")
    duration_obj = need("OrderDuration")
    if uic is not None and (isinstance(uic, bool) or not isinstance(uic, int)):
        problems.setdefault("Uic", []).append("Uic must be an integer.")
    if buy_sell is not None and buy_sell not in ("Buy", "Sell"):
        problems.setdefault("BuySell", []).append("BuySell must be Buy or Sell.")
    amount = to_decimal(raw_amount) if raw_amount is not None else None
    if raw_amount is not None and (amount is None or amount <= 0):
        problems.setdefault("Amount", []).append("Amount must be a number greater than 0.")
    if manual is not None and not isinstance(manual, bool):
        problems.setdefault("ManualOrder", []).append("ManualOrder must be true or false.")
    if order_type is not None and order_type not in KNOWN_ORDER_TYPES:
        problems.setdefault("OrderType", []).append(f"Unknown OrderType '{order_type}'.")
    duration = None
    if duration_obj is not None:
        duration = duration_obj.get("DurationType") if isinstance(duration_obj, dict) else None
        if duration not in KNOWN_DURATIONS:
            problems.setdefault("OrderDuration.DurationType", []).append(
                "OrderDuration.DurationType is required and must be a known duration."
            )
    price = None
    if order_type is not None and order_type != "Market":
        raw_price = body.get("OrderPrice")
        price = to_decimal(raw_price) if raw_price is not None else None
        if raw_price is None:
            problems.setdefault("OrderPrice", []).append(
                "OrderPrice is required for this OrderType."
            )
        elif price is None or price < 0:
            problems.setdefault("OrderPrice", []).append("Price cannot be negative or non-numeric.")
    external = body.get("ExternalReference")
    if external is not None and (
        not isinstance(external, str) or len(external) > MAX_EXTERNAL_REFERENCE
    ):
        problems.setdefault("ExternalReference", []).append(
            f"ExternalReference must be a string of at most {MAX_EXTERNAL_REFERENCE} characters."
        )
    to_open_close = body.get("ToOpenClose")
    if to_open_close is not None and to_open_close not in ("ToOpen", "ToClose", "Undefined"):
        problems.setdefault("ToOpenClose", []).append(
            "ToOpenClose must be ToOpen, ToClose or Undefined."
        )
    if problems:
        raise invalid_model_state(problems)
    ext = external if isinstance(external, str) else None
    if order_type not in ORDER_TYPES:
        raise order_rejected(
            "OrderTypeNotSupported", f"Order type {order_type} is not supported", ext
        )
    if duration not in DURATION_TYPES:
        raise order_rejected("DurationNotSupported", f"Duration {duration} is not supported", ext)
    assert amount is not None
    if amount != amount.to_integral_value():
        raise order_rejected("AmountNotInLotSize", "Amount must be a whole number of units", ext)
    return OrderRequest(
        account_key=str(account_key),
        uic=int(uic),
        asset_type=str(asset_type),
        buy_sell=str(buy_sell),
        amount=amount,
        order_type=str(order_type),
        price=price,
        duration=str(duration),
        to_open_close=to_open_close,
        external_reference=ext,
        manual_order=bool(manual),
    )


def check_tick(
    price: Decimal, *, option_root: str | None, tick: Decimal, external: str | None
) -> None:
    """400 PriceNotInTickSizeIncrements unless `price` is exactly on a valid tick."""
    if option_root is not None:
        try:
            on_tick = is_on_tick(option_root, price)
        except ValueError:
            on_tick = False
    else:
        on_tick = price % tick == 0
    if not on_tick:
        raise order_rejected(
            "PriceNotInTickSizeIncrements",
            f"Order price {price} is not in tick size increments",
            external,
        )


def check_account(account_key: str, expected: str, external: str | None) -> None:
    if account_key != expected:
        raise SimApiError(
            400,
            "InvalidModelState",
            "One or more properties of the request are invalid!",
            {"AccountKey": ["AccountKey does not match any account of this client."]},
            extra={"ExternalReference": external} if external else None,
        )
