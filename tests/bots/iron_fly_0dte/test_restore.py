"""Restart in each state: the saved state and the broker's positions rebuild a protected bot."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import date, timedelta
from typing import Any

import pytest

from bots.iron_fly_0dte.states import IronFlyState
from shared.domain import PutCall, Side
from shared.strategy_contract import ClosePosition, ExecutionReport, OpenPosition
from tests.bots.iron_fly_0dte.factory import (
    DAY,
    D,
    Market,
    at,
    enter,
    fills_for,
    of_type,
    option_position,
    option_uic,
    positions_of,
    records,
    run,
    step,
    strategy,
)

ENTRY = {"short_call": D("8.70"), "short_put": D("13.70"), "long_call": D("3.80"),
         "long_put": D("6.30")}


def saved(strat: Any) -> dict[str, Any]:
    """The exported state as the journal stores it (through JSON)."""
    data: dict[str, Any] = json.loads(json.dumps(strat.export_state()))
    return data


def restarted(saved_state: dict[str, Any] | None, market: Market, now: Any) -> tuple:
    fresh = strategy()
    actions = list(fresh.restore(saved_state, tuple(market.positions), now))
    return fresh, actions


def fly_positions() -> list:
    """A complete 5005 fly with wings 4985/5025, opened at the ENTRY prices."""
    return [
        option_position("5025", PutCall.CALL, 1, open_price="3.80"),
        option_position("4985", PutCall.PUT, 1, open_price="6.30"),
        option_position("5005", PutCall.CALL, -1, open_price="8.70"),
        option_position("5005", PutCall.PUT, -1, open_price="13.70"),
    ]


def test_restart_before_the_open_then_trades_normally() -> None:
    market = Market()
    fresh, actions = restarted(None, market, at(9, 0))
    assert actions == [] and fresh.state_name() == IronFlyState.IDLE
    assert of_type(run(fresh, market, at(9, 30), at(10, 0)), OpenPosition)


def test_restart_during_the_range_keeps_the_range_seen_before_the_crash() -> None:
    strat, market = strategy(), Market()
    run(strat, market, at(9, 30), at(9, 45), path=lambda _: D("5010"))
    run(strat, market, at(9, 45, 5), at(9, 50), path=lambda _: D("4990"))
    fresh, _ = restarted(saved(strat), market, at(9, 52))
    assert fresh.state_name() == IronFlyState.OPENING_RANGE
    market.spot = D("5000")
    assert of_type(run(fresh, market, at(9, 52), at(10, 0)), OpenPosition)
    assert fresh.export_state()["opening_range"]["high"] == "5010.00"


def test_restart_during_the_range_without_saved_state_cannot_trade() -> None:
    market = Market()
    fresh, _ = restarted(None, market, at(9, 52))
    actions = run(fresh, market, at(9, 52), at(10, 0))
    assert of_type(actions, OpenPosition) == []


def test_restart_while_waiting_for_legs_keeps_waiting_within_the_window() -> None:
    strat, market = strategy(), Market(missing={option_uic(D(5005), PutCall.CALL)})
    run(strat, market, at(9, 30), at(10, 1))
    assert strat.state_name() == IronFlyState.ENTRY_PENDING
    fresh, _ = restarted(saved(strat), market, at(10, 2))
    assert fresh.state_name() == IronFlyState.ENTRY_PENDING
    market.missing = set()
    assert of_type(step(fresh, market, at(10, 2)), OpenPosition)


def interrupted_entry(legs: int = 4) -> tuple:
    """A bot killed after sending its entry, with `legs` of the four legs at the broker."""
    strat, market = strategy(), Market()
    (order,) = of_type(run(strat, market, at(9, 30), at(10, 0)), OpenPosition)
    market.positions = positions_of(order, opened_at=at(10, 0, 4), open_prices=ENTRY)[:legs]
    fresh, actions = restarted(saved(strat), market, at(10, 1))
    return fresh, market, order, actions


def test_restart_while_entering_waits_for_the_executors_report() -> None:
    fresh, _, order, actions = interrupted_entry()
    assert actions == [] and fresh.state_name() == IronFlyState.ENTERING
    fills = fills_for(order, ENTRY, at(10, 0, 4))  # the executor's restored job reports
    fresh.on_execution(ExecutionReport(order.intent_id, "filled", fills), at(10, 1))
    assert fresh.state_name() == IronFlyState.IN_POSITION
    assert fresh.export_state()["fly"]["credit_source"] == "fills"


def test_restart_while_entering_guards_a_complete_fly_before_the_report() -> None:
    fresh, market, order, _ = interrupted_entry()
    market.spot = D("5030")
    (close,) = of_type(step(fresh, market, at(10, 1, 1), tick=True), ClosePosition)
    assert (close.exit_reason, {leg.uic for leg in close.legs}) == (
        "wing_touch", {leg.uic for leg in order.legs})


def test_restart_while_entering_with_half_a_fly_leaves_the_unwind_to_the_executor() -> None:
    fresh, market, order, actions = interrupted_entry(legs=3)
    assert of_type(actions, ClosePosition) == []  # the executor unwinds its own legs
    market.spot = D("5030")
    assert of_type(step(fresh, market, at(10, 1, 1), tick=True), ClosePosition) == []
    fresh.on_execution(ExecutionReport(order.intent_id, "unwound", attempt=1), at(10, 1, 5))
    assert fresh.state_name() == IronFlyState.DONE


def test_restart_while_entering_with_nothing_at_the_broker_does_not_reenter() -> None:
    fresh, market, order, _ = interrupted_entry(legs=0)
    fresh.on_execution(ExecutionReport(order.intent_id, "failed"), at(10, 1, 1))
    assert fresh.state_name() == IronFlyState.DONE
    assert of_type(run(fresh, market, at(10, 1, 5), at(10, 5)), OpenPosition) == []


def test_restart_while_entering_closes_legs_that_are_not_the_planned_fly() -> None:
    strat, market = strategy(), Market()
    run(strat, market, at(9, 30), at(10, 0))
    market.positions = [option_position("5100", PutCall.CALL, -1)]
    fresh, actions = restarted(saved(strat), market, at(10, 1))
    (close,) = of_type(actions, ClosePosition)
    assert close.legs[0].strike == D(5100)
    assert fresh.state_name() == IronFlyState.CLOSING


def test_restart_in_position_restores_the_fill_credit_and_entry_time() -> None:
    strat, market = strategy(), Market()
    enter(strat, market, fill_prices=ENTRY, fill_at=at(10, 0, 5))
    fresh, actions = restarted(saved(strat), market, at(10, 30))
    assert actions == []
    assert fresh.state_name() == IronFlyState.IN_POSITION
    fly = fresh.export_state()["fly"]
    assert (fly["credit_usd"], fly["credit_source"]) == ("1230.00", "fills")
    assert run(fresh, market, at(10, 30), at(11, 0), every_s=60) == []
    (close,) = of_type(step(fresh, market, at(11, 0, 5)), ClosePosition)  # 60 min after fill
    assert close.exit_reason == "time_exit"


def test_restart_in_position_monitors_the_wings_from_the_first_decide() -> None:
    strat, market = strategy(), Market()
    enter(strat, market, fill_prices=ENTRY)
    fresh, _ = restarted(saved(strat), market, at(10, 30))
    market.spot = D("4985.05")
    (close,) = of_type(step(fresh, market, at(10, 30), tick=True), ClosePosition)
    assert close.exit_reason == "wing_touch"


@pytest.mark.parametrize("stuck", [False, True])
def test_restart_while_closing_reissues_the_close_at_once(stuck: bool) -> None:
    strat, market = strategy(), Market()
    enter(strat, market, fill_prices=ENTRY)
    market.spot = D("5030")
    (first,) = of_type(step(strat, market, at(10, 10), tick=True), ClosePosition)
    if stuck:
        strat.on_execution(ExecutionReport(first.intent_id, "stuck"), at(10, 10, 20))
    market.positions = [p for p in market.positions if p.amount > 0]  # shorts bought back
    fresh, actions = restarted(saved(strat), market, at(10, 11))
    (close,) = of_type(actions, ClosePosition)
    assert close.intent_id == first.intent_id  # a resumed executor job ignores it
    assert close.exit_reason == "wing_touch"
    assert {leg.leg for leg in close.legs} == {"long_call", "long_put"}
    assert fresh.state_name() == IronFlyState.CLOSING
    fills = fills_for(close, {"long_call": D("5.00"), "long_put": D("0.05")}, at(10, 11, 5))
    fresh.on_execution(ExecutionReport(close.intent_id, "closed", fills), at(10, 11, 5))
    assert fresh.state_name() == IronFlyState.DONE


def test_restart_after_a_closed_trade_stays_done() -> None:
    strat, market = strategy(), Market()
    enter(strat, market)
    market.spot = D("5030")
    (close,) = of_type(step(strat, market, at(10, 10), tick=True), ClosePosition)
    strat.on_execution(ExecutionReport(close.intent_id, "closed"), at(10, 10, 5))
    market.positions, market.spot = [], D("5000")
    fresh, actions = restarted(saved(strat), market, at(10, 20))
    assert actions == [] and fresh.state_name() == IronFlyState.DONE


def test_saved_position_gone_from_the_broker_is_recorded() -> None:
    strat, market = strategy(), Market()
    enter(strat, market)
    market.positions = []  # POS-002: closed by hand
    fresh, actions = restarted(saved(strat), market, at(10, 20))
    assert fresh.state_name() == IronFlyState.DONE
    assert records(actions, "safety_event")[0].payload["event"] == "position_gone_at_restart"


def test_fly_without_saved_state_is_adopted_with_broker_open_prices() -> None:
    market = Market(positions=fly_positions())
    fresh, actions = restarted(None, market, at(10, 20))
    assert fresh.state_name() == IronFlyState.IN_POSITION
    assert records(actions, "safety_event")[0].payload["event"] == "fly_adopted"
    fly = fresh.export_state()["fly"]
    assert (fly["atm_strike"], fly["upper_wing"], fly["lower_wing"]) == ("5005", "5025", "4985")
    assert fly["credit_usd"] == "1230.00"


@pytest.mark.parametrize(
    "positions",
    [
        pytest.param(fly_positions()[:3], id="three-legs"),
        pytest.param([
            *fly_positions(),
            option_position("5030", PutCall.CALL, 1), option_position("4980", PutCall.PUT, 1),
            option_position("5010", PutCall.CALL, -1), option_position("5010", PutCall.PUT, -1),
        ], id="two-flies"),
        pytest.param([
            *fly_positions()[:2],
            option_position("5005", PutCall.CALL, -2), option_position("5005", PutCall.PUT, -1),
        ], id="unequal-sizes"),
        pytest.param([
            *fly_positions()[:2],
            option_position("5005", PutCall.CALL, -1), option_position("5000", PutCall.PUT, -1),
        ], id="split-body"),
    ],
)
def test_anything_but_one_complete_fly_is_closed_entirely(positions: list) -> None:
    market = Market(positions=positions)
    fresh, actions = restarted(None, market, at(10, 20))
    (close,) = of_type(actions, ClosePosition)
    expected = {p.uic: (Side.BUY if p.amount < 0 else Side.SELL, abs(int(p.amount)))
                for p in positions}
    assert {leg.uic: (leg.side, leg.quantity) for leg in close.legs} == expected
    sides = [leg.side for leg in close.legs]
    assert sides == sorted(sides, key=lambda side: side is Side.SELL)  # shorts first
    assert fresh.state_name() == IronFlyState.CLOSING
    assert records(actions, "safety_event")[0].payload["event"] == "malformed_position"


def test_fly_expiring_another_day_is_closed() -> None:
    tomorrow = DAY + timedelta(days=1)
    positions = [replace(p, expiry=tomorrow) for p in fly_positions()]
    fresh, actions = restarted(None, Market(positions=positions), at(10, 20))
    assert len(of_type(actions, ClosePosition)[0].legs) == 4
    assert fresh.state_name() == IronFlyState.CLOSING


def test_corrupt_saved_state_is_reported_and_ignored() -> None:
    fresh, actions = restarted({"version": 1, "state": "flying"}, Market(), at(9, 0))
    assert fresh.state_name() == IronFlyState.IDLE
    (event,) = records(actions, "safety_event")
    assert event.payload["event"] == "saved_state_invalid"
    assert "flying" in event.payload["description"]


def test_saved_state_of_another_day_is_ignored() -> None:
    strat, market = strategy(), Market()
    run(strat, market, at(9, 30), at(10, 0))  # ENTERING yesterday
    today = date(2026, 3, 11)
    fresh = strategy()
    assert list(fresh.restore(saved(strat), (), at(9, 0, day=today))) == []
    assert fresh.state_name() == IronFlyState.IDLE


def test_export_state_is_json_and_round_trips() -> None:
    strat, market = strategy(), Market()
    enter(strat, market, fill_prices=ENTRY)
    fresh, _ = restarted(saved(strat), market, at(10, 5))
    assert saved(fresh)["fly"] == saved(strat)["fly"]


def test_leftover_legs_at_a_new_day_are_closed() -> None:
    strat, market = strategy(), Market()
    run(strat, market, at(10, 1), at(10, 2))  # late start: DONE on day 1
    next_day = date(2026, 3, 11)
    market = Market(day=next_day, positions=[
        option_position("5005", PutCall.CALL, -1, day=next_day)])
    (close,) = of_type(step(strat, market, at(9, 0, day=next_day)), ClosePosition)
    assert close.exit_reason == "leftover_legs"
    assert strat.state_name() == IronFlyState.CLOSING


def test_a_new_day_resets_and_trades_again() -> None:
    strat, market = strategy(), Market()
    run(strat, market, at(10, 1), at(10, 2))
    next_day = date(2026, 3, 11)
    market = Market(day=next_day)
    (order,) = of_type(run(strat, market, at(9, 30, day=next_day), at(10, day=next_day)),
                       OpenPosition)
    assert order.intent_id.endswith(f"{next_day.isoformat()}:entry")
