"""The entry's legs handed to a close before the executor's final entry report."""

from __future__ import annotations

from shared.strategy_contract import ClosePosition, ExecutionReport, OpenPosition
from tests.bots.iron_fly_0dte.factory import (
    D,
    Market,
    at,
    fills_for,
    of_type,
    positions_of,
    records,
    run,
    step,
    strategy,
)

ENTRY = {"short_call": D("8.70"), "short_put": D("13.70"), "long_call": D("3.80"),
         "long_put": D("6.30")}
EXIT = {"short_call": D("26"), "short_put": D("1"), "long_call": D("7"), "long_put": D("0.10")}


def closed_before_the_report() -> tuple:
    """All four legs at the broker, no entry report yet, and a wing touch."""
    strat, market = strategy(), Market()
    (order,) = of_type(run(strat, market, at(9, 30), at(10, 0)), OpenPosition)
    market.positions = positions_of(order, opened_at=at(10, 0, 3))
    market.spot = D("5030")
    (close,) = of_type(step(strat, market, at(10, 0, 4), tick=True), ClosePosition)
    return strat, order, close


def test_a_fill_reported_during_the_close_books_the_credit_for_the_trades_pnl() -> None:
    strat, order, close = closed_before_the_report()
    assert (strat.state_name(), close.exit_reason) == ("closing", "wing_touch")
    report = ExecutionReport(order.intent_id, "filled", fills_for(order, ENTRY, at(10, 0, 3)))
    assert list(strat.on_execution(report, at(10, 0, 5))) == []  # no second close, no reopen
    assert strat.state_name() == "closing"
    closed = ExecutionReport(close.intent_id, "closed", fills_for(close, EXIT, at(10, 0, 6)))
    (log,) = records(strat.on_execution(closed, at(10, 0, 6)), "bot_log")
    # credit 1230 - 4 entry commissions; close -2600 - 100 + 700 + 10 - 4 commissions
    assert "realized_pnl_usd=-768.00" in log.payload["message"]
    assert strat.state_name() == "done"


def test_an_unwound_report_during_the_close_is_not_an_entry_failure() -> None:
    strat, order, _ = closed_before_the_report()
    actions = strat.on_execution(ExecutionReport(order.intent_id, "unwound"), at(10, 0, 5))
    assert records(actions, "safety_event") == []
    assert strat.state_name() == "closing"
