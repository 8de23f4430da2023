"""Margin of the simulated account: a simple, documented stand-in for Saxo's margin model.

Options are grouped per underlying; a group's requirement is its worst expiry payoff (intrinsic
values x 100 x signed contracts) over the scenario prices {every strike, 0.8 x spot, 1.2 x spot},
floored at 0. Defined-risk spreads thus need their width, a naked short about 20 % of the
underlying. Short shares need 50 % of their value; long shares need nothing (paid in cash).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from decimal import Decimal

OPTION_MULTIPLIER = Decimal(100)
SCENARIO_MOVES = (Decimal("0.8"), Decimal("1.2"))
SHORT_SHARE_MARGIN = Decimal("0.5")


@dataclass(frozen=True)
class OptionLeg:
    """A signed option holding: `amount` contracts (negative = short)."""

    underlying_uic: int
    strike: Decimal
    put_call: str
    amount: Decimal


def _intrinsic(leg: OptionLeg, price: Decimal) -> Decimal:
    diff = price - leg.strike if leg.put_call == "Call" else leg.strike - price
    return max(Decimal(0), diff)


def option_margin(legs: Iterable[OptionLeg], spot_of: Callable[[int], Decimal]) -> Decimal:
    """Total option margin in USD over all underlyings (>= 0)."""
    groups: dict[int, list[OptionLeg]] = {}
    for leg in legs:
        groups.setdefault(leg.underlying_uic, []).append(leg)
    total = Decimal(0)
    for uic, group in groups.items():
        spot = spot_of(uic)
        scenarios = {leg.strike for leg in group} | {spot * move for move in SCENARIO_MOVES}
        worst = min(
            sum((leg.amount * _intrinsic(leg, s) for leg in group), Decimal(0)) for s in scenarios
        )
        total += max(Decimal(0), -worst) * OPTION_MULTIPLIER
    return total


def share_margin(amount: Decimal, price: Decimal) -> Decimal:
    """Margin of a share position (USD): 50 % of a short's value, nothing for a long."""
    return abs(amount) * price * SHORT_SHARE_MARGIN if amount < 0 else Decimal(0)
