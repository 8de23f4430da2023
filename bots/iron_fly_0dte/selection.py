"""Strike and wing selection for the 0DTE fly, from the chain and quotes in one snapshot.

ATM = the first 5-point strike strictly above SPX. Wing width (points) = the 0DTE straddle at
the strike nearest SPX (call mid + put mid), rounded to 5 and kept within the configured
bounds; the VIX one-day expected move is the fallback and `manual_wing_width_points` overrides
both. The quoted credit (shorts at the bid, longs at the ask) must be positive.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal

from bots.iron_fly_0dte.book import ROOT
from bots.iron_fly_0dte.config import STRIKE_STEP_POINTS, IronFlyStrategyConfig
from shared.domain import OptionContract, PutCall, Quote
from shared.options_math import (
    expected_move_from_straddle,
    expected_move_from_vix,
    first_strike_above,
    round_strike,
)
from shared.strategy.quotes import quote_age_s, usable_quote

STEP = Decimal(STRIKE_STEP_POINTS)


@dataclass(frozen=True)
class WingWidth:
    points: Decimal
    source: str  # "manual", "straddle" or "vix"
    expected_move: Decimal | None  # the raw expected move, points (None when manual)


@dataclass(frozen=True)
class FlyPlan:
    """A fly ready to send: strikes, leg UICs by leg name, quoted credit (per share)."""

    atm: Decimal
    wing: WingWidth
    uics: Mapping[str, int]
    quoted_credit: Decimal
    spread_percent: Decimal


@dataclass(frozen=True)
class NotReady:
    """Why no fly can be built from this snapshot (waited for until the entry window ends)."""

    reason: str


def round_to_step(points: float | Decimal) -> Decimal:
    """`points` rounded to the nearest multiple of 5 (halves up)."""
    return (Decimal(str(points)) / STEP).to_integral_value(rounding=ROUND_HALF_UP) * STEP


class ChainView:
    """Today's contracts of the configured root, indexed by (strike, put/call), with quotes."""

    def __init__(
        self,
        contracts: tuple[OptionContract, ...],
        *,
        root_uic: int,
        expiry: date,
        quotes: Mapping[int, Quote],
        ages: Mapping[int, float],
        now: datetime,
        max_age_s: float,
    ) -> None:
        self._by_key = {
            (c.strike, c.put_call): c
            for c in contracts
            if c.root_id == root_uic and c.expiry == expiry
        }
        self._quotes = quotes
        self._ages = ages
        self._now = now
        self._max_age_s = max_age_s

    def __bool__(self) -> bool:
        return bool(self._by_key)

    def contract(self, strike: Decimal, put_call: PutCall) -> OptionContract | None:
        return self._by_key.get((strike, put_call))

    def quote(self, strike: Decimal, put_call: PutCall) -> Quote | None:
        """The usable quote of that contract (`shared.strategy.quotes` rule), or None."""
        contract = self.contract(strike, put_call)
        if contract is None:
            return None
        quote = self._quotes.get(contract.uic)
        if quote is None:
            return None
        age = quote_age_s(quote, self._ages, self._now)
        return quote if usable_quote(quote, age, self._max_age_s) else None


def wing_width(
    settings: IronFlyStrategyConfig, chain: ChainView, spot: Decimal, vix: Decimal | None
) -> WingWidth | None:
    """The wing width in points, or None when neither the straddle nor VIX is usable."""
    low, high = Decimal(settings.min_wing_width_points), Decimal(settings.max_wing_width_points)
    if settings.manual_wing_width_points is not None:
        return WingWidth(Decimal(settings.manual_wing_width_points), "manual", None)
    centre = round_strike(ROOT, spot, "nearest")
    call, put = chain.quote(centre, PutCall.CALL), chain.quote(centre, PutCall.PUT)
    move: Decimal | None = None
    source = "straddle"
    if call is not None and put is not None:
        call_mid, put_mid = _mid(call), _mid(put)
        if call_mid + put_mid > 0:
            move = Decimal(str(expected_move_from_straddle(float(call_mid), float(put_mid))))
    if move is None and vix is not None and vix > 0:
        source = "vix"
        move = Decimal(str(expected_move_from_vix(float(spot), float(vix), 1.0)))
    if move is None:
        return None
    points = min(max(round_to_step(move), low), high)
    return WingWidth(points, source, move.quantize(Decimal("0.01")))


def plan_fly(
    settings: IronFlyStrategyConfig, chain: ChainView, spot: Decimal, vix: Decimal | None
) -> FlyPlan | NotReady:
    """The fly to open at `spot`, or why not (chain, quotes, spread or credit)."""
    if not chain:
        return NotReady("no 0DTE chain")
    wing = wing_width(settings, chain, spot, vix)
    if wing is None:
        return NotReady("no straddle quote and no VIX for the wing width")
    atm = first_strike_above(ROOT, spot)
    wanted = {
        "long_call": (atm + wing.points, PutCall.CALL),
        "long_put": (atm - wing.points, PutCall.PUT),
        "short_call": (atm, PutCall.CALL),
        "short_put": (atm, PutCall.PUT),
    }
    uics: dict[str, int] = {}
    quotes: dict[str, Quote] = {}
    for name, (strike, put_call) in wanted.items():
        contract = chain.contract(strike, put_call)
        if contract is None:
            return NotReady(f"{name} strike {strike} {put_call} not listed")
        quote = chain.quote(strike, put_call)
        if quote is None:
            return NotReady(f"{name} strike {strike} has no usable quote")
        uics[name], quotes[name] = contract.uic, quote
    credit = _credit(quotes)
    if credit <= 0:
        return NotReady(f"quoted credit {credit} is not positive")
    spread = _spread_percent(quotes)
    if spread is None or spread > Decimal(str(settings.max_entry_spread_percent)):
        return NotReady(
            f"fly spread {spread:.1f}% of mid above {settings.max_entry_spread_percent}%"
            if spread is not None else "fly mid credit not positive"
        )
    return FlyPlan(atm=atm, wing=wing, uics=uics, quoted_credit=credit, spread_percent=spread)


def _mid(quote: Quote) -> Decimal:
    bid, ask = _touch(quote)
    return (bid + ask) / 2


def _touch(quote: Quote) -> tuple[Decimal, Decimal]:
    """(bid, ask) of a quote that passed `usable_quote`."""
    if quote.bid is None or quote.ask is None:
        raise ValueError(f"quote of uic {quote.uic} is not two-sided")
    return quote.bid, quote.ask


def _credit(quotes: Mapping[str, Quote]) -> Decimal:
    """Shorts sold at the bid, wings bought at the ask (per share)."""
    return (_touch(quotes["short_call"])[0] + _touch(quotes["short_put"])[0]
            - _touch(quotes["long_call"])[1] - _touch(quotes["long_put"])[1])


def _spread_percent(quotes: Mapping[str, Quote]) -> Decimal | None:
    """Sum of the legs' (ask - bid) as a percent of the fly's mid credit (None if mid <= 0).

    The fly as a whole, not each leg: a far wing quoted 0.05/0.10 is 67 % wide on its own but
    costs cents on a credit of several points."""
    mid_credit = Decimal(0)
    spread = Decimal(0)
    for name, quote in quotes.items():
        bid, ask = _touch(quote)
        mid = (bid + ask) / 2
        mid_credit += mid if name.startswith("short") else -mid
        spread += ask - bid
    if mid_credit <= 0:
        return None
    return spread / mid_credit * 100
