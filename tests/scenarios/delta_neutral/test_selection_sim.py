"""Delta Neutral strangle selection on the simulator (the real runtime in a thread, SPY and VIX
pinned), in both modes, against the choice computed here by hand from the very chain and quotes
the bot decided on (the snapshot handed to its `decide` when it sold), never through the
selection code:

- mode B (`weekly_target_return_percent` 0): the OTM call and put whose distance from spot,
  in expected moves (the ATM straddle's mid), is nearest (min + max) / 2, within the cap;
- mode A (1 % of the straddle's fill cost, net of its weekly theta and the shorts' fees):
  the floor falls from 1.0 to 0.5 expected moves until a pair within the cap earns the
  target; of those pairs, the one whose nearer leg is farthest out, then whose other leg is
  farthest out (the outward optimisation).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import time as clock_time
from decimal import Decimal
from typing import Any

import pytest

from shared.domain import PutCall, Quote
from shared.journal.models import FillSide
from shared.strategy_contract import OpenPosition, Snapshot
from tests.scenarios.delta_neutral.harness import (
    SPY,
    SPY_LEVEL,
    DeltaNeutralBot,
    read_journal,
    write_config,
)
from tests.scenarios.iron_fly.harness import PLAIN_DAY, Day

SPEED = 300.0
FLOORS = (1.0, 0.9, 0.8, 0.7, 0.6, 0.5)  # mode A's minimum distances, in expected moves
DAYS_PER_WEEK = 7


@dataclass(frozen=True)
class Option:
    strike: Decimal
    put_call: PutCall
    bid: Decimal
    ask: Decimal

    @property
    def mid(self) -> Decimal:
        return (self.bid + self.ask) / 2


def _sold_on(make_day: Callable[..., Day], **strategy: Any) -> tuple[Day, Snapshot, OpenPosition,
                                                                    DeltaNeutralBot]:  # fmt: skip
    """Run the bot until it sold its first strangle; the snapshot it decided that on and the
    order. `decide` is wrapped to keep its input: the real strategy decides."""
    day = make_day(day=PLAIN_DAY, start=clock_time(9, 31), speed=SPEED)
    day.pin(SPY, SPY_LEVEL)
    bot = DeltaNeutralBot(day.server, day.home, write_config(day.home, strategy=strategy))
    seen: list[tuple[Snapshot, OpenPosition]] = []
    decide = bot.dn.decide

    def keep(snapshot: Snapshot) -> Any:
        actions = decide(snapshot)
        seen.extend((snapshot, a) for a in actions
                    if isinstance(a, OpenPosition) and ":shorts:" in a.intent_id)  # fmt: skip
        return actions

    bot.dn.decide = keep  # type: ignore[method-assign]
    bot.start()
    bot.wait_for(lambda s: bot.holding(), "straddle and strangle held")
    assert len(seen) == 1
    return day, seen[0][0], seen[0][1], bot


def _chain(snap: Snapshot, order: OpenPosition) -> tuple[Decimal, list[Option]]:
    """Spot and the options of the sold expiry with a bid and an ask, from the snapshot."""
    spy_uic = next(uic for uic, q in snap.quotes.items() if q.asset_type == "Etf")
    spot = snap.quotes[spy_uic].price
    assert spot is not None
    expiry = order.legs[0].expiry
    options = []
    for contract in snap.chains[("SPY", expiry)]:  # type: ignore[index]
        quote = snap.quotes.get(contract.uic)
        if quote is None or not quote.bid or not quote.ask:
            continue
        age = quote.age_seconds(snap.now)
        if age is not None and age > 60:
            continue
        options.append(Option(contract.strike, contract.put_call, quote.bid, quote.ask))
    return spot, options


def _expected_move(spot: Decimal, options: Sequence[Option]) -> Decimal:
    calls = {o.strike: o for o in options if o.put_call is PutCall.CALL}
    puts = {o.strike: o for o in options if o.put_call is PutCall.PUT}
    atm = min(set(calls) & set(puts), key=lambda k: (abs(k - spot), k))
    return calls[atm].mid + puts[atm].mid


def _otm(spot: Decimal, options: Sequence[Option], move: Decimal, cap: float
         ) -> tuple[list[Option], list[Option]]:  # fmt: skip
    limit = move * Decimal(str(cap))
    calls = [o for o in options if o.put_call is PutCall.CALL and spot < o.strike <= spot + limit]
    puts = [o for o in options if o.put_call is PutCall.PUT and spot - limit <= o.strike < spot]
    return calls, puts


def _sim_theta(day: Day, quote: Quote) -> float:
    """The simulator's model theta (USD per share per day) of the quoted option at the quote's
    own time."""

    def model(state: Any) -> float:
        option = state.quote(state.resolve(quote.uic, quote.asset_type), quote.updated_at)
        return float(option.theta_per_day)

    return day.server.call(model)  # type: ignore[no-any-return]


def _sold_strikes(order: OpenPosition) -> tuple[Decimal | None, Decimal | None]:
    by_side = {leg.put_call: leg.strike for leg in order.legs}
    return by_side[PutCall.CALL], by_side[PutCall.PUT]


def test_mode_b_sells_the_strikes_nearest_the_mean_multiple(
    make_day: Callable[..., Day],
) -> None:
    _day, snap, order, bot = _sold_on(make_day, weekly_target_return_percent=0.0,
                                     strangle_multiplier_min=1.0, strangle_multiplier_max=1.5)
    assert bot.stop() == 0
    spot, options = _chain(snap, order)
    move = _expected_move(spot, options)
    calls, puts = _otm(spot, options, move, 1.5)
    wanted = Decimal("1.25")  # (1.0 + 1.5) / 2 expected moves

    def nearest(legs: list[Option]) -> Option:
        return min(legs, key=lambda o: (abs(abs(o.strike - spot) / move - wanted), -o.bid))

    assert _sold_strikes(order) == (nearest(calls).strike, nearest(puts).strike)
    assert {leg.side.value for leg in order.legs} == {"sell"}


@pytest.mark.parametrize("percent", [1.0, 10.0])  # 10 %: no pair at 1.0 EM, the floor falls
def test_mode_a_sells_the_farthest_pair_earning_the_target_net(
    make_day: Callable[..., Day], percent: float, caplog: pytest.LogCaptureFixture,
) -> None:
    # The example config otherwise: cap 2.0 expected moves, fee 2 USD per leg, 1 contract.
    caplog.set_level(logging.WARNING, logger="bots.delta_neutral")
    day, snap, order, bot = _sold_on(make_day, weekly_target_return_percent=percent)
    straddle = bot.dn.straddle.held
    assert bot.stop() == 0 and straddle is not None
    # The straddle's legs were quoted with Saxo's Greeks (the simulator's model theta at the
    # quote's time), so mode A counted their decay: no leg was left out as `theta_missing`.
    assert not [r for r in caplog.records if "theta_missing" in r.getMessage()]
    for leg in straddle.legs:
        quote = snap.quotes[leg.uic]
        assert quote.greeks is not None and quote.greeks.theta is not None, leg
        assert abs(quote.greeks.theta - _sim_theta(day, quote)) < 1e-6
    spot, options = _chain(snap, order)
    move = _expected_move(spot, options)
    calls, puts = _otm(spot, options, move, 2.0)

    (entry,) = read_journal(day.home).labelled("straddle_entry")
    cost = sum(f.price * f.multiplier * f.quantity for f in entry.fills if f.side is FillSide.BUY)
    target = cost * Decimal(str(percent)) / 100
    theta = Decimal(0)
    for leg in straddle.legs:
        greeks = snap.quotes[leg.uic].greeks
        assert greeks is not None and greeks.theta is not None
        theta += Decimal(str(abs(greeks.theta))) * 100 * leg.quantity * DAYS_PER_WEEK
    assert theta > 0
    fees = Decimal("2.00") * 2

    def multiple(option: Option) -> Decimal:
        return abs(option.strike - spot) / move

    def earns(call: Option, put: Option) -> bool:
        return (call.bid + put.bid) * 100 - theta - fees >= target

    chosen, used_floor = None, None
    for floor in FLOORS:
        pairs = [(c, p) for c in calls for p in puts
                 if min(multiple(c), multiple(p)) >= Decimal(str(floor)) and earns(c, p)]
        if pairs:
            chosen = max(pairs, key=lambda cp: (min(multiple(cp[0]), multiple(cp[1])),
                                                max(multiple(cp[0]), multiple(cp[1]))))
            used_floor = floor
            break  # fmt: skip
    assert chosen is not None, "no pair earns the target on this chain"
    assert _sold_strikes(order) == (chosen[0].strike, chosen[1].strike)
    assert (used_floor == 1.0) is (percent == 1.0)  # each case exercises what it names
