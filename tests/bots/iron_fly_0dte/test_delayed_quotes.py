"""Risk 4 of issue 12: a delayed quote (Saxo's `DelayedByMinutes` > 0) never drives an entry,
a stop or a P&L mark. The real IronFlyStrategy on the synthetic market of `factory`."""

from __future__ import annotations

from bots.iron_fly_0dte.states import IronFlyState
from shared.strategy_contract import ClosePosition, OpenPosition
from tests.bots.iron_fly_0dte.factory import (
    SPX_UIC,
    VIX_UIC,
    D,
    Market,
    at,
    enter,
    of_type,
    pin_legs,
    run,
    set_legs,
    step,
    strategy,
)

DELAY_MIN = 15  # Saxo's delay for an account without real-time data


def test_a_delayed_underlying_never_starts_the_range_or_enters() -> None:
    strat, market = strategy(), Market(delayed_minutes={SPX_UIC: DELAY_MIN})

    actions = run(strat, market, at(9, 30), at(10, 5))

    assert of_type(actions, OpenPosition) == []
    assert strat.state_name() == IronFlyState.DONE


def test_a_delayed_vix_is_no_vix_for_the_entry() -> None:
    strat = strategy(vix_fallback_yahoo=False)
    market = Market(delayed_minutes={VIX_UIC: DELAY_MIN})

    actions = run(strat, market, at(9, 30), at(10, 5))

    assert of_type(actions, OpenPosition) == []


def test_delayed_leg_quotes_never_fire_the_max_loss_stop() -> None:
    strat, market = strategy(), Market()
    order = enter(strat, market)
    pin_legs(market, order, at(10, 0, 5))
    # A mark far past the max loss, but every leg's quote is 15 minutes old news.
    set_legs(market, order, {"short_call": ("40.00", "40.10"), "short_put": ("40.00", "40.10"),
                             "long_call": ("0.00", "0.05"), "long_put": ("0.00", "0.05")})
    market.delayed_minutes = {leg.uic: DELAY_MIN for leg in order.legs}

    assert of_type(step(strat, market, at(10, 10)), ClosePosition) == []

    market.delayed_minutes = {}  # the same prices in real time: the stop fires
    (close,) = of_type(step(strat, market, at(10, 10, 5)), ClosePosition)
    assert close.exit_reason == "max_loss"


def test_a_delayed_underlying_never_fires_the_wing_touch() -> None:
    strat, market = strategy(), Market()
    order = enter(strat, market)
    pin_legs(market, order, at(10, 0, 5))
    market.spot = D("5100")  # far past the upper wing
    market.delayed_minutes = {SPX_UIC: DELAY_MIN}

    assert of_type(step(strat, market, at(10, 0, 30), tick=True), ClosePosition) == []
