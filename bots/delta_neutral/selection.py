"""Pure leg selection: chain + quotes + rules -> the straddle or strangle to trade, or why not.

Prices are USD per SPY share; premiums are USD per position (price x 100 x contracts). Only
usable quotes count (the toolkit's one rule, `shared.strategy.quotes.quote_problems`, at most
`QUOTE_MAX_AGE_S` old) with a bid above zero (DATA-004): everything chosen here is bought or
sold to open. Closing a held leg never passes through here (a close names the held legs and is
bought at the ask whatever the bid). Nothing here mutates anything: pricing a candidate roll is
a call to `choose_strangle`, whose answer the caller may simply drop.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Literal

from shared import market_hours
from shared.domain import OptionContract, PutCall, Quote
from shared.strategy.quotes import quote_problems

CONTRACT_MULTIPLIER = 100  # SPY option: 100 shares per contract
QUOTE_MAX_AGE_S = 60.0  # DATA-001: an older quote is not traded on
FRIDAY = 4
# Mode A lowers the minimum distance (in expected moves) step by step until the target is met.
TARGET_MODE_MIN_MULTIPLES: tuple[float, ...] = (1.0, 0.9, 0.8, 0.7, 0.6, 0.5)


@dataclass(frozen=True)
class PricedOption:
    """A listed option with a usable quote; `theta` per share per day when the broker gives it."""

    contract: OptionContract
    bid: Decimal
    ask: Decimal
    theta: float | None = None

    @property
    def mid(self) -> Decimal:
        return (self.bid + self.ask) / 2

    @property
    def strike(self) -> Decimal:
        return self.contract.strike


@dataclass(frozen=True)
class StraddleChoice:
    """The ATM call and put to buy at `expiry`."""

    expiry: date
    strike: Decimal
    call: PricedOption
    put: PricedOption


@dataclass(frozen=True)
class StrangleChoice:
    """The call and put to sell. Multiples are distances from spot in expected moves."""

    expiry: date
    call: PricedOption
    put: PricedOption
    expected_move: Decimal
    call_multiple: float
    put_multiple: float
    premium_usd: Decimal  # at the bids, x 100 x contracts, before commissions
    mode: Literal["target", "multiplier"]


@dataclass(frozen=True)
class NotYet:
    """Why nothing can be chosen now (logged and journaled as a decision)."""

    reason: str


def days_between(start: date, end: date) -> int:
    return (end - start).days


def long_straddle_expiry(expiries: Sequence[date], today: date, target_dte: int) -> date | None:
    """The listed expiry whose days from `today` are nearest `target_dte` (the later on a tie)."""
    future = [e for e in expiries if e > today]
    if not future:
        return None
    return min(future, key=lambda e: (abs(days_between(today, e) - target_dte), -e.toordinal()))


def short_expiry(expiries: Sequence[date], today: date, min_dte: int) -> date | None:
    """The first listed Friday expiry at least `min_dte` days after `today`."""
    fridays = sorted(
        e for e in expiries if e.weekday() == FRIDAY and days_between(today, e) >= min_dte
    )
    return fridays[0] if fridays else None


def usable_options(
    contracts: Sequence[OptionContract], quotes: Mapping[int, Quote], now: datetime
) -> list[PricedOption]:
    """The contracts whose quote is usable to open at `now` (DATA-001; DATA-004: bid > 0),
    priced."""
    priced: list[PricedOption] = []
    for contract in contracts:
        quote = quotes.get(contract.uic)
        if quote is None or quote_problems(quote, quote.age_seconds(now), QUOTE_MAX_AGE_S):
            continue
        assert quote.bid is not None and quote.ask is not None  # checked by quote_problems
        if quote.bid == 0:
            continue  # DATA-004: no opening on a zero bid (closes never come here)
        theta = quote.greeks.theta if quote.greeks is not None else None
        priced.append(PricedOption(contract, quote.bid, quote.ask, theta))
    return priced


def _atm_pair(options: Sequence[PricedOption], spot: Decimal) -> tuple[PricedOption, PricedOption]:
    """The call and put of the strike nearest `spot` that has both (the lower on a tie)."""
    calls = {o.strike: o for o in options if o.contract.put_call == PutCall.CALL}
    puts = {o.strike: o for o in options if o.contract.put_call == PutCall.PUT}
    both = sorted(set(calls) & set(puts), key=lambda k: (abs(k - spot), k))
    if not both:
        raise LookupError("no strike with a usable call and put")
    return calls[both[0]], puts[both[0]]


def spread_percent(option: PricedOption) -> Decimal:
    """(ask - bid) / mid, in percent."""
    return (option.ask - option.bid) / option.mid * 100


def choose_straddle(
    options: Sequence[PricedOption], spot: Decimal, max_spread_percent: float
) -> StraddleChoice | NotYet:
    """The ATM straddle among `options` (one expiry), if both legs' spreads are narrow enough."""
    try:
        call, put = _atm_pair(options, spot)
    except LookupError as error:
        return NotYet(str(error))
    for leg in (call, put):
        if spread_percent(leg) > Decimal(str(max_spread_percent)):
            return NotYet(
                f"{leg.contract.put_call} {leg.strike} spread {spread_percent(leg):.2f}% > "
                f"{max_spread_percent}%"
            )
    return StraddleChoice(call.contract.expiry, call.strike, call, put)


def expected_move(options: Sequence[PricedOption], spot: Decimal) -> Decimal | None:
    """The expected move to the options' expiry: the ATM straddle's mid (USD per share)."""
    try:
        call, put = _atm_pair(options, spot)
    except LookupError:
        return None
    return call.mid + put.mid


@dataclass(frozen=True)
class StrangleTarget:
    """Mode A's money: the net weekly return sought and the costs the premium must also cover.

    All USD per position. `straddle_cost_usd` is the long straddle's fill cost; the target is
    `target_percent` of it, after `weekly_theta_usd` (the straddle's decay over 7 days) and
    `fees_usd` (the strangle's entry commissions).
    """

    straddle_cost_usd: Decimal
    target_percent: float
    weekly_theta_usd: Decimal
    fees_usd: Decimal

    @property
    def target_usd(self) -> Decimal:
        return self.straddle_cost_usd * Decimal(str(self.target_percent)) / 100

    def net_usd(self, premium_usd: Decimal) -> Decimal:
        return premium_usd - self.weekly_theta_usd - self.fees_usd


def _candidates(
    options: Sequence[PricedOption], spot: Decimal, move: Decimal, cap: float
) -> tuple[list[PricedOption], list[PricedOption]]:
    """OTM calls above and puts below spot with a bid, at most `cap` expected moves away,
    each list ordered from spot outward. The search is scaled to the expected move (never a
    fixed dollar band)."""
    limit = move * Decimal(str(cap))
    calls = sorted(
        (
            o
            for o in options
            if o.contract.put_call == PutCall.CALL and spot < o.strike <= spot + limit
        ),
        key=lambda o: o.strike,
    )
    puts = sorted(
        (
            o
            for o in options
            if o.contract.put_call == PutCall.PUT and spot - limit <= o.strike < spot
        ),
        key=lambda o: -o.strike,
    )
    return calls, puts


def _multiple(option: PricedOption, spot: Decimal, move: Decimal) -> float:
    return float(abs(option.strike - spot) / move)


def _premium_usd(call: PricedOption, put: PricedOption, contracts: int) -> Decimal:
    return (call.bid + put.bid) * CONTRACT_MULTIPLIER * contracts


def _push_outward(
    pair: tuple[int, int],
    calls: Sequence[PricedOption],
    puts: Sequence[PricedOption],
    meets_target: Callable[[int, int], bool],
    multiple_of: Callable[[PricedOption], float],
) -> tuple[int, int]:
    """Move legs one strike outward (indexes into `calls`/`puts`) while the pair still meets
    the target: the move that leaves the tighter leg farthest out first, on a tie the one
    keeping more premium; stop when no move keeps the target."""
    c, p = pair
    while True:
        moves = [(c + 1, p), (c, p + 1)]
        allowed = [m for m in moves if m[0] < len(calls) and m[1] < len(puts) and meets_target(*m)]
        if not allowed:
            return c, p
        c, p = max(
            allowed,
            key=lambda m: (
                min(multiple_of(calls[m[0]]), multiple_of(puts[m[1]])),
                calls[m[0]].bid + puts[m[1]].bid,
            ),
        )


def choose_strangle_for_target(
    options: Sequence[PricedOption],
    spot: Decimal,
    *,
    target: StrangleTarget,
    contracts: int,
    cap_multiple: float,
) -> StrangleChoice | NotYet:
    """Mode A: the pair that earns `target` net, as far from spot as it can.

    For each minimum distance in `TARGET_MODE_MIN_MULTIPLES` (1.0 down to 0.5 expected moves),
    the pairs with both legs at least that far and at most `cap_multiple` away whose net
    premium reaches the target; the first minimum with any such pair wins, and its pair with
    the largest tighter-leg distance (then the largest premium) is pushed outward while it
    still reaches the target. NotYet when no pair reaches the target at 0.5.
    """
    move = expected_move(options, spot)
    if move is None or move <= 0:
        return NotYet("no expected move: no usable ATM straddle at the short expiry")
    calls, puts = _candidates(options, spot, move, cap_multiple)

    def multiple_of(option: PricedOption) -> float:
        return _multiple(option, spot, move)

    def meets_target(c: int, p: int) -> bool:
        premium = _premium_usd(calls[c], puts[p], contracts)
        return target.net_usd(premium) >= target.target_usd

    for floor in TARGET_MODE_MIN_MULTIPLES:
        pairs = [
            (c, p)
            for c in range(len(calls))
            for p in range(len(puts))
            if min(multiple_of(calls[c]), multiple_of(puts[p])) >= floor and meets_target(c, p)
        ]
        if pairs:
            best = max(
                pairs,
                key=lambda cp: (
                    min(multiple_of(calls[cp[0]]), multiple_of(puts[cp[1]])),
                    calls[cp[0]].bid + puts[cp[1]].bid,
                ),
            )
            c, p = _push_outward(best, calls, puts, meets_target, multiple_of)
            return _strangle(calls[c], puts[p], move, spot, contracts, "target")
    return NotYet(
        f"no strangle earns the target {target.target_usd:.2f} USD net within "
        f"{TARGET_MODE_MIN_MULTIPLES[-1]}-{cap_multiple} expected moves"
    )


def choose_strangle_by_multiple(
    options: Sequence[PricedOption],
    spot: Decimal,
    *,
    contracts: int,
    min_multiple: float,
    max_multiple: float,
) -> StrangleChoice | NotYet:
    """Mode B: the call and put nearest (min + max) / 2 expected moves from spot."""
    move = expected_move(options, spot)
    if move is None or move <= 0:
        return NotYet("no expected move: no usable ATM straddle at the short expiry")
    calls, puts = _candidates(options, spot, move, max_multiple)
    if not calls or not puts:
        return NotYet("no usable OTM call or put within the multiplier cap")
    wanted = (min_multiple + max_multiple) / 2

    def nearest(legs: Sequence[PricedOption]) -> PricedOption:
        return min(legs, key=lambda o: (abs(_multiple(o, spot, move) - wanted), -o.bid))

    return _strangle(nearest(calls), nearest(puts), move, spot, contracts, "multiplier")


def _strangle(
    call: PricedOption,
    put: PricedOption,
    move: Decimal,
    spot: Decimal,
    contracts: int,
    mode: Literal["target", "multiplier"],
) -> StrangleChoice:
    return StrangleChoice(
        expiry=call.contract.expiry,
        call=call,
        put=put,
        expected_move=move,
        call_multiple=_multiple(call, spot, move),
        put_multiple=_multiple(put, spot, move),
        premium_usd=_premium_usd(call, put, contracts),
        mode=mode,
    )


def on_or_before_trading_day(day: date) -> date:
    """`day`, or the trading day before it when the exchange is shut (a Friday expiry on a
    holiday such as Juneteenth or Good Friday moves to the Thursday)."""
    while not market_hours.is_trading_day(day):
        day -= timedelta(days=1)
    return day


def third_friday(year: int, month: int) -> date:
    """The monthly option expiry of `month`: its third Friday, or the trading day before."""
    first = date(year, month, 1)
    return on_or_before_trading_day(first + timedelta(days=(FRIDAY - first.weekday()) % 7 + 14))


def monthly_expiry_near(today: date, target_dte: int) -> date:
    """The monthly (third-Friday) expiry nearest `target_dte` days after `today`: the long
    straddle's expiry to ask the broker for (its listed expiries are not in the snapshot)."""
    aim = today + timedelta(days=target_dte)
    candidates = []
    for shift in (-1, 0, 1):
        month_index = aim.year * 12 + aim.month - 1 + shift
        candidates.append(third_friday(month_index // 12, month_index % 12 + 1))
    return long_straddle_expiry(candidates, today, target_dte) or candidates[1]


def next_friday_at_least(today: date, min_dte: int) -> date:
    """The weekly expiry of the first Friday at least `min_dte` days after `today`: that
    Friday, or the trading day before it when the Friday is a holiday (then one day fewer
    than `min_dte` may remain, e.g. Good Friday 2026-04-03 -> Thursday 2026-04-02)."""
    earliest = today + timedelta(days=min_dte)
    return on_or_before_trading_day(earliest + timedelta(days=(FRIDAY - earliest.weekday()) % 7))
