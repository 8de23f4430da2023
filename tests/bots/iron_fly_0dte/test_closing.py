"""Closing: the `closed` report, realized P&L from fills, and stuck-close escalation."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from bots.iron_fly_0dte.states import IronFlyState
from shared.domain import Side
from shared.sheets.payloads import decode
from shared.strategy_contract import AbortEntry, ClosePosition, ExecutionReport, OpenPosition
from tests.bots.iron_fly_0dte.factory import (
    D,
    Market,
    at,
    enter,
    fills_for,
    of_type,
    positions_of,
    records,
    run,
    step,
    strategy,
)

NEXT_DAY = date(2026, 3, 11)
ENTRY = {"short_call": D("8.70"), "short_put": D("13.70"), "long_call": D("3.80"),
         "long_put": D("6.30")}


def closing(market: Market | None = None) -> tuple:
    """A fly filled at ENTRY (net credit 1226 USD) and stopped out at 10:10."""
    strat, market = strategy(), market or Market()
    order = enter(strat, market, fill_prices=ENTRY)
    market.spot = D("5030")
    (close,) = of_type(step(strat, market, at(10, 10), tick=True), ClosePosition)
    return strat, market, order, close


def test_closed_report_ends_the_day_with_pnl_from_the_fills() -> None:
    strat, _, _, close = closing()
    prices = {"short_call": D("7.00"), "short_put": D("7.00"), "long_call": D("1.20"),
              "long_put": D("1.33")}
    fills = fills_for(close, prices, at(10, 10, 3))
    actions = strat.on_execution(ExecutionReport(close.intent_id, "closed", fills), at(10, 10, 3))
    assert strat.state_name() == IronFlyState.DONE
    assert not strat.in_position()
    (row,) = records(actions, "bot_log")
    decode("bot_log", row.payload)  # the Sheets mirror accepts the row as is
    fields = dict(item.split("=", 1) for item in row.payload["message"].split()[1:])
    # 1226 net credit - (7.00 + 7.00 - 1.20 - 1.33) x 100 - 4 commissions = 75.00
    assert D(fields["realized_pnl_usd"]) == D("75")
    assert fields["exit_reason"] == "wing_touch"


def test_stuck_close_alerts_and_reissues_on_the_schedule() -> None:
    strat, market, _, close = closing()
    actions = strat.on_execution(ExecutionReport(close.intent_id, "stuck", detail="no fill"),
                                 at(10, 10, 20))
    assert strat.state_name() == IronFlyState.CLOSE_STUCK
    assert strat.in_position()
    assert records(actions, "safety_event")[0].payload["event"] == "close_stuck"
    # the shorts were bought back; the broker still holds the two wings
    market.positions = [p for p in market.positions if p.amount > 0]
    assert of_type(run(strat, market, at(10, 10, 25), at(10, 11, 15)), ClosePosition) == []
    (again,) = of_type(step(strat, market, at(10, 11, 20)), ClosePosition)
    assert again.intent_id == close.intent_id  # the executor never runs two closes of one intent
    assert [(leg.leg, leg.side, leg.quantity) for leg in again.legs] == [
        ("long_call", Side.SELL, 1), ("long_put", Side.SELL, 1)]
    assert again.exit_reason == "wing_touch"


def test_stuck_close_keeps_retrying_until_closed() -> None:
    strat, market, _, close = closing()
    strat.on_execution(ExecutionReport(close.intent_id, "stuck"), at(10, 10, 20))
    (second,) = of_type(step(strat, market, at(10, 11, 20)), ClosePosition)
    strat.on_execution(ExecutionReport(second.intent_id, "stuck"), at(10, 11, 30))
    assert of_type(step(strat, market, at(10, 12, 0)), ClosePosition) == []
    (third,) = of_type(step(strat, market, at(10, 12, 30)), ClosePosition)
    strat.on_execution(ExecutionReport(third.intent_id, "closed"), at(10, 12, 35))
    assert strat.state_name() == IronFlyState.DONE


def test_silent_close_is_escalated_and_reissued() -> None:
    strat, market, _, close = closing()
    assert run(strat, market, at(10, 10, 5), at(10, 10, 55)) == []
    actions = step(strat, market, at(10, 11, 0))
    assert strat.state_name() == IronFlyState.CLOSE_STUCK
    (again,) = of_type(actions, ClosePosition)
    assert again.intent_id == close.intent_id
    assert len(again.legs) == 4


def test_broker_showing_flat_ends_a_stuck_close() -> None:
    strat, market, _, close = closing()
    strat.on_execution(ExecutionReport(close.intent_id, "stuck"), at(10, 10, 20))
    market.positions = []
    actions = step(strat, market, at(10, 11, 20))
    assert of_type(actions, ClosePosition) == []
    assert strat.state_name() == IronFlyState.DONE
    assert records(actions, "safety_event")[0].payload["event"] == "close_confirmed_by_positions"


@pytest.mark.parametrize("status", ["failed", "unwound"])
def test_a_failed_close_report_counts_as_stuck(status: str) -> None:
    strat, _, _, close = closing()
    strat.on_execution(ExecutionReport(close.intent_id, status), at(10, 10, 20))  # type: ignore[arg-type]
    assert strat.state_name() == IronFlyState.CLOSE_STUCK


def test_entry_report_timeout_closes_what_the_broker_shows() -> None:
    strat, market = strategy(), Market()
    (order,) = of_type(run(strat, market, at(9, 30), at(10, 0)), OpenPosition)
    # no report at all; two legs reached the broker
    legs = {leg.leg: leg for leg in order.legs}
    market.positions = [p for p in positions_of(order)
                        if p.uic in (legs["long_call"].uic, legs["long_put"].uic)]
    deadline = at(10, 0) + timedelta(seconds=330)  # (3 - 1) attempts x 15 s + 300 s
    assert of_type(run(strat, market, at(10, 0, 5), at(10, 5, 25)), ClosePosition) == []
    actions = step(strat, market, deadline)
    (close,) = of_type(actions, ClosePosition)
    assert {leg.uic for leg in close.legs} == {legs["long_call"].uic, legs["long_put"].uic}
    assert records(actions, "safety_event")[0].payload["event"] == "entry_report_timeout"


def test_entry_report_timeout_with_nothing_at_the_broker_aborts_the_entry_and_ends_the_day(
) -> None:
    strat, market = strategy(), Market()
    (order,) = of_type(run(strat, market, at(9, 30), at(10, 0)), OpenPosition)
    actions = run(strat, market, at(10, 0, 5), at(10, 6), every_s=30)
    assert strat.state_name() == IronFlyState.DONE
    assert of_type(actions, AbortEntry) == [AbortEntry(order.intent_id, "entry report timeout")]


def test_a_fill_reported_after_giving_up_is_closed_at_once() -> None:
    strat, market = strategy(), Market()
    (order,) = of_type(run(strat, market, at(9, 30), at(10, 0)), OpenPosition)
    strat.on_execution(ExecutionReport(order.intent_id, "failed", attempt=3), at(10, 1))
    fills = fills_for(order, ENTRY, at(10, 2))
    actions = strat.on_execution(ExecutionReport(order.intent_id, "filled", fills), at(10, 2))
    (close,) = of_type(actions, ClosePosition)
    assert close.exit_reason == "late_entry_fill"
    assert strat.state_name() == IronFlyState.CLOSING


def test_incomplete_entry_fills_fall_back_to_broker_open_prices() -> None:
    strat, market = strategy(), Market()
    (order,) = of_type(run(strat, market, at(9, 30), at(10, 0)), OpenPosition)
    partial = fills_for(order, ENTRY, at(10, 0, 5))[:3]
    actions = strat.on_execution(ExecutionReport(order.intent_id, "filled", partial), at(10, 0, 5))
    assert records(actions, "safety_event")[0].payload["event"] == "entry_fills_incomplete"
    market.positions = positions_of(order, open_prices=ENTRY)
    step(strat, market, at(10, 0, 10))
    fly = strat.export_state()["fly"]
    assert (fly["credit_usd"], fly["credit_source"]) == ("1230.00", "broker_open_price")


def test_unknown_report_is_ignored() -> None:
    strat, _, _, _ = closing()
    before = strat.export_state()
    assert strat.on_execution(ExecutionReport("someone-else", "closed"), at(10, 11)) == []
    assert strat.export_state() == before


def test_a_close_stuck_into_the_next_day_is_not_reset_and_keeps_its_intent() -> None:
    # POS-005: the new day's lifecycles start only once the fly is flat
    strat, market, _, close = closing()
    strat.on_execution(ExecutionReport(close.intent_id, "stuck"), at(10, 10, 20))
    market.day = NEXT_DAY
    market.spot = D("5000")
    actions = step(strat, market, at(9, 35, day=NEXT_DAY))
    assert strat.state_name() == IronFlyState.CLOSE_STUCK
    (again,) = of_type(actions, ClosePosition)
    assert again.intent_id == close.intent_id
    closed = ExecutionReport(close.intent_id, "closed")
    strat.on_execution(closed, at(9, 35, 5, day=NEXT_DAY))
    market.positions = []
    step(strat, market, at(9, 35, 10, day=NEXT_DAY))
    # flat now: the next decide starts the new day and records its opening range
    assert strat.state_name() == IronFlyState.OPENING_RANGE
