"""Option math: Black-Scholes-Merton price, greeks, implied vol, expected move, strikes and ticks.

Pure functions, stdlib only (math.erfc for the normal CDF). Units: prices in the option's quote
currency per share, rates and vols as annual decimals (0.04 = 4 %), time in years (ACT/365).
Strike and tick helpers work in Decimal, the type sent to the broker.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_CEILING, ROUND_FLOOR, ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Literal

__all__ = [
    "Greeks",
    "ImpliedVolError",
    "Right",
    "bs_greeks",
    "bs_price",
    "expected_move_from_straddle",
    "expected_move_from_vix",
    "first_strike_above",
    "implied_vol",
    "is_on_tick",
    "round_strike",
    "round_to_tick",
    "strike_increment",
    "tick_size",
    "years_to_expiry",
]

Right = Literal["call", "put"]
RoundMode = Literal["nearest", "up", "down"]

SECONDS_PER_YEAR = 365 * 24 * 3600  # ACT/365
TRADING_DAYS_PER_YEAR = 252
IV_MIN = 1e-6
IV_MAX = 5.0

_SQRT2 = math.sqrt(2.0)
_SQRT2PI = math.sqrt(2.0 * math.pi)


# --------------------------------------------------------------------------- validation


def _finite(name: str, value: float) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"{name} must be a number, got {type(value).__name__}")
    if not math.isfinite(value):
        raise ValueError(f"{name} must be finite, got {value!r}")
    return float(value)


def _positive(name: str, value: float) -> float:
    number = _finite(name, value)
    if number <= 0:
        raise ValueError(f"{name} must be > 0, got {value!r}")
    return number


def _non_negative(name: str, value: float) -> float:
    number = _finite(name, value)
    if number < 0:
        raise ValueError(f"{name} must be >= 0, got {value!r}")
    return number


def _check_right(right: str) -> Right:
    if right == "call":
        return "call"
    if right == "put":
        return "put"
    raise ValueError(f"right must be 'call' or 'put', got {right!r}")


# --------------------------------------------------------------------------- Black-Scholes


def _norm_cdf(x: float) -> float:
    # erfc keeps precision in the lower tail, where 1 + erf(x) would cancel to zero.
    return 0.5 * math.erfc(-x / _SQRT2)


def _norm_pdf(x: float) -> float:
    return math.exp(-0.5 * x * x) / _SQRT2PI


@dataclass(frozen=True)
class Greeks:
    """Price and sensitivities of one option (per share, like the price).

    delta: d price / d spot; gamma: d delta / d spot; theta_per_day: price change per CALENDAR
    day (annual theta / 365), negative for a long option that loses time value;
    vega_per_point: price change per one volatility point (0.01 of vol).
    """

    price: float
    delta: float
    gamma: float
    theta_per_day: float
    vega_per_point: float


def _d1_d2(
    spot: float, strike: float, years: float, vol: float, rate: float, q: float
) -> tuple[float, float]:
    vol_sqrt_t = vol * math.sqrt(years)
    d1 = (math.log(spot / strike) + (rate - q + 0.5 * vol * vol) * years) / vol_sqrt_t
    return d1, d1 - vol_sqrt_t


def _validated(
    spot: float, strike: float, years: float, vol: float, rate: float, right: str, q: float
) -> tuple[float, float, float, float, float, Right, float]:
    return (
        _positive("spot", spot),
        _positive("strike", strike),
        _non_negative("years", years),
        _positive("vol", vol),
        _finite("rate", rate),
        _check_right(right),
        _finite("dividend_yield", q),
    )


def _price(
    spot: float, strike: float, years: float, vol: float, rate: float, right: Right, q: float
) -> float:
    if years == 0:
        return max(spot - strike, 0.0) if right == "call" else max(strike - spot, 0.0)
    d1, d2 = _d1_d2(spot, strike, years, vol, rate, q)
    spot_disc = spot * math.exp(-q * years)
    strike_disc = strike * math.exp(-rate * years)
    if right == "call":
        return spot_disc * _norm_cdf(d1) - strike_disc * _norm_cdf(d2)
    return strike_disc * _norm_cdf(-d2) - spot_disc * _norm_cdf(-d1)


def bs_price(
    spot: float,
    strike: float,
    years: float,
    vol: float,
    rate: float,
    right: Right,
    dividend_yield: float = 0.0,
) -> float:
    """Black-Scholes-Merton price of a European option (continuous rate and dividend yield).

    years == 0 returns the intrinsic value. Raises ValueError for spot, strike or vol <= 0,
    years < 0, non-finite numbers or a right other than "call"/"put".
    """
    args = _validated(spot, strike, years, vol, rate, right, dividend_yield)
    return _price(*args)


def bs_greeks(
    spot: float,
    strike: float,
    years: float,
    vol: float,
    rate: float,
    right: Right,
    dividend_yield: float = 0.0,
) -> Greeks:
    """Price and analytical greeks (units in `Greeks`). Validation as in `bs_price`.

    At years == 0 the option is its intrinsic value: delta is +1/-1 in the money, 0 out of the
    money and +0.5/-0.5 exactly at the strike (the t -> 0 limit); gamma, theta and vega are 0.
    """
    s, k, t, vol, r, right, q = _validated(spot, strike, years, vol, rate, right, dividend_yield)
    price = _price(s, k, t, vol, r, right, q)
    sign = 1.0 if right == "call" else -1.0
    if t == 0:
        moneyness = s - k if right == "call" else k - s
        delta = sign * (1.0 if moneyness > 0 else 0.5 if moneyness == 0 else 0.0)
        return Greeks(price=price, delta=delta, gamma=0.0, theta_per_day=0.0, vega_per_point=0.0)
    d1, d2 = _d1_d2(s, k, t, vol, r, q)
    spot_disc = s * math.exp(-q * t)
    strike_disc = k * math.exp(-r * t)
    sqrt_t = math.sqrt(t)
    pdf_d1 = _norm_pdf(d1)
    delta = sign * math.exp(-q * t) * _norm_cdf(sign * d1)
    gamma = math.exp(-q * t) * pdf_d1 / (s * vol * sqrt_t)
    theta_annual = (
        -spot_disc * pdf_d1 * vol / (2.0 * sqrt_t)
        - sign * r * strike_disc * _norm_cdf(sign * d2)
        + sign * q * spot_disc * _norm_cdf(sign * d1)
    )
    vega = spot_disc * pdf_d1 * sqrt_t
    return Greeks(
        price=price,
        delta=delta,
        gamma=gamma,
        theta_per_day=theta_annual / 365.0,
        vega_per_point=vega * 0.01,
    )


# --------------------------------------------------------------------------- implied vol


class ImpliedVolError(ValueError):
    """No implied vol in [1e-6, 5.0] reproduces the price, or the inputs are invalid."""


def implied_vol(
    price: float,
    spot: float,
    strike: float,
    years: float,
    rate: float,
    right: Right,
    dividend_yield: float = 0.0,
    *,
    tol: float = 1e-10,
    max_iter: int = 200,
) -> float:
    """Black-Scholes-Merton implied volatility (annual decimal) of an option price.

    Newton's method on vol, kept inside a bisection bracket that starts at [1e-6, 5.0]; converged
    when a step or the bracket width is below `tol` (vol units) or the price matches exactly.
    Raises ImpliedVolError (a ValueError) for invalid inputs, years == 0, a price outside the
    no-arbitrage bounds (at or below the discounted intrinsic value, where no vol is implied, or
    at/above the discounted spot for a call, discounted strike for a put), a price outside what
    vols 1e-6..5.0 can produce (including one that vol 1e-6 already reaches),
    or no convergence within `max_iter` iterations. Never returns an unconverged value.
    """
    try:
        p = _finite("price", price)
        s, k, t, _, r, right, q = _validated(spot, strike, years, 1.0, rate, right, dividend_yield)
        tol = _positive("tol", tol)
    except ValueError as exc:
        raise ImpliedVolError(str(exc)) from exc
    if isinstance(max_iter, bool) or not isinstance(max_iter, int) or max_iter < 1:
        raise ImpliedVolError(f"max_iter must be an integer >= 1, got {max_iter!r}")
    if t == 0:
        raise ImpliedVolError("years must be > 0 to imply a vol (the option has expired)")

    spot_disc = s * math.exp(-q * t)
    strike_disc = k * math.exp(-r * t)
    if right == "call":
        lower, upper = max(spot_disc - strike_disc, 0.0), spot_disc
    else:
        lower, upper = max(strike_disc - spot_disc, 0.0), strike_disc
    if p <= lower:
        raise ImpliedVolError(
            f"price {p!r} is at or below the discounted intrinsic value {lower!r} (no time value)"
        )
    if p >= upper:
        raise ImpliedVolError(f"price {p!r} is at or above the no-arbitrage upper bound {upper!r}")

    lo, hi = IV_MIN, IV_MAX
    if p <= _price(s, k, t, lo, r, right, q):
        raise ImpliedVolError(f"price {p!r} implies a vol below {IV_MIN} (too little time value)")
    if p > _price(s, k, t, hi, r, right, q):
        raise ImpliedVolError(f"price {p!r} implies a vol above {IV_MAX}")

    # Start at the inflection point of price(vol), sqrt(2 |ln(F/K)| / t), where Newton
    # converges without overshooting; the bracket catches anything else.
    log_moneyness = abs(math.log(s / k) + (r - q) * t)
    vol = min(max(math.sqrt(2.0 * log_moneyness / t), 0.2), IV_MAX)
    for _ in range(max_iter):
        diff = _price(s, k, t, vol, r, right, q) - p
        if diff == 0:
            return vol
        if diff > 0:
            hi = vol
        else:
            lo = vol
        d1, _ = _d1_d2(s, k, t, vol, r, q)
        vega = spot_disc * _norm_pdf(d1) * math.sqrt(t)
        step = diff / vega if vega > 0 else math.inf
        candidate = vol - step
        if not lo < candidate < hi:
            candidate = 0.5 * (lo + hi)
        if abs(candidate - vol) <= tol or hi - lo <= tol:
            return candidate
        vol = candidate
    raise ImpliedVolError(f"implied vol did not converge in {max_iter} iterations (price {p!r})")


# --------------------------------------------------------------------------- expected move


def expected_move_from_straddle(call_mid: float, put_mid: float) -> float:
    """Expected move (price points) = the full ATM straddle price, call mid + put mid.

    Convention: the whole straddle, no 0.85 haircut. That is the market's expected absolute move
    to expiry (under Black-Scholes, E|S_T - S| ~= straddle) and the Iron Fly's wing-width rule;
    callers wanting a 1-sigma move or a haircut scale it themselves. Raises ValueError for
    negative or non-finite mids, or a zero straddle (no usable quotes).
    """
    total = _non_negative("call_mid", call_mid) + _non_negative("put_mid", put_mid)
    if total == 0:
        raise ValueError("straddle price is 0: no usable call/put mid quotes")
    return total


def expected_move_from_vix(spot: float, vix: float, days: float) -> float:
    """One-sigma expected move (price points) over `days` TRADING days: spot * vix/100 *
    sqrt(days / 252). Raises ValueError for spot or vix <= 0 or days < 0."""
    s = _positive("spot", spot)
    v = _positive("vix", vix)
    d = _non_negative("days", days)
    return s * v / 100.0 * math.sqrt(d / TRADING_DAYS_PER_YEAR)


def years_to_expiry(now: datetime, expiry_close: datetime) -> float:
    """Years (ACT/365, exact seconds) from `now` to the expiry's close, floored at 0.

    On expiry day this is minutes to the close, not a whole day. Both datetimes must be
    timezone-aware (any zone); raises ValueError otherwise.
    """
    for name, value in (("now", now), ("expiry_close", expiry_close)):
        if not isinstance(value, datetime):
            raise ValueError(f"{name} must be a datetime, got {type(value).__name__}")
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(f"{name} must be timezone-aware, got naive {value.isoformat()}")
    seconds = (expiry_close - now).total_seconds()
    return max(seconds, 0.0) / SECONDS_PER_YEAR


# --------------------------------------------------------------------------- strikes and ticks

_STRIKE_INCREMENT = {
    "SPX": Decimal("5"),
    "SPXW": Decimal("5"),
    "SPY": Decimal("1"),
    "QQQ": Decimal("1"),
}
_INDEX_ROOTS = frozenset({"SPX", "SPXW"})
_INDEX_TICK_BREAK = Decimal("3.00")
# Inputs are snapped to 1e-8 first, so binary float noise (2.5500000000000003, or
# Decimal(2.55) = 2.54999999999999982...) does not push a price across a tick.
_SNAP = Decimal("1e-8")
_ROUNDING = {"nearest": ROUND_HALF_UP, "up": ROUND_CEILING, "down": ROUND_FLOOR}


def _root(root: str) -> str:
    if not isinstance(root, str):
        raise ValueError(f"option root must be a string, got {type(root).__name__}")
    key = root.upper()
    if key not in _STRIKE_INCREMENT:
        known = ", ".join(sorted(_STRIKE_INCREMENT))
        raise ValueError(f"unknown option root {root!r} (known: {known})")
    return key


def _decimal(name: str, value: float | Decimal | int) -> Decimal:
    """`value` as a Decimal snapped to 1e-8; rejects bools, NaN and infinities."""
    if isinstance(value, bool) or not isinstance(value, Decimal | float | int):
        raise ValueError(f"{name} must be a number, got {type(value).__name__}")
    number = Decimal(repr(value)) if isinstance(value, float) else Decimal(value)
    if not number.is_finite():
        raise ValueError(f"{name} must be finite, got {value!r}")
    try:
        return number.quantize(_SNAP, rounding=ROUND_HALF_UP)
    except InvalidOperation as exc:
        raise ValueError(f"{name} is out of range, got {value!r}") from exc


def _round_to_multiple(value: Decimal, step: Decimal, mode: RoundMode) -> Decimal:
    try:
        rounding = _ROUNDING[mode]
    except KeyError:
        raise ValueError(f"mode must be 'nearest', 'up' or 'down', got {mode!r}") from None
    try:
        units = (value / step).to_integral_value(rounding=rounding)
    except InvalidOperation as exc:
        raise ValueError(f"cannot round {value} to a multiple of {step}") from exc
    return units * step


def strike_increment(root: str) -> Decimal:
    """Listed strike spacing in index/share points: SPX/SPXW 5, SPY/QQQ 1.

    Raises ValueError for an unknown root (case-insensitive).
    """
    return _STRIKE_INCREMENT[_root(root)]


def round_strike(root: str, price: float | Decimal, mode: RoundMode = "nearest") -> Decimal:
    """Round an underlying price to a listed strike: nearest (halves go up), up or down.

    Raises ValueError for an unknown root or mode, or a price that is not finite and > 0.
    """
    step = strike_increment(root)
    value = _decimal("price", price)
    if value <= 0:
        raise ValueError(f"price must be > 0, got {price!r}")
    return _round_to_multiple(value, step, mode)


def first_strike_above(root: str, price: float | Decimal) -> Decimal:
    """The lowest strike STRICTLY above `price` (the Iron Fly's ATM rule, a put-skew bias).

    A price exactly on a strike gives the next strike up: SPX 5900.00 -> 5905, 5901.3 -> 5905.
    (The earlier implementation's ceil(price / 5) * 5 kept 5900; the strict rule is the one
    specified for CALYPSO.) Validation as in `round_strike`.
    """
    step = strike_increment(root)
    return round_strike(root, price, "down") + step


def tick_size(root: str, price: Decimal | float) -> Decimal:
    """Minimum price increment of an option premium (per share).

    SPX/SPXW: 0.05 below 3.00 and 0.10 from 3.00 up; SPY/QQQ: 0.01 (penny program).
    Raises ValueError for an unknown root or a negative or non-finite price.
    """
    return _tick_at(_root(root), _decimal("price", price))


def _tick_at(key: str, value: Decimal) -> Decimal:
    if value < 0:
        raise ValueError(f"price must be >= 0, got {value}")
    if key in _INDEX_ROOTS:
        return Decimal("0.05") if value < _INDEX_TICK_BREAK else Decimal("0.10")
    return Decimal("0.01")


def round_to_tick(root: str, price: float | Decimal, mode: RoundMode = "nearest") -> Decimal:
    """Round an option premium to a valid tick: nearest (halves go up), up or down.

    Uses the tick that applies at `price`, which always lands on a valid price: for SPX,
    2.98 up -> 3.00, 3.04 down -> 3.00, 3.01 up -> 3.10. Float noise below 1e-8 is ignored
    (2.5500000000000003 up -> 2.55). Raises ValueError as `tick_size` does, or for a bad mode.
    """
    value = _decimal("price", price)
    return _round_to_multiple(value, tick_size(root, value), mode)


def is_on_tick(root: str, price: Decimal) -> bool:
    """True when `price` (a Decimal or int, never a float) is exactly a valid tick for `root`.

    Exact, no snapping: Decimal("2.5500000000000003") is NOT on tick, because that is the string
    the broker would receive. Raises ValueError for an unknown root or a negative or non-finite
    price, TypeError for a float.
    """
    if isinstance(price, float):
        raise TypeError("is_on_tick needs a Decimal; a float cannot be checked exactly")
    if isinstance(price, bool) or not isinstance(price, Decimal | int):
        raise ValueError(f"price must be a Decimal, got {type(price).__name__}")
    value = Decimal(price)
    if not value.is_finite():
        raise ValueError(f"price must be finite, got {price!r}")
    return value % _tick_at(_root(root), value) == 0
