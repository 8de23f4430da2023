"""Canonical journal test objects: a fixed clock, an opened journal, and fills with defaults."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from shared.clock import ManualClock
from shared.journal import Fill, Journal

BOT = "iron_fly_0dte"
# Monday 2 March 2026, 10:00 New York (EST, UTC-5).
START = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)


def make_clock() -> ManualClock:
    return ManualClock(START)


def add_fill(journal: Journal, trade_id: int, **overrides: Any) -> Fill | None:
    """Record a fill of `trade_id`: by default one SPX contract sold to open at 2.50, $1.10 fee."""
    values: dict[str, Any] = {
        "trade_id": trade_id,
        "leg": "short_call",
        "uic": 1001,
        "side": "sell",
        "open_close": "open",
        "price": Decimal("2.50"),
        "quantity": 1,
        "multiplier": 100,
        "commission_usd": Decimal("1.10"),
        "filled_at": START,
        "simulated": False,
    }
    values.update(overrides)
    return journal.record_fill(**values)
