"""Option math against vollib (independent oracle), textbook values, and rounding edge cases."""

from __future__ import annotations

import itertools
import math
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from vollib.black_scholes_merton import black_scholes_merton
from vollib.black_scholes_merton.greeks import analytical

from shared import options_math as om

NEW_YORK = ZoneInfo("America/New_York")
FLAG = {"call": "c", "put": "p"}


def oracle(right: om.Right, s: float, k: float, t: float, r: float, vol: float, q: float) -> dict:
    """vollib's price and greeks in its own units: theta per calendar day, vega per vol point."""
    args = (FLAG[right], s, k, t, r, vol, q)
    return {
        "price": black_scholes_merton(*args),
        "delta": analytical.delta(*args),
        "gamma": analytical.gamma(*args),
        "theta_per_day": analytical.theta(*args),
        "vega_per_point": analytical.vega(*args),
    }


def assert_greeks_match(greeks: om.Greeks, expected: dict) -> None:
    for field, value in expected.items():
        assert getattr(greeks, field) == pytest.approx(value, rel=1e-6, abs=1e-9), field


# --------------------------------------------------------------------------- price and greeks

GRID = list(
    itertools.product(
        ["call", "put"],
        [5900.0, 6000.0, 6100.0],  # strikes around spot 6000
        [1.0 / (365 * 24), 7 / 365, 0.5],  # one hour, one week, six months
        [0.08, 0.18, 0.6],
        [0.0, 0.045],
        [0.0, 0.013],
    )
)


@pytest.mark.parametrize(("right", "strike", "years", "vol", "rate", "q"), GRID)
def test_price_and_greeks_match_vollib_on_grid(
    right: om.Right, strike: float, years: float, vol: float, rate: float, q: float
) -> None:
    greeks = om.bs_greeks(6000.0, strike, years, vol, rate, right, q)
    assert_greeks_match(greeks, oracle(right, 6000.0, strike, years, rate, vol, q))
    assert om.bs_price(6000.0, strike, years, vol, rate, right, q) == greeks.price


@settings(derandomize=True, database=None, max_examples=150, deadline=None)
@given(
    right=st.sampled_from(["call", "put"]),
    spot=st.floats(10.0, 10_000.0),
    moneyness=st.floats(0.7, 1.3),
    years=st.floats(1e-4, 3.0),
    vol=st.floats(0.03, 2.0),
    rate=st.floats(-0.01, 0.1),
    q=st.floats(0.0, 0.05),
)
def test_price_and_greeks_match_vollib_property(
    right: om.Right, spot: float, moneyness: float, years: float, vol: float, rate: float, q: float
) -> None:
    strike = spot * moneyness
    greeks = om.bs_greeks(spot, strike, years, vol, rate, right, q)
    expected = oracle(right, spot, strike, years, rate, vol, q)
    for field, value in expected.items():
        # Absolute floor relative to spot: both sides lose digits on prices near 1e-12 * spot.
        assert getattr(greeks, field) == pytest.approx(value, rel=1e-6, abs=1e-9 * spot), field


def test_textbook_values_hull() -> None:
    # Hull, Options Futures and Other Derivatives, example 15.6: S 42, K 40, r 10 %, vol 20 %,
    # 6 months -> call 4.76, put 0.81.
    assert om.bs_price(42, 40, 0.5, 0.2, 0.1, "call") == pytest.approx(4.76, abs=0.005)
    assert om.bs_price(42, 40, 0.5, 0.2, 0.1, "put") == pytest.approx(0.81, abs=0.005)


@settings(derandomize=True, database=None, max_examples=80, deadline=None)
@given(
    strike=st.floats(3000.0, 9000.0),
    years=st.floats(0.0, 2.0),
    vol=st.floats(0.01, 1.5),
    rate=st.floats(0.0, 0.08),
    q=st.floats(0.0, 0.04),
)
def test_put_call_parity(strike: float, years: float, vol: float, rate: float, q: float) -> None:
    spot = 6000.0
    call = om.bs_price(spot, strike, years, vol, rate, "call", q)
    put = om.bs_price(spot, strike, years, vol, rate, "put", q)
    forward_value = spot * math.exp(-q * years) - strike * math.exp(-rate * years)
    assert call - put == pytest.approx(forward_value, abs=1e-8 * spot)


def test_theta_is_per_calendar_day_and_vega_per_vol_point() -> None:
    # Finite differences, independent of the closed forms: one day less, one vol point more.
    base = om.bs_greeks(6000, 6000, 30 / 365, 0.2, 0.0, "call")
    one_day_later = om.bs_price(6000, 6000, 29 / 365, 0.2, 0.0, "call")
    one_point_up = om.bs_price(6000, 6000, 30 / 365, 0.21, 0.0, "call")
    assert base.theta_per_day == pytest.approx(one_day_later - base.price, rel=0.02)
    assert base.vega_per_point == pytest.approx(one_point_up - base.price, rel=0.02)


@pytest.mark.parametrize(
    ("right", "strike", "price", "delta"),
    [
        ("call", 5900.0, 100.0, 1.0),
        ("call", 6100.0, 0.0, 0.0),
        ("call", 6000.0, 0.0, 0.5),
        ("put", 6100.0, 100.0, -1.0),
        ("put", 5900.0, 0.0, 0.0),
        ("put", 6000.0, 0.0, -0.5),
    ],
)
def test_expired_option_is_intrinsic_with_flat_greeks(
    right: om.Right, strike: float, price: float, delta: float
) -> None:
    greeks = om.bs_greeks(6000.0, strike, 0.0, 0.2, 0.04, right)
    assert greeks == om.Greeks(
        price=price, delta=delta, gamma=0.0, theta_per_day=0.0, vega_per_point=0.0
    )


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"spot": 0.0}, "spot"),
        ({"spot": -1.0}, "spot"),
        ({"strike": 0.0}, "strike"),
        ({"years": -0.001}, "years"),
        ({"vol": 0.0}, "vol"),
        ({"vol": math.nan}, "vol"),
        ({"rate": math.inf}, "rate"),
        ({"right": "c"}, "right"),
        ({"dividend_yield": math.nan}, "dividend_yield"),
    ],
)
def test_invalid_inputs_raise_naming_the_parameter(kwargs: dict[str, Any], name: str) -> None:
    args: dict[str, Any] = {"spot": 6000.0, "strike": 6000.0, "years": 0.1, "vol": 0.2}
    args |= {"rate": 0.04, "right": "call", **kwargs}
    with pytest.raises(ValueError, match=name):
        om.bs_price(**args)
    with pytest.raises(ValueError, match=name):
        om.bs_greeks(**args)


# --------------------------------------------------------------------------- implied vol


# Where a vol point moves the price by less than 1e-6, the price does not pin the vol down.
IV_GRID = [
    case
    for case in GRID
    if analytical.vega(FLAG[case[0]], 6000.0, case[1], case[2], case[4], case[3], case[5]) > 1e-6
]


@pytest.mark.parametrize(("right", "strike", "years", "vol", "rate", "q"), IV_GRID)
def test_implied_vol_round_trips_on_grid(
    right: om.Right, strike: float, years: float, vol: float, rate: float, q: float
) -> None:
    price = om.bs_price(6000.0, strike, years, vol, rate, right, q)
    assert om.implied_vol(price, 6000.0, strike, years, rate, right, q) == pytest.approx(
        vol, abs=1e-7
    )


@settings(derandomize=True, database=None, max_examples=150, deadline=None)
@given(
    right=st.sampled_from(["call", "put"]),
    moneyness=st.floats(0.8, 1.2),
    years=st.floats(1e-4, 2.0),
    vol=st.floats(0.05, 3.0),
    rate=st.floats(0.0, 0.08),
    q=st.floats(0.0, 0.04),
)
def test_implied_vol_round_trips_property(
    right: om.Right, moneyness: float, years: float, vol: float, rate: float, q: float
) -> None:
    strike = 6000.0 * moneyness
    greeks = om.bs_greeks(6000.0, strike, years, vol, rate, right, q)
    # Where a vol point moves the price by less than ~1e-5 of it, doubles cannot pin the vol.
    assume(greeks.vega_per_point > 1e-5 * max(greeks.price, 1e-3))
    assume(greeks.price > 1e-6)
    implied = om.implied_vol(greeks.price, 6000.0, strike, years, rate, right, q)
    assert implied == pytest.approx(vol, rel=1e-6)


def test_implied_vol_agrees_with_vollib_on_an_spx_put() -> None:
    from vollib.black_scholes_merton.implied_volatility import implied_volatility

    price = 21.0
    expected = implied_volatility(price, 6000.0, 5900.0, 7 / 365, 0.04, 0.0, "p")
    assert om.implied_vol(price, 6000.0, 5900.0, 7 / 365, 0.04, "put") == pytest.approx(
        expected, rel=1e-8
    )


@pytest.mark.parametrize(
    ("price", "right", "strike", "message"),
    [
        (99.0, "call", 5900.0, "below the discounted intrinsic"),  # intrinsic ~ 100 + carry
        (6000.0, "call", 5900.0, "upper bound"),  # a call cannot cost the spot
        (5901.0, "put", 5900.0, "upper bound"),  # nor a put the strike
        (-0.5, "put", 5900.0, "below the discounted intrinsic"),
        (5999.0, "call", 100.0, "vol"),  # only an absurd vol gets near the bound
    ],
)
def test_implied_vol_rejects_prices_outside_bounds(
    price: float, right: om.Right, strike: float, message: str
) -> None:
    with pytest.raises(om.ImpliedVolError, match=message):
        om.implied_vol(price, 6000.0, strike, 30 / 365, 0.0, right)


def test_implied_vol_of_a_price_at_intrinsic_raises() -> None:
    # Every small vol reproduces a deep ITM price of exactly intrinsic: there is no answer.
    with pytest.raises(om.ImpliedVolError, match="no time value"):
        om.implied_vol(100.0, 6000.0, 5900.0, 1 / 365, 0.0, "call")


def test_implied_vol_below_the_bracket_raises() -> None:
    # ATM, one day: vol 1e-6 is already worth ~1.3e-4, so 1e-5 implies a vol below the bracket.
    with pytest.raises(om.ImpliedVolError, match="below 1e-06"):
        om.implied_vol(1e-5, 6000.0, 6000.0, 1 / 365, 0.0, "call")


def test_implied_vol_error_is_a_value_error() -> None:
    assert issubclass(om.ImpliedVolError, ValueError)


def test_implied_vol_of_expired_option_raises() -> None:
    with pytest.raises(om.ImpliedVolError, match="years must be > 0"):
        om.implied_vol(10.0, 6000.0, 6000.0, 0.0, 0.0, "call")


@pytest.mark.parametrize("bad", [math.nan, math.inf])
def test_implied_vol_rejects_non_finite_price(bad: float) -> None:
    with pytest.raises(om.ImpliedVolError, match="price must be finite"):
        om.implied_vol(bad, 6000.0, 6000.0, 0.1, 0.0, "call")


def test_implied_vol_raises_instead_of_returning_unconverged_value() -> None:
    price = om.bs_price(6000.0, 6300.0, 30 / 365, 0.9, 0.0, "call")
    with pytest.raises(om.ImpliedVolError, match="did not converge in 2 iterations"):
        om.implied_vol(price, 6000.0, 6300.0, 30 / 365, 0.0, "call", max_iter=2)


# --------------------------------------------------------------------------- expected move


def test_expected_move_from_straddle_is_the_full_straddle() -> None:
    assert om.expected_move_from_straddle(12.5, 11.0) == 23.5


@pytest.mark.parametrize(("call_mid", "put_mid"), [(0.0, 0.0), (-1.0, 5.0), (math.nan, 5.0)])
def test_expected_move_from_straddle_rejects_bad_quotes(call_mid: float, put_mid: float) -> None:
    with pytest.raises(ValueError):
        om.expected_move_from_straddle(call_mid, put_mid)


def test_expected_move_from_straddle_tracks_black_scholes_mean_absolute_move() -> None:
    # Independent check of the convention: at the money, zero rates, E|S_T - S| ~= straddle
    # (both are ~0.8 * S * vol * sqrt(t) for small vol * sqrt(t)).
    call = om.bs_price(6000, 6000, 1 / 365, 0.16, 0.0, "call")
    put = om.bs_price(6000, 6000, 1 / 365, 0.16, 0.0, "put")
    mean_abs_move = math.sqrt(2 / math.pi) * 6000 * 0.16 * math.sqrt(1 / 365)
    assert om.expected_move_from_straddle(call, put) == pytest.approx(mean_abs_move, rel=1e-3)


def test_expected_move_from_vix_over_a_year_is_vix_percent_of_spot() -> None:
    assert om.expected_move_from_vix(6000.0, 16.0, 252) == pytest.approx(960.0)


def test_expected_move_from_vix_scales_with_square_root_of_days() -> None:
    one_day = om.expected_move_from_vix(6000.0, 16.0, 1)
    assert om.expected_move_from_vix(6000.0, 16.0, 4) == pytest.approx(2 * one_day)


@pytest.mark.parametrize(
    ("spot", "vix", "days"), [(0.0, 16.0, 1), (6000.0, 0.0, 1), (6000.0, 16.0, -1)]
)
def test_expected_move_from_vix_rejects_bad_inputs(spot: float, vix: float, days: float) -> None:
    with pytest.raises(ValueError):
        om.expected_move_from_vix(spot, vix, days)


# --------------------------------------------------------------------------- time to expiry


def test_years_to_expiry_on_0dte_counts_minutes_to_close() -> None:
    close = datetime(2026, 3, 20, 16, 15, tzinfo=NEW_YORK)
    now = close - timedelta(minutes=90)
    assert om.years_to_expiry(now, close) == pytest.approx(90 / (365 * 24 * 60), rel=1e-12)


def test_years_to_expiry_mixes_time_zones_by_instant() -> None:
    close = datetime(2026, 3, 20, 16, 15, tzinfo=NEW_YORK)  # EDT: 20:15 UTC
    now = datetime(2026, 3, 19, 20, 15, tzinfo=UTC)
    assert om.years_to_expiry(now, close) == pytest.approx(1 / 365, rel=1e-12)


def test_years_to_expiry_floors_at_zero_after_the_close() -> None:
    close = datetime(2026, 3, 20, 20, 15, tzinfo=UTC)
    assert om.years_to_expiry(close + timedelta(seconds=1), close) == 0.0


def test_years_to_expiry_rejects_naive_datetimes() -> None:
    with pytest.raises(ValueError, match="now must be timezone-aware"):
        om.years_to_expiry(datetime(2026, 3, 20, 10, 0), datetime(2026, 3, 20, 20, 15, tzinfo=UTC))


# --------------------------------------------------------------------------- strikes


@pytest.mark.parametrize(
    ("root", "increment"),
    [("SPX", "5"), ("SPXW", "5"), ("spxw", "5"), ("SPY", "1"), ("QQQ", "1")],
)
def test_strike_increment(root: str, increment: str) -> None:
    assert om.strike_increment(root) == Decimal(increment)


@pytest.mark.parametrize("root", ["IWM", "", "SPX "])
def test_unknown_root_is_rejected(root: str) -> None:
    with pytest.raises(ValueError, match="unknown option root"):
        om.strike_increment(root)


@pytest.mark.parametrize(
    ("root", "price", "mode", "expected"),
    [
        ("SPX", 5902.4, "nearest", "5900"),
        ("SPX", 5902.5, "nearest", "5905"),  # halves go up
        ("SPX", 5900.1, "up", "5905"),
        ("SPX", 5904.9, "down", "5900"),
        ("SPX", 5900.0, "up", "5900"),
        ("SPY", Decimal("512.49"), "nearest", "512"),
        ("QQQ", 430.0000000000001, "down", "430"),
        ("QQQ", 429.99999999999994, "up", "430"),  # float noise does not add a strike
    ],
)
def test_round_strike(root: str, price: float, mode: om.RoundMode, expected: str) -> None:
    result = om.round_strike(root, price, mode)
    assert result == Decimal(expected)
    assert str(result) == expected


@pytest.mark.parametrize(
    ("root", "price", "expected"),
    [
        ("SPX", 5900.0, "5905"),  # exactly on a strike -> the next one up
        ("SPX", Decimal("5900"), "5905"),
        ("SPX", 5900.01, "5905"),
        ("SPX", 5904.99, "5905"),
        ("SPY", 512.0, "513"),
        ("SPY", 512.3, "513"),
    ],
)
def test_first_strike_above_is_strictly_above(root: str, price: float, expected: str) -> None:
    assert om.first_strike_above(root, price) == Decimal(expected)


@pytest.mark.parametrize("price", [0.0, -5.0, math.nan, math.inf, Decimal("NaN")])
def test_strike_rounding_rejects_bad_prices(price: float) -> None:
    with pytest.raises(ValueError, match="price"):
        om.round_strike("SPX", price)


def test_strike_rounding_rejects_unknown_mode() -> None:
    with pytest.raises(ValueError, match="mode"):
        om.round_strike("SPX", 5900.0, "closest")  # type: ignore[arg-type]


# --------------------------------------------------------------------------- ticks


@pytest.mark.parametrize(
    ("root", "price", "tick"),
    [
        ("SPX", 0.0, "0.05"),
        ("SPX", 2.95, "0.05"),
        ("SPXW", Decimal("2.99"), "0.05"),
        ("SPXW", 3.0, "0.10"),
        ("SPX", 12.4, "0.10"),
        ("SPY", 0.5, "0.01"),
        ("QQQ", 7.5, "0.01"),
    ],
)
def test_tick_size(root: str, price: float, tick: str) -> None:
    assert om.tick_size(root, price) == Decimal(tick)


def test_tick_size_rejects_negative_price() -> None:
    with pytest.raises(ValueError, match="price must be >= 0"):
        om.tick_size("SPX", -0.05)


@pytest.mark.parametrize(
    ("root", "price", "mode", "expected"),
    [
        ("SPX", 2.5500000000000003, "up", "2.55"),  # float noise must not cost a tick
        ("SPX", 2.5500000000000003, "nearest", "2.55"),
        ("SPX", Decimal.from_float(2.55), "down", "2.55"),  # 2.54999999999999982...
        ("SPX", 2.57, "nearest", "2.55"),
        ("SPX", 2.575, "nearest", "2.60"),  # halves go up
        ("SPX", 2.98, "up", "3.00"),
        ("SPX", 2.98, "down", "2.95"),
        ("SPX", 2.99, "nearest", "3.00"),
        ("SPX", 3.0, "up", "3.00"),
        ("SPX", 3.01, "up", "3.10"),
        ("SPX", 3.04, "down", "3.00"),
        ("SPX", 3.04, "nearest", "3.00"),
        ("SPX", 3.05, "nearest", "3.10"),
        ("SPX", 0.01, "down", "0.00"),
        ("SPY", 1.234, "nearest", "1.23"),
        ("SPY", 1.231, "up", "1.24"),
        ("QQQ", 0.30000000000000004, "up", "0.30"),
    ],
)
def test_round_to_tick(root: str, price: float, mode: om.RoundMode, expected: str) -> None:
    result = om.round_to_tick(root, price, mode)
    assert str(result) == expected


@pytest.mark.parametrize(
    ("root", "price", "on_tick"),
    [
        ("SPX", "2.95", True),
        ("SPX", "2.97", False),
        ("SPX", "3.00", True),
        ("SPX", "3.05", False),  # 0.05 steps stop at 3.00
        ("SPX", "3.10", True),
        ("SPX", "2.5500000000000003", False),  # exactly what the broker would receive
        ("SPY", "1.23", True),
        ("SPY", "1.235", False),
        ("SPY", "0", True),
    ],
)
def test_is_on_tick(root: str, price: str, on_tick: bool) -> None:
    assert om.is_on_tick(root, Decimal(price)) is on_tick


def test_is_on_tick_refuses_floats() -> None:
    with pytest.raises(TypeError, match="Decimal"):
        om.is_on_tick("SPX", 2.55)  # type: ignore[arg-type]


@settings(derandomize=True, database=None, max_examples=200, deadline=None)
@given(
    root=st.sampled_from(["SPX", "SPXW", "SPY", "QQQ"]),
    price=st.decimals(min_value=0, max_value=200, places=4),
    mode=st.sampled_from(["nearest", "up", "down"]),
)
def test_round_to_tick_always_lands_on_a_tick_in_the_right_direction(
    root: str, price: Decimal, mode: om.RoundMode
) -> None:
    result = om.round_to_tick(root, price, mode)
    assert om.is_on_tick(root, result)
    if mode == "up":
        assert result >= price
    elif mode == "down":
        assert result <= price
    assert abs(result - price) <= om.tick_size(root, max(result, price))
