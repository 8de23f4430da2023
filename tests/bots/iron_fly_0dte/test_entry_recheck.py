"""Risk 6 of issue 12: the entry conditions hold up to the order, and missing data at the
first check at or after the entry time is waited out within the entry window (5 min), not a
skipped day. The real IronFlyStrategy on the synthetic market of `factory`; the range is
4990-5010 (midpoint 5000) from `wave`."""

from __future__ import annotations

from bots.iron_fly_0dte.states import IronFlyState
from shared.domain import PutCall
from shared.strategy_contract import OpenPosition
from tests.bots.iron_fly_0dte.factory import (
    SPX_UIC,
    D,
    Market,
    at,
    of_type,
    option_uic,
    run,
    step,
    strategy,
)
from tests.bots.iron_fly_0dte.test_entry_day import skip_reason, wave

SHORT_CALL = option_uic(D(5005), PutCall.CALL)


def test_a_price_that_left_the_range_before_the_order_does_not_enter() -> None:
    strat, market = strategy(), Market(missing={SHORT_CALL})  # legs not quotable yet
    run(strat, market, at(9, 30), at(10, 0), path=wave)
    assert strat.state_name() == IronFlyState.ENTRY_PENDING  # the filters passed at 10:00

    market.spot, market.missing = D("5030"), set()  # a trend day starts; the legs are quoted
    actions = step(strat, market, at(10, 1))

    assert of_type(actions, OpenPosition) == []
    assert skip_reason(actions).startswith("trend_day: re-check before the order: price 5030")


def test_a_stale_underlying_at_the_entry_time_is_retried_not_a_skipped_day() -> None:
    strat, market = strategy(), Market()
    run(strat, market, at(9, 30), at(9, 59, 55), path=wave)
    market.ages = {SPX_UIC: 30.0}  # one stale quote at 10:00 (limit 10 s)

    assert of_type(step(strat, market, at(10, 0)), OpenPosition) == []
    assert strat.state_name() == IronFlyState.OPENING_RANGE

    market.ages = {}
    assert of_type(step(strat, market, at(10, 0, 5)), OpenPosition)


def test_a_missing_vix_at_the_entry_time_is_retried_not_a_skipped_day() -> None:
    strat, vix_gone = strategy(vix_fallback_yahoo=False), Market()
    run(strat, vix_gone, at(9, 30), at(9, 59, 55), path=wave)
    vix_gone.vix = None

    assert of_type(run(strat, vix_gone, at(10, 0), at(10, 2)), OpenPosition) == []

    vix_gone.vix = D("15.0")
    assert of_type(step(strat, vix_gone, at(10, 2, 5)), OpenPosition)


def test_data_still_missing_at_the_end_of_the_window_skips_naming_it() -> None:
    strat, market = strategy(), Market()
    run(strat, market, at(9, 30), at(9, 59, 55), path=wave)
    market.ages = {SPX_UIC: 30.0}

    actions = run(strat, market, at(10, 0), at(10, 5, 5))

    assert of_type(actions, OpenPosition) == []
    assert skip_reason(actions) == "entry window over: price: no usable underlying price"
