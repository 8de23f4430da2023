"""Whole mornings: the opening range, each filter skipping a day, and a normal entry."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import pytest

from bots.iron_fly_0dte.states import IronFlyState
from shared.domain import PutCall, Side
from shared.market_hours import TradingSession
from shared.sheets.payloads import decode
from shared.strategy_contract import CalendarFacts, ClosePosition, ExecutionReport, OpenPosition
from tests.bots.iron_fly_0dte.factory import (
    DAY,
    EARLY_CLOSE_DAY,
    NY,
    SPX_UIC,
    VIX_UIC,
    D,
    Market,
    at,
    calendar,
    enter,
    of_type,
    option_uic,
    records,
    run,
    step,
    strategy,
)


def wave(now: datetime) -> Decimal:
    """Spot between 4990 and 5010 during the range (a 20-point range, midpoint 5000)."""
    minute = now.astimezone(NY).minute
    return D(5010) if minute in (40, 41) else D(4990) if minute in (50, 51) else D(5000)


def skip_reason(actions: list) -> str:
    rows = records(actions, "opening_range")
    assert rows[-1].payload["entry_decision"] == "SKIP"
    reason: str = rows[-1].payload["reason"]
    return reason


def test_normal_day_sends_the_fly_at_the_entry_time_longs_first() -> None:
    strat, market = strategy(), Market()
    actions = run(strat, market, at(9, 30), at(10, 0))
    (order,) = of_type(actions, OpenPosition)
    assert [leg.leg for leg in order.legs] == ["long_call", "long_put", "short_call", "short_put"]
    assert [leg.side for leg in order.legs] == [Side.BUY, Side.BUY, Side.SELL, Side.SELL]
    assert strat.state_name() == IronFlyState.ENTERING


def test_strikes_atm_strictly_above_spot_and_wings_from_the_straddle() -> None:
    # Spot 5000.00: the first strike above is 5005; straddle at 5000 = 10 + 10 = 20 points.
    order = enter(strategy(), Market())
    strikes = {leg.leg: leg.strike for leg in order.legs}
    assert strikes == {"short_call": D(5005), "short_put": D(5005), "long_call": D(5025),
                       "long_put": D(4985)}
    assert order.legs[0].uic == option_uic(D(5025), PutCall.CALL)


def test_order_carries_the_configured_retry_policy_and_a_dated_intent() -> None:
    order = enter(strategy(max_entry_attempts=2, entry_attempt_spacing_seconds=20,
                           position_size_contracts=3), Market())
    assert (order.max_attempts, order.attempt_spacing_s) == (2, 20.0)
    assert {leg.quantity for leg in order.legs} == {3}
    assert order.intent_id == f"iron_fly_0dte:{DAY.isoformat()}:entry"


def test_entry_is_decided_at_exactly_the_entry_time_not_before() -> None:
    strat, market = strategy(), Market()
    before = run(strat, market, at(9, 30), at(9, 59, 59), every_s=1)
    assert of_type(before, OpenPosition) == []
    assert of_type(step(strat, market, at(10, 0, 0)), OpenPosition)  # TIME-001: >=


def test_opening_range_record_has_the_sheet_columns_and_the_enter_decision() -> None:
    strat, market = strategy(), Market()
    actions = run(strat, market, at(9, 30), at(10, 0), path=wave)
    row = records(actions, "opening_range")[-1]
    assert row.key == DAY.isoformat()
    p = row.payload
    assert (p["entry_decision"], p["range_high"], p["range_low"], p["range_width"]) == (
        "ENTER", "5010.00", "4990.00", "20.00")
    assert (p["start_time"], p["end_time"], p["atm_strike"], p["wing_width"]) == (
        "09:30", "10:00", "5005", "20")
    decoded = decode("opening_range", p)  # the Sheets mirror accepts the row as is
    assert decoded.row_key() == f"opening_range:{DAY.isoformat()}"


def test_only_one_trade_a_day_even_after_a_closed_trade() -> None:
    strat, market = strategy(), Market()
    enter(strat, market)
    market.spot = D("5030")  # wing touch
    (close,) = of_type(step(strat, market, at(10, 5)), ClosePosition)
    strat.on_execution(ExecutionReport(close.intent_id, "closed"), at(10, 5, 10))
    market.positions, market.spot = [], D("5000")
    later = run(strat, market, at(10, 6), at(11, 0), every_s=30)
    assert strat.state_name() == IronFlyState.DONE
    assert of_type(later, OpenPosition) == []


@pytest.mark.parametrize(
    ("facts", "expected"),
    [
        ({"fomc_decision_day": True, "fomc_day": True}, "fomc: FOMC decision day"),
        (
            {"economic_release_day": True, "events": ("CPI",)},
            "economic: economic release day (CPI)",
        ),
    ],
)
def test_calendar_filters_skip_the_day(facts: dict, expected: str) -> None:
    strat, market = strategy(), Market(facts=calendar(**facts))
    actions = run(strat, market, at(9, 30), at(10, 10), every_s=10)
    assert of_type(actions, OpenPosition) == []
    assert skip_reason(actions) == expected
    assert strat.state_name() == IronFlyState.DONE


def test_first_day_of_an_fomc_meeting_is_traded() -> None:
    market = Market(facts=calendar(fomc_day=True, fomc_decision_day=False))
    assert of_type(run(strategy(), market, at(9, 30), at(10, 0)), OpenPosition)


def test_calendar_filters_can_be_switched_off() -> None:
    market = Market(facts=calendar(fomc_decision_day=True, economic_release_day=True))
    strat = strategy(fomc_day_blackout=False, economic_data_blackout=False)
    assert of_type(run(strat, market, at(9, 30), at(10, 0)), OpenPosition)


def test_vix_above_max_skips() -> None:
    actions = run(strategy(), Market(vix=D("20.5")), at(9, 30), at(10, 0))
    assert skip_reason(actions) == "vix: VIX 20.5 above max 20.0"


def test_vix_spike_during_the_range_skips() -> None:
    strat, market = strategy(), Market()
    run(strat, market, at(9, 30), at(9, 44, 55))
    market.vix = D("15.8")  # +5.33 % over the opening 15.0
    run(strat, market, at(9, 45), at(9, 46))
    market.vix = D("15.1")
    actions = run(strat, market, at(9, 46, 5), at(10, 0))
    assert skip_reason(actions).startswith("vix_spike: VIX rose 5.33%")


def test_vix_rise_below_the_spike_threshold_is_traded() -> None:
    strat, market = strategy(), Market()
    run(strat, market, at(9, 30), at(9, 44, 55))
    market.vix = D("15.7")  # +4.67 %
    assert of_type(run(strat, market, at(9, 45), at(10, 0)), OpenPosition)


def test_price_outside_the_range_is_a_trend_day() -> None:
    def path(now: datetime) -> Decimal:
        return D("5012") if now >= at(10, 0) else wave(now)

    actions = run(strategy(), Market(), at(9, 30), at(10, 0), path=path)
    assert skip_reason(actions) == "trend_day: price 5012.00 outside the range 4990.00-5010.00"


def test_price_outside_the_middle_band_skips() -> None:
    # Range 4990-5010: midpoint 5000, 70 % of the half-width = 7 points.
    def path(now: datetime) -> Decimal:
        return D("5007.5") if now >= at(10, 0) else wave(now)

    actions = run(strategy(), Market(), at(9, 30), at(10, 0), path=path)
    assert skip_reason(actions).startswith(
        "midpoint: price 5007.50 is 7.50 from the midpoint 5000.00")


def test_price_inside_the_middle_band_is_traded() -> None:
    def path(now: datetime) -> Decimal:
        return D("5006.5") if now >= at(10, 0) else wave(now)

    assert of_type(run(strategy(), Market(), at(9, 30), at(10, 0), path=path), OpenPosition)


def test_hold_that_would_pass_the_close_skips_the_day() -> None:
    # A synthetic session closing at 10:30 ET: a 60-minute hold from 10:00 cannot fit.
    close = datetime(DAY.year, DAY.month, DAY.day, 10, 30, tzinfo=NY)
    session = TradingSession(DAY, at(9, 30).astimezone(NY), close, early_close=True)
    facts = CalendarFacts(DAY, session, False, False, False)
    actions = run(strategy(), Market(facts=facts), at(9, 30), at(10, 0))
    assert skip_reason(actions) == (
        "early_close: a 60 min hold would pass the early close at 10:30 ET")


def test_early_close_day_trades_because_the_hold_ends_before_13_00() -> None:
    market = Market(day=EARLY_CLOSE_DAY)
    assert market.snapshot(at(10, day=EARLY_CLOSE_DAY)).calendar.session.early_close  # type: ignore[union-attr]
    actions = run(strategy(), market, at(9, 30, day=EARLY_CLOSE_DAY), at(10, day=EARLY_CLOSE_DAY))
    assert of_type(actions, OpenPosition)


def test_start_after_the_entry_time_does_not_trade_that_day() -> None:
    strat, market = strategy(), Market()
    actions = run(strat, market, at(10, 1), at(11, 0), every_s=30)
    assert of_type(actions, OpenPosition) == []
    assert skip_reason(actions) == "started after the entry time; the opening range was not seen"
    assert strat.state_name() == IronFlyState.DONE


def test_start_well_into_the_range_skips_as_a_partial_range() -> None:
    actions = run(strategy(), Market(), at(9, 40), at(10, 0))
    assert skip_reason(actions) == "range: range began 10.0 min late (max 5)"


def test_start_just_after_the_open_is_within_the_grace() -> None:
    assert of_type(run(strategy(), Market(), at(9, 34), at(10, 0)), OpenPosition)


def test_no_prices_during_the_range_skips() -> None:
    strat, market = strategy(), Market(missing={SPX_UIC})
    run(strat, market, at(9, 30), at(9, 59, 55))
    market.missing = set()
    actions = run(strat, market, at(10, 0), at(10, 1))
    assert skip_reason(actions) == "no prices during the opening range"


def test_missing_leg_quotes_are_waited_for_within_the_window() -> None:
    strat, market = strategy(), Market()
    short_call = option_uic(D(5005), PutCall.CALL)
    market.missing = {short_call}
    waiting = run(strat, market, at(9, 30), at(10, 2))
    assert of_type(waiting, OpenPosition) == []
    assert strat.state_name() == IronFlyState.ENTRY_PENDING
    market.missing = set()
    assert of_type(step(strat, market, at(10, 2, 5)), OpenPosition)


def test_entry_window_ends_the_wait() -> None:
    strat, market = strategy(), Market(missing={option_uic(D(5005), PutCall.CALL)})
    actions = run(strat, market, at(9, 30), at(10, 6))
    assert of_type(actions, OpenPosition) == []
    assert skip_reason(actions) == (
        "entry window over: short_call strike 5005 has no usable quote")


def test_circuit_breaker_delays_the_entry() -> None:
    strat, market = strategy(), Market(breaker_allows_entries=False)
    assert of_type(run(strat, market, at(9, 30), at(10, 1)), OpenPosition) == []
    market.breaker_allows_entries = True
    assert of_type(step(strat, market, at(10, 1, 5)), OpenPosition)


def test_vix_is_rechecked_just_before_the_order() -> None:
    strat, market = strategy(), Market(missing={option_uic(D(5005), PutCall.CALL)})
    run(strat, market, at(9, 30), at(10, 1))
    market.vix, market.missing = D("20.4"), set()  # FILTER-001: VIX jumped while waiting
    actions = step(strat, market, at(10, 1, 5))
    assert of_type(actions, OpenPosition) == []
    assert skip_reason(actions).startswith("vix: re-check before the order: VIX 20.4")


def test_vix_fallback_level_is_used_only_when_allowed() -> None:
    market = Market(vix=None, fallback_vix=D(15))  # no Saxo VIX quote; the runtime's level
    assert of_type(run(strategy(), market, at(9, 30), at(10, 0)), OpenPosition)
    actions = run(strategy(vix_fallback_yahoo=False), market, at(9, 30), at(10, 6))
    assert of_type(actions, OpenPosition) == []
    assert skip_reason(actions) == "entry window over: vix: no VIX level"


def test_wing_width_falls_back_to_vix_without_a_straddle_quote() -> None:
    # VIX 15 at spot 5000: 5000 x 0.15 / sqrt(252) = 47.2 points -> 45.
    market = Market(missing={option_uic(D(5000), PutCall.CALL)})
    (order,) = of_type(run(strategy(), market, at(9, 30), at(10, 0)), OpenPosition)
    assert {leg.leg: leg.strike for leg in order.legs}["long_call"] == D(5050)


def test_failed_entry_after_the_last_attempt_ends_the_day() -> None:
    strat, market = strategy(), Market()
    (order,) = of_type(run(strat, market, at(9, 30), at(10, 0)), OpenPosition)
    strat.on_execution(ExecutionReport(order.intent_id, "in_progress", attempt=1,
                                       detail="attempt failed"), at(10, 0, 5))
    assert strat.state_name() == IronFlyState.ENTERING  # the executor retries by its timers
    strat.on_execution(ExecutionReport(order.intent_id, "failed", attempt=3), at(10, 0, 40))
    assert strat.state_name() == IronFlyState.DONE
    assert of_type(run(strat, market, at(10, 1), at(10, 30), every_s=30), OpenPosition) == []


def test_data_request_asks_for_the_chain_only_near_the_entry() -> None:
    strat, market = strategy(), Market()
    run(strat, market, at(9, 30), at(9, 50))
    assert strat.data_request(at(9, 50)).option_windows == ()
    request = strat.data_request(at(9, 58))
    (window,) = request.option_windows
    assert (window.root, window.expiry, window.spot_uic) == ("SPXW", DAY, SPX_UIC)
    assert request.vix and VIX_UIC in {ref.uic for ref in request.quotes}


@pytest.mark.parametrize("day", [date(2026, 1, 13), DAY], ids=["EST", "EDT"])
def test_entry_time_is_new_york_time_across_dst(day: date) -> None:
    strat, market = strategy(), Market(day=day)
    assert of_type(run(strat, market, at(9, 30, day=day), at(9, 59, 55, day=day)),
                   OpenPosition) == []
    (order,) = of_type(step(strat, market, at(10, day=day)), OpenPosition)  # TIME-004
    assert order.intent_id.endswith(f"{day.isoformat()}:entry")


def test_legs_are_stock_index_options_of_spxw() -> None:
    order = enter(strategy(), Market())
    assert {(leg.asset_type, leg.root, leg.expiry) for leg in order.legs} == {
        ("StockIndexOption", "SPXW", DAY)}  # LIVE-001, 0DTE
