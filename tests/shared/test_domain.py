"""Quote validation rules used before trading on a price."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from shared.domain import Quote, quote_problems

NOW = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)


def quote(bid: str | None, ask: str | None, age_s: float | None = 1.0) -> Quote:
    return Quote(
        uic=1,
        asset_type="StockIndexOption",
        bid=Decimal(bid) if bid is not None else None,
        ask=Decimal(ask) if ask is not None else None,
        mid=None,
        last=None,
        updated_at=NOW - timedelta(seconds=age_s) if age_s is not None else None,
    )


def test_positive_uncrossed_recent_quote_is_usable() -> None:
    assert quote_problems(quote("2.40", "2.50"), now=NOW, max_age_s=5) == ()


def test_zero_bid_is_flagged() -> None:
    assert any("bid" in p for p in quote_problems(quote("0", "0.05"), now=NOW, max_age_s=5))


def test_crossed_quote_is_flagged() -> None:
    assert any("crossed" in p for p in quote_problems(quote("2.6", "2.5"), now=NOW, max_age_s=5))


def test_unknown_age_is_flagged() -> None:
    problems = quote_problems(quote("2.4", "2.5", age_s=None), now=NOW, max_age_s=5)

    assert any("age unknown" in p for p in problems)


def test_stale_quote_is_flagged() -> None:
    problems = quote_problems(quote("2.4", "2.5", age_s=30), now=NOW, max_age_s=5)

    assert any("stale" in p for p in problems)


def test_index_price_falls_back_to_last_trade() -> None:
    vix = Quote(1, "StockIndex", None, None, None, Decimal("16.4"), NOW)

    assert vix.price == Decimal("16.4")
