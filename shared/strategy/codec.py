"""The one JSON codec of saved strategy state and executor jobs: Decimals as strings, UTC ISO
datetimes, ISO dates, `LegSpec` and `LegFill` records.

Each parser raises ValueError naming the field, so a corrupt saved state is reported, never
guessed.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from shared.domain import PutCall, Side
from shared.strategy_contract import LegFill, LegSpec


def dec(value: Any, name: str) -> Decimal:
    """`value` (a string or int) as a finite Decimal."""
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise ValueError(f"{name}: expected a decimal string, got {value!r}")
    try:
        number = Decimal(value)
    except InvalidOperation:
        raise ValueError(f"{name}: not a number: {value!r}") from None
    if not number.is_finite():
        raise ValueError(f"{name}: not finite: {value!r}")
    return number


def opt_dec(value: Any, name: str) -> Decimal | None:
    return None if value is None else dec(value, name)


def opt_str(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


def parse_utc(value: Any, name: str) -> datetime:
    """An ISO datetime with an offset, returned in UTC; naive values are refused."""
    if not isinstance(value, str):
        raise ValueError(f"{name}: expected an ISO datetime string, got {value!r}")
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise ValueError(f"{name}: not an ISO datetime: {value!r}") from None
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{name}: datetime without a time zone: {value!r}")
    return moment.astimezone(UTC)


def opt_utc(value: Any, name: str) -> datetime | None:
    return None if value is None else parse_utc(value, name)


def parse_date(value: Any, name: str) -> date:
    if not isinstance(value, str):
        raise ValueError(f"{name}: expected an ISO date string, got {value!r}")
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ValueError(f"{name}: not an ISO date: {value!r}") from None


def positive_int(value: Any, name: str) -> int:
    """`value` as an int > 0 (booleans refused)."""
    if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
        raise ValueError(f"{name}: expected a positive integer, got {value!r}")
    return value


def parse_list(value: Any, name: str) -> list[Any]:
    if not isinstance(value, list):
        raise ValueError(f"{name}: expected a list")
    return value


def leg_spec_to_json(leg: LegSpec) -> dict[str, Any]:
    return {
        "leg": leg.leg, "uic": leg.uic, "asset_type": leg.asset_type, "side": leg.side.value,
        "quantity": leg.quantity, "root": leg.root, "strike": opt_str(leg.strike),
        "put_call": None if leg.put_call is None else leg.put_call.value,
        "expiry": None if leg.expiry is None else leg.expiry.isoformat(),
    }


def leg_spec_from_json(data: Any) -> LegSpec:
    """Parse `leg_spec_to_json` output."""
    if not isinstance(data, dict):
        raise ValueError("leg must be an object")
    uic, quantity = data.get("uic"), data.get("quantity")
    if not isinstance(uic, int) or not isinstance(quantity, int) or quantity < 1:
        raise ValueError(f"leg uic/quantity invalid: {data!r}")
    try:
        side = Side(str(data.get("side")))
        put_call = None if data.get("put_call") is None else PutCall(data["put_call"])
    except ValueError as exc:
        raise ValueError(f"leg: {exc}") from None
    return LegSpec(
        leg=str(data.get("leg")), uic=uic, asset_type=str(data.get("asset_type")), side=side,
        quantity=quantity, root=str(data.get("root")),
        strike=opt_dec(data.get("strike"), "leg strike"), put_call=put_call,
        expiry=None if data.get("expiry") is None else parse_date(data["expiry"], "leg expiry"),
    )


def fill_to_json(fill: LegFill) -> dict[str, Any]:
    return {
        "leg": fill.leg, "uic": fill.uic, "side": fill.side.value, "quantity": fill.quantity,
        "price": str(fill.price), "commission_usd": str(fill.commission_usd),
        "filled_at": fill.filled_at.isoformat(), "multiplier": fill.multiplier,
        "simulated": fill.simulated,
    }


def fill_from_json(data: Any) -> LegFill:
    """Parse `fill_to_json` output."""
    if not isinstance(data, dict):
        raise ValueError("fill must be an object")
    uic, quantity, multiplier = data.get("uic"), data.get("quantity"), data.get("multiplier")
    if not (isinstance(uic, int) and isinstance(quantity, int) and isinstance(multiplier, int)):
        raise ValueError(f"fill uic/quantity/multiplier invalid: {data!r}")
    try:
        side = Side(str(data.get("side")))
    except ValueError as exc:
        raise ValueError(f"fill: {exc}") from None
    return LegFill(
        leg=str(data.get("leg")), uic=uic, side=side, quantity=quantity,
        price=dec(data.get("price"), "fill.price"),
        commission_usd=dec(data.get("commission_usd"), "fill.commission_usd"),
        filled_at=parse_utc(data.get("filled_at"), "fill.filled_at"), multiplier=multiplier,
        simulated=bool(data.get("simulated", False)),
    )
