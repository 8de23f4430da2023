"""Limit-ladder prices and the market spread guard."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from shared.domain import Quote, Side
from shared.execution.ladder import ladder_price, market_allowed

NOW = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)


def _quote(bid: str, ask: str) -> Quote:
    return Quote(1, "StockIndexOption", Decimal(bid), Decimal(ask), None, None, NOW)


def test_a_buy_step_pays_at_most_its_percentage_over_the_ask_on_the_spxw_tick() -> None:
    # 4.00 x 1.05 = 4.20, on the 0.10 tick above 3.00
    assert ladder_price(Side.BUY, _quote("3.80", "4.00"), Decimal(5), "SPXW") == Decimal("4.20")
    # 2.05 x 1.05 = 2.1525 -> rounded DOWN to the 0.05 tick below 3.00
    assert ladder_price(Side.BUY, _quote("1.95", "2.05"), Decimal(5), "SPXW") == Decimal("2.15")


def test_a_sell_step_receives_at_least_its_percentage_under_the_bid() -> None:
    # 2.05 x 0.90 = 1.845 -> rounded UP to 1.85
    assert ladder_price(Side.SELL, _quote("2.05", "2.20"), Decimal(10), "SPXW") == Decimal("1.85")


def test_step_zero_is_the_touch() -> None:
    quote = _quote("3.80", "4.00")
    assert ladder_price(Side.BUY, quote, Decimal(0), "SPXW") == Decimal("4.00")
    assert ladder_price(Side.SELL, quote, Decimal(0), "SPXW") == Decimal("3.80")


def test_market_guard_refuses_a_spread_wider_than_configured() -> None:
    assert market_allowed(_quote("3.00", "5.50"), Decimal("2.00"))[0] is False
    assert market_allowed(_quote("3.00", "4.50"), Decimal("2.00"))[0] is True
    assert market_allowed(None, Decimal("2.00"))[0] is False
