"""Positions and money from fills: USD per position, commissions kept, saved state round trip."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from bots.delta_neutral.book import Ledger, Leg, OptionPair, Straddle, Strangle, keep_filled
from shared.domain import PutCall, Side
from shared.strategy.fills import cash_flow
from shared.strategy_contract import LegFill
from tests.bots.delta_neutral.factory import NOW, quote

LONG_EXPIRY = date(2026, 10, 16)
SHORT_EXPIRY = date(2026, 6, 12)


def fill(uic: int, side: Side, price: str, qty: int = 2, commission: str = "1.30") -> LegFill:
    return LegFill("leg", uic, side, qty, Decimal(price), Decimal(commission), NOW)


def straddle() -> Straddle:
    return Straddle(
        Leg(11, Decimal(600), PutCall.CALL, LONG_EXPIRY, 2),
        Leg(12, Decimal(600), PutCall.PUT, LONG_EXPIRY, 2),
    )


def strangle() -> Strangle:
    return Strangle(
        Leg(21, Decimal(612), PutCall.CALL, SHORT_EXPIRY, 2),
        Leg(22, Decimal(590), PutCall.PUT, SHORT_EXPIRY, 2),
    )


def test_straddle_cost_is_fills_times_100_times_contracts() -> None:
    bought = straddle().with_fills([fill(11, Side.BUY, "12.05"), fill(12, Side.BUY, "11.48")])
    assert bought.cost_usd == Decimal("4706.00")  # (12.05 + 11.48) x 100 x 2
    assert bought.cash.commission_usd == Decimal("2.60")
    assert bought.cash.net_usd == Decimal("-4708.60")


def test_strangle_premium_and_a_round_trip_net_of_commissions() -> None:
    sold = strangle().with_fills([fill(21, Side.SELL, "0.38"), fill(22, Side.SELL, "0.71")])
    assert sold.premium_usd == Decimal("218.00")
    closed = sold.cash + cash_flow([fill(21, Side.BUY, "0.05"), fill(22, Side.BUY, "0.10")])
    assert closed.net_usd == Decimal("218.00") - Decimal("30.00") - Decimal("5.20")


def test_close_cost_estimate_uses_the_asks_and_refuses_a_missing_one() -> None:
    quotes = {21: quote(21, "0.20", "0.22"), 22: quote(22, "0.30", "0.33")}
    assert strangle().close_cost_estimate_usd(quotes) == Decimal("110.00")
    del quotes[22]
    assert strangle().close_cost_estimate_usd(quotes) is None


def test_orders_close_by_the_opposite_side_in_role_names() -> None:
    legs = strangle().close_legs()
    assert [(s.leg, s.side, s.quantity) for s in legs] == [
        ("short_call", Side.BUY, 2),
        ("short_put", Side.BUY, 2),
    ]
    assert {s.asset_type for s in straddle().entry_legs()} == {"StockOption"}


def test_partial_fill_keeps_only_the_filled_leg() -> None:
    call, put = keep_filled(straddle(), [fill(12, Side.BUY, "11.48")])
    assert call is None and put is not None and put.uic == 12


def test_pricing_a_candidate_never_changes_the_held_pair() -> None:
    held = strangle()
    held.with_fills([fill(21, Side.SELL, "9.99")])
    held.without(21)
    assert held == strangle()


def test_saved_state_round_trip() -> None:
    pair = straddle().with_fills([fill(11, Side.BUY, "12.05")]).without(12)
    assert Straddle.from_json(pair.to_json(), "straddle") == pair
    ledger = Ledger(Decimal("-12.40"), Decimal("88.10"), recenters=2, rolls=3)
    assert Ledger.from_json(ledger.to_json()) == ledger


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda d: d["call"].update(strike="x"), "straddle.call.strike: not a number"),
        (lambda d: d["put"].update(expiry=20261016), "straddle.put.expiry: expected an ISO"),
        (lambda d: d.update(call=None, put=None), "neither a call nor a put"),
    ],
)
def test_corrupt_saved_state_names_the_field(
    mutate: Callable[[dict[str, Any]], None], message: str
) -> None:
    data = straddle().to_json()
    mutate(data)
    with pytest.raises(ValueError, match=message):
        OptionPair.from_json(data, "straddle")
