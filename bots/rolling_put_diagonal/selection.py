"""Pure leg selection: QQQ option chain and quotes in, the put to trade (or why not) out.

The long put: the expiry nearest `target_dte` calendar days, the put whose delta is nearest the
target within the tolerance (Saxo's delta when quoted, else a theoretical delta from moneyness).
The short put: the first expiry at least one day out, at the strike nearest the price (ATM).
Both must pass the spread gate. Dates are exchange (New York) dates; strikes are dollars.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from shared.domain import OptionContract, PutCall, Quote

THEORETICAL_DELTA_PER_PERCENT = 0.025  # per 1 % of moneyness, >= 1 DTE
THEORETICAL_DELTA_PER_PERCENT_0DTE = 0.04
DELTA_BOUNDS = (-0.95, -0.05)


@dataclass(frozen=True)
class PutChoice:
    contract: OptionContract
    delta: float
    delta_source: str  # "saxo" or "theoretical"


@dataclass(frozen=True)
class NotReady:
    reason: str


def theoretical_put_delta(spot: Decimal, strike: Decimal, dte: int) -> float:
    """-0.50 at the money, moving 0.025 per 1 % of moneyness (0.04 at 0 DTE); clamped to
    [-0.95, -0.05]. Used only when Saxo quotes no Greeks for the put."""
    moneyness_percent = float((strike - spot) / spot * 100)
    per_percent = THEORETICAL_DELTA_PER_PERCENT_0DTE if dte <= 0 else THEORETICAL_DELTA_PER_PERCENT
    delta = -0.50 - moneyness_percent * per_percent
    return min(max(delta, DELTA_BOUNDS[0]), DELTA_BOUNDS[1])


def spread_percent(quote: Quote) -> float | None:
    """(ask - bid) / mid in percent; None when the quote is not two-sided with a positive mid."""
    if quote.bid is None or quote.ask is None:
        return None
    mid = (quote.bid + quote.ask) / 2
    if mid <= 0:
        return None
    return float((quote.ask - quote.bid) / mid * 100)


def spread_problem(quote: Quote | None, max_spread_percent: float) -> str | None:
    """Why the leg fails the spread gate, or None."""
    if quote is None:
        return "no usable quote"
    spread = spread_percent(quote)
    if spread is None:
        return "not two-sided"
    if spread > max_spread_percent:
        return f"spread {spread:.1f}% above {max_spread_percent:g}%"
    return None


def nearest_expiry(expiries: Sequence[date], today: date, target_dte: int) -> date | None:
    """The listed expiry (after today) nearest `target_dte` days out; the later one on a tie."""
    future = [e for e in expiries if e > today]
    if not future:
        return None
    return min(future, key=lambda e: (abs((e - today).days - target_dte), -e.toordinal()))


def next_trading_day_expiry(expiries: Sequence[date], today: date) -> date | None:
    """The first listed expiry at least one day after `today`."""
    return min((e for e in expiries if e > today), default=None)


def pick_long_put(
    contracts: Sequence[OptionContract],
    quotes: Mapping[int, Quote],
    *,
    spot: Decimal,
    today: date,
    target_delta: float,
    tolerance: float,
    max_spread_percent: float,
) -> PutChoice | NotReady:
    """The put of `contracts` (one expiry) nearest `target_delta` within `tolerance` that has a
    usable quote passing the spread gate."""
    best: PutChoice | None = None
    for contract in contracts:
        if contract.put_call != PutCall.PUT:
            continue
        quote = quotes.get(contract.uic)
        if quote is None or spread_problem(quote, max_spread_percent) is not None:
            continue
        saxo_delta = quote.greeks.delta if quote.greeks is not None else None
        if saxo_delta is not None:
            choice = PutChoice(contract, saxo_delta, "saxo")
        else:
            dte = (contract.expiry - today).days
            choice = PutChoice(contract, theoretical_put_delta(spot, contract.strike, dte),
                               "theoretical")
        if abs(choice.delta - target_delta) > tolerance:
            continue
        if best is None or abs(choice.delta - target_delta) < abs(best.delta - target_delta):
            best = choice
    if best is None:
        return NotReady(f"no put within {tolerance:g} of delta {target_delta:g} with a usable, "
                        f"tight quote")
    return best


def pick_atm_put(
    contracts: Sequence[OptionContract],
    quotes: Mapping[int, Quote],
    *,
    price: Decimal,
    max_spread_percent: float,
) -> OptionContract | NotReady:
    """The put of `contracts` (one expiry) at the strike nearest `price` (the lower strike on a
    tie), if its quote passes the spread gate."""
    puts = [c for c in contracts if c.put_call == PutCall.PUT]
    if not puts:
        return NotReady("no puts listed for the expiry")
    atm = min(puts, key=lambda c: (abs(c.strike - price), c.strike))
    problem = spread_problem(quotes.get(atm.uic), max_spread_percent)
    if problem is not None:
        return NotReady(f"ATM put {atm.strike}: {problem}")
    return atm


def put_at_strike(
    contracts: Sequence[OptionContract], strike: Decimal, *, max_distance: Decimal = Decimal("0.5")
) -> OptionContract | None:
    """The put at `strike` (within `max_distance` dollars) of one expiry: the horizontal roll's
    target."""
    candidates = [c for c in contracts
                  if c.put_call == PutCall.PUT and abs(c.strike - strike) <= max_distance]
    return min(candidates, key=lambda c: abs(c.strike - strike), default=None)
