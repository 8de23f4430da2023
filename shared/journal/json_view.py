"""JSON forms of journal records, shared by `calypso journal --json` and the demo summary.
Prices are USD per share (or index point) as filled; money is USD rounded to cents."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from shared.journal.codec import money_json
from shared.journal.models import Fill


def price_json(value: Decimal) -> int | float:
    """A fill price as a JSON number: an int when whole (the journal keeps exact Decimals)."""
    return int(value) if value == value.to_integral_value() else float(value)


def fill_json(fill: Fill) -> dict[str, Any]:
    """One fill: leg, uic, side, open/close, price, quantity, multiplier, commission (USD),
    fill time (ISO, UTC), whether simulated, and Saxo's order id."""
    return {
        "leg": fill.leg,
        "uic": fill.uic,
        "side": fill.side.value,
        "open_close": fill.open_close.value,
        "price": price_json(fill.price),
        "quantity": fill.quantity,
        "multiplier": fill.multiplier,
        "commission_usd": money_json(fill.commission_usd),
        "filled_at": fill.filled_at.isoformat(),
        "simulated": fill.simulated,
        "order_id": fill.order_id,
    }
