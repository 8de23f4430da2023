"""Leg selection on a fixed QQQ chain, with hand-computed expected choices."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from bots.rolling_put_diagonal.selection import (
    NotReady,
    PutChoice,
    nearest_expiry,
    next_trading_day_expiry,
    pick_atm_put,
    pick_long_put,
    put_at_strike,
    spread_problem,
    theoretical_put_delta,
)
from shared.domain import Greeks, OptionContract, PutCall, Quote

TODAY = date(2026, 3, 2)
EXPIRY = date(2026, 3, 16)
NOW = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)


def put(strike: str, expiry: date = EXPIRY, uic: int | None = None) -> OptionContract:
    value = Decimal(strike)
    return OptionContract(uic or int(value * 10), "QQQ", 1, "StockOption", 4328771, expiry,
                          value, PutCall.PUT)


def quote(uic: int, bid: str, ask: str, delta: float | None = None) -> Quote:
    greeks = None if delta is None else Greeks(delta=delta, gamma=None, theta=None, vega=None,
                                              mid_vol=None, theoretical_price=None)
    return Quote(uic=uic, asset_type="StockOption", bid=Decimal(bid), ask=Decimal(ask), mid=None,
                 last=None, updated_at=NOW, greeks=greeks)


def test_theoretical_delta_is_minus_half_at_the_money_and_clamped() -> None:
    assert theoretical_put_delta(Decimal(500), Decimal(500), 14) == pytest.approx(-0.50)
    # 2 % below spot: -0.50 + 2 * 0.025 = -0.45; at 0 DTE: -0.50 + 2 * 0.04 = -0.42
    assert theoretical_put_delta(Decimal(500), Decimal(490), 14) == pytest.approx(-0.45)
    assert theoretical_put_delta(Decimal(500), Decimal(490), 0) == pytest.approx(-0.42)
    assert theoretical_put_delta(Decimal(500), Decimal(300), 14) == -0.05
    assert theoretical_put_delta(Decimal(500), Decimal(700), 14) == -0.95


def test_the_long_put_is_the_one_nearest_the_target_delta() -> None:
    contracts = [put("480"), put("485"), put("490"), put("495")]
    quotes = {
        4800: quote(4800, "3.00", "3.20", -0.25),
        4850: quote(4850, "3.90", "4.10", -0.31),  # |-0.31 - -0.33| = 0.02
        4900: quote(4900, "4.90", "5.10", -0.36),  # 0.03
        4950: quote(4950, "6.00", "6.30", -0.42),
    }

    choice = pick_long_put(contracts, quotes, spot=Decimal(500), today=TODAY, target_delta=-0.33,
                           tolerance=0.05, max_spread_percent=10.0)

    assert isinstance(choice, PutChoice)
    assert choice.contract.strike == Decimal(485) and choice.delta_source == "saxo"


def test_without_greeks_the_theoretical_delta_picks_the_long() -> None:
    # -0.33 needs moneyness -6.8 %: 466 (-6.8 %) gives -0.33; 470 (-6 %) gives -0.35
    contracts = [put("460"), put("466"), put("470")]
    quotes = {c.uic: quote(c.uic, "2.00", "2.10") for c in contracts}

    choice = pick_long_put(contracts, quotes, spot=Decimal(500), today=TODAY, target_delta=-0.33,
                           tolerance=0.05, max_spread_percent=10.0)

    assert isinstance(choice, PutChoice)
    assert choice.contract.strike == Decimal(466) and choice.delta_source == "theoretical"


def test_a_wide_spread_or_no_put_within_the_tolerance_is_not_ready() -> None:
    contracts = [put("485")]
    wide = {4850: quote(4850, "3.00", "4.00", -0.33)}  # 28.6 % of mid
    far = {4850: quote(4850, "3.90", "4.10", -0.10)}

    for quotes in (wide, far):
        assert isinstance(pick_long_put(contracts, quotes, spot=Decimal(500), today=TODAY,
                                        target_delta=-0.33, tolerance=0.05,
                                        max_spread_percent=10.0), NotReady)


def test_the_short_is_the_atm_put_of_the_next_expiry() -> None:
    expiries = [TODAY, date(2026, 3, 3), date(2026, 3, 4), EXPIRY]
    nearest = next_trading_day_expiry(expiries, TODAY)
    contracts = [put("499", nearest), put("500", nearest), put("501", nearest)]
    quotes = {c.uic: quote(c.uic, "1.00", "1.05") for c in contracts}

    atm = pick_atm_put(contracts, quotes, price=Decimal("500.40"), max_spread_percent=10.0)

    assert nearest == date(2026, 3, 3)
    assert isinstance(atm, OptionContract) and atm.strike == Decimal(500)


def test_expiry_nearest_the_target_dte() -> None:
    expiries = [date(2026, 3, 13), date(2026, 3, 16), date(2026, 3, 20)]

    assert nearest_expiry(expiries, TODAY, 14) == date(2026, 3, 16)
    assert nearest_expiry([TODAY], TODAY, 14) is None


def test_the_horizontal_roll_finds_the_same_strike_and_the_spread_gate_names_the_problem() -> None:
    contracts = [put("499.5"), put("500"), put("502")]

    same = put_at_strike(contracts, Decimal("500"))
    near = put_at_strike(contracts, Decimal("499.6"))

    assert same is not None and same.strike == Decimal("500")
    assert near is not None and near.strike == Decimal("499.5")
    assert put_at_strike(contracts, Decimal("501")) is None  # 1.00 from every listed strike
    assert spread_problem(None, 10.0) == "no usable quote"
    assert "above 10%" in (spread_problem(quote(1, "1.00", "1.50"), 10.0) or "")
