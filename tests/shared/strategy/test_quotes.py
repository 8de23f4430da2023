"""The one usable-quote rule (shared.strategy.quotes) that entries, stops and P&L marks use."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from shared.domain import Quote
from shared.strategy.quotes import quote_problems, usable_price, usable_quote
from shared.strategy_contract import CalendarFacts, Snapshot

NOW = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)
MAX_AGE_S = 5.0


def quote(bid: str | None, ask: str | None, age_s: float | None = 1.0, *,
          delayed: int = 0) -> Quote:
    return Quote(
        uic=1,
        asset_type="StockIndexOption",
        bid=Decimal(bid) if bid is not None else None,
        ask=Decimal(ask) if ask is not None else None,
        mid=None,
        last=None,
        updated_at=NOW - timedelta(seconds=age_s) if age_s is not None else None,
        delayed_minutes=delayed,
    )


def problems(q: Quote) -> tuple[str, ...]:
    return quote_problems(q, q.age_seconds(NOW), MAX_AGE_S)


def test_positive_uncrossed_recent_quote_is_usable() -> None:
    assert problems(quote("2.40", "2.50")) == ()


def test_zero_bid_of_a_worthless_wing_is_usable() -> None:
    # A far wing quoted 0/0.05 is a real market; marking the long at 0 is conservative.
    assert problems(quote("0", "0.05")) == ()


@pytest.mark.parametrize(
    ("q", "needle"),
    [
        (quote("-0.05", "0.05"), "bid negative"),
        (quote("0", "0"), "ask not positive"),
        (quote("2.6", "2.5"), "crossed"),
        (quote(None, "2.5"), "not two-sided"),
        (quote("2.4", "2.5", age_s=None), "age unknown"),
        (quote("2.4", "2.5", age_s=30), "stale"),
        (quote("2.4", "2.5", delayed=15), "delayed by 15 min"),
    ],
    ids=["negative-bid", "zero-ask", "crossed", "one-sided", "age-unknown", "stale", "delayed"],
)
def test_each_problem_is_named(q: Quote, needle: str) -> None:
    found = problems(q)

    assert any(needle in p for p in found), found
    assert not usable_quote(q, q.age_seconds(NOW), MAX_AGE_S)


def _snapshot(q: Quote) -> Snapshot:
    facts = CalendarFacts(day=NOW.date(), session=None, fomc_day=False,
                          fomc_decision_day=False, economic_release_day=False)
    return Snapshot(now=NOW, calendar=facts, quotes={q.uic: q}, quote_ages_s={}, vix=None,
                    positions=())


def test_index_price_is_usable_when_fresh_and_real_time() -> None:
    index = Quote(1, "StockIndex", None, None, None, Decimal("16.4"), NOW)

    assert usable_price(_snapshot(index), 1, MAX_AGE_S) == Decimal("16.4")


@pytest.mark.parametrize(
    "index",
    [
        Quote(1, "StockIndex", None, None, None, Decimal("16.4"), NOW, delayed_minutes=15),
        Quote(1, "StockIndex", None, None, None, Decimal("16.4"), None),
        Quote(1, "StockIndex", None, None, None, Decimal("16.4"), NOW - timedelta(seconds=9)),
        Quote(1, "StockIndex", None, None, None, None, NOW),
    ],
    ids=["delayed", "age-unknown", "stale", "unpriced"],
)
def test_index_price_is_refused(index: Quote) -> None:
    assert usable_price(_snapshot(index), 1, MAX_AGE_S) is None
