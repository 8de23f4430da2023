"""Quote prices of the domain model (the usable-quote rule is in tests/shared/strategy)."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from shared.domain import Quote

NOW = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)


def test_index_price_falls_back_to_last_trade() -> None:
    vix = Quote(1, "StockIndex", None, None, None, Decimal("16.4"), NOW)

    assert vix.price == Decimal("16.4")
