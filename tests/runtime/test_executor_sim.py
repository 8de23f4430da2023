"""The executor against the local simulator over real HTTP: entries, unwinds, retries, closes."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from shared.circuit_breaker import BreakerSettings
from shared.clock import ManualClock
from shared.journal import IntentStatus
from shared.strategy_contract import ClosePosition, OpenPosition, OrderStyle
from tests.runtime.helpers import (
    MARKET_OPEN,
    Rig,
    control,
    fly_legs,
    leave_next_order_unanswered,
    sim_orders,
    sim_positions,
)


@pytest.fixture
def server(sim_factory: Callable[..., Any]) -> Any:
    return sim_factory(start=MARKET_OPEN)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(MARKET_OPEN)


@pytest.fixture
def rig(server: Any, tmp_path: Path, clock: ManualClock) -> Iterator[Rig]:
    made = Rig(server, tmp_path, clock)
    yield made
    made.close()


def _open(rig: Rig, intent: str = "fly-1", **kwargs: Any) -> OpenPosition:
    return OpenPosition(intent, fly_legs(rig.server), "test entry", **kwargs)


def test_market_entry_fills_four_legs_in_order_and_journals_real_prices(
    rig: Rig, clock: ManualClock
) -> None:
    action = _open(rig)

    rig.executor.submit(action)
    reports = rig.run_until_idle(clock)

    assert [r.status for r in reports] == ["filled"]
    assert [f.leg for f in reports[0].fills] == ["long_call", "long_put", "short_call", "short_put"]
    held = sim_positions(rig.server)
    assert held == {leg.uic: Decimal(1 if leg.side.value == "buy" else -1) for leg in action.legs}
    trade = rig.journal.open_trades()[0]
    assert trade.label == "fly-1"
    sim_prices = {
        p.uic: p.open_price
        for p in rig.server.call(lambda s: list(s.exchange.portfolio.positions.values()))
    }
    assert {f.uic: f.price for f in trade.fills} == sim_prices
    assert all(f.commission_usd == Decimal("0.65") for f in trade.fills)


def test_every_intent_is_written_before_its_order_and_ends_filled(
    rig: Rig, clock: ManualClock
) -> None:
    rig.executor.submit(_open(rig))
    rig.run_until_idle(clock)

    assert rig.journal.intents_without_outcome() == []
    trade = rig.journal.open_trades()[0]
    intents = [rig.journal.intent(f.order_id) for f in trade.fills]  # order ids are not intents
    assert intents == [None] * 4
    rows = rig.journal._conn.execute("SELECT status, order_id FROM order_intents").fetchall()
    assert [r[0] for r in rows] == [IntentStatus.FILLED.value] * 4
    assert sorted(r[1] for r in rows) == sorted(f.order_id for f in trade.fills)


def test_failed_leg_after_fills_is_unwound_newest_first(
    server: Any, tmp_path: Path, clock: ManualClock
) -> None:
    def reject_third(point: str) -> None:
        if point == "before_send:3":
            control(server, "POST", "/orders/reject_next", {"error_code": "WouldExceedMargin"})

    with Rig(server, tmp_path, clock, crash=reject_third) as rig:
        action = _open(rig)
        rig.executor.submit(action)
        reports = rig.run_until_idle(clock)

        assert [r.status for r in reports] == ["unwound"]
        assert sim_positions(server) == {}
        trade = rig.journal.trades()[0]
        assert not trade.is_open and trade.exit_reason == "entry_failed" and trade.is_flat
        long_call, long_put, short_call = (leg.uic for leg in action.legs[:3])
        assert sim_orders(server) == [
            (long_call, "Buy"),
            (long_put, "Buy"),
            (short_call, "Sell"),  # rejected
            (long_put, "Sell"),
            (long_call, "Sell"),
        ]
        sent = [json.loads(r[0]) for r in rig.journal._conn.execute(
            "SELECT payload FROM order_intents WHERE status = 'filled' ORDER BY id"
        )]  # fmt: skip
        assert [p["to_open"] for p in sent] == [True, True, False, False]
        assert rig.breaker.status().failures_in_window >= 2


def test_retry_waits_for_its_timer_and_then_enters(rig: Rig, clock: ManualClock) -> None:
    control(rig.server, "POST", "/orders/reject_next", {"error_code": "TooFarFromMarket"})
    rig.executor.submit(_open(rig, max_attempts=2, attempt_spacing_s=15.0))
    first = rig.executor.drain_reports()
    assert [r.status for r in first] == ["in_progress"]

    clock.advance(timedelta(seconds=10))
    rig.executor.step()
    assert rig.executor.drain_reports() == []
    assert sim_positions(rig.server) == {}

    clock.advance(timedelta(seconds=6))
    reports = rig.run_until_idle(clock)
    assert [(r.status, r.attempt) for r in reports] == [("filled", 2)]
    assert len(sim_positions(rig.server)) == 4


def test_same_intent_is_never_entered_twice(rig: Rig, clock: ManualClock) -> None:
    rig.executor.submit(_open(rig))
    rig.run_until_idle(clock)

    rig.executor.submit(_open(rig))
    reports = rig.executor.drain_reports()

    assert [r.status for r in reports] == ["failed"]
    assert "already entered" in reports[0].detail
    assert len(rig.journal.trades()) == 1


def test_open_breaker_blocks_entry_but_not_close(
    server: Any, tmp_path: Path, clock: ManualClock
) -> None:
    with Rig(server, tmp_path, clock, breaker=BreakerSettings(consecutive_failures=1)) as rig:
        action = _open(rig)
        rig.executor.submit(action)
        rig.run_until_idle(clock)
        rig.breaker.record_failure("test trip")
        assert not rig.breaker.allows_new_entries()

        rig.executor.submit(_open(rig, intent="fly-2"))
        refused = rig.executor.drain_reports()
        close = ClosePosition(
            "fly-1-close", tuple(_closing(leg) for leg in reversed(action.legs)), "stop"
        )
        rig.executor.submit(close)
        closed = rig.run_until_idle(clock)

        assert [r.status for r in refused] == ["failed"]
        assert [r.status for r in closed] == ["closed"]
        assert sim_positions(server) == {}


def _closing(leg: Any) -> Any:
    from dataclasses import replace

    return replace(leg, side=leg.side.opposite)


def test_close_records_pnl_from_fills_and_queues_the_sheets_row(
    rig: Rig, clock: ManualClock
) -> None:
    action = _open(rig)
    rig.executor.submit(action)
    rig.run_until_idle(clock)

    closing = tuple(_closing(leg) for leg in action.legs)
    rig.executor.submit(ClosePosition("close-1", closing, "time_exit"))
    reports = rig.run_until_idle(clock)

    assert [r.status for r in reports] == ["closed"]
    trade = rig.journal.trades()[0]
    assert trade.exit_reason == "time_exit" and trade.is_flat
    signs = {"sell": 1, "buy": -1}
    expected = sum(
        (f.price * 100 * signs[f.side.value] - f.commission_usd for f in trade.fills), Decimal(0)
    )
    assert trade.pnl_usd == expected
    rows = rig.journal.outbox_pending(10)
    assert [(r.kind, r.payload["action"]) for r in rows] == [("trade", "CLOSE")]
    assert Decimal(rows[0].payload["pnl_usd"]) == expected


def test_stuck_close_reports_stuck_then_completes_when_the_broker_accepts(
    rig: Rig, clock: ManualClock
) -> None:
    action = _open(rig)
    rig.executor.submit(action)
    rig.run_until_idle(clock)
    control(rig.server, "POST", "/orders/reject_next", {"error_code": "MarketClosed", "count": 5})

    closing = tuple(_closing(leg) for leg in action.legs)
    rig.executor.submit(ClosePosition("close-1", closing, "stop"))
    reports = rig.run_until_idle(clock, timeout_s=120)

    assert [r.status for r in reports] == ["stuck", "closed"]
    assert sim_positions(rig.server) == {}
    assert [e.event for e in rig.journal.safety_events()] == ["close_stuck"]


def test_ladder_first_step_is_a_limit_at_the_touch(rig: Rig, clock: ManualClock) -> None:
    action = _open(rig, order_style=OrderStyle.LIMIT_LADDER)

    rig.executor.submit(action)
    reports = rig.run_until_idle(clock)

    assert [r.status for r in reports] == ["filled"]
    rows = rig.journal._conn.execute("SELECT payload FROM order_intents").fetchall()
    assert {json.loads(r[0])["order_type"] for r in rows} == {"limit"}


def test_an_aborted_entry_unwinds_its_filled_legs_and_never_retries(
    server: Any, tmp_path: Path, clock: ManualClock
) -> None:
    rigs: list[Rig] = []

    def abort_after_two_legs(point: str) -> None:
        if point == "after_leg:2":
            rigs[0].executor.abort_entries("strategy gave up", intent_id="fly-1")

    with Rig(server, tmp_path, clock, crash=abort_after_two_legs) as rig:
        rigs.append(rig)
        action = _open(rig, max_attempts=3, attempt_spacing_s=15.0)
        rig.executor.submit(action)
        reports = rig.run_until_idle(clock, timeout_s=60)

        assert [r.status for r in reports] == ["unwound"]
        assert sim_positions(server) == {}
        long_call, long_put = (leg.uic for leg in action.legs[:2])
        assert sim_orders(server) == [
            (long_call, "Buy"),
            (long_put, "Buy"),
            (long_put, "Sell"),
            (long_call, "Sell"),
        ]  # no short leg, no second attempt
        trade = rig.journal.trades()[0]
        assert not trade.is_open and trade.is_flat


def test_an_aborted_entry_still_looks_up_its_unanswered_order_before_giving_up(
    rig: Rig, clock: ManualClock
) -> None:
    leave_next_order_unanswered(rig.server)
    rig.executor.submit(_open(rig, max_attempts=3, attempt_spacing_s=15.0))
    assert rig.executor.drain_reports() == []  # the first leg's outcome is unknown

    rig.executor.abort_entries("strategy gave up", intent_id="fly-1")
    rig.executor.step()
    assert rig.executor.busy  # not abandoned while the order might exist
    reports = rig.run_until_idle(clock, timeout_s=120)

    assert [r.status for r in reports] == ["failed"]
    assert sim_orders(rig.server) == []  # the 503 was never processed; nothing else was sent
    assert [e.event for e in rig.journal.safety_events()] == ["order_not_found"]


def _enter_fly(rig: Rig, clock: ManualClock) -> tuple[Any, ...]:
    """Enter the fly; returns its closing legs: long call, long put, short call, short put."""
    action = _open(rig)
    rig.executor.submit(action)
    rig.run_until_idle(clock)
    return tuple(_closing(leg) for leg in action.legs)


def _refuse_next_close_leg(rig: Rig) -> None:
    """The next 5 orders are refused: every market attempt of one close leg."""
    control(rig.server, "POST", "/orders/reject_next", {"error_code": "MarketClosed", "count": 5})


def _step_for(rig: Rig, clock: ManualClock, seconds: float) -> list[Any]:
    """Step the executor for `seconds` of clock time (0.5 s per pass); returns its reports."""
    reports: list[Any] = []
    for _ in range(int(seconds / 0.5)):
        rig.executor.step()
        reports.extend(rig.executor.drain_reports())
        clock.sleep(0.5)
    return reports


def test_a_long_leg_that_cannot_be_sold_does_not_hold_back_the_other_long(
    rig: Rig, clock: ManualClock
) -> None:
    # The shorts are bought back first; then the long call's sale is refused (5 market
    # attempts). The long put, which still has value, is sold at once, not after the retry.
    long_call, long_put, short_call, short_put = _enter_fly(rig, clock)
    rig.executor.submit(ClosePosition("close-shorts", (short_call, short_put), "wing_touch"))
    assert [r.status for r in rig.run_until_idle(clock)] == ["closed"]
    _refuse_next_close_leg(rig)

    rig.executor.submit(ClosePosition("close-longs", (long_call, long_put), "wing_touch"))
    first = _step_for(rig, clock, 20.0)  # 5 attempts 2 s apart, then well inside the 30 s retry

    assert [r.status for r in first] == ["stuck"]
    assert sim_positions(rig.server) == {long_call.uic: Decimal(1)}
    assert [r.status for r in rig.run_until_idle(clock, timeout_s=60)] == ["closed"]
    assert sim_positions(rig.server) == {}
    trade = rig.journal.trades()[0]
    assert trade.exit_reason == "wing_touch" and trade.is_flat


def test_a_short_that_cannot_be_bought_back_holds_the_longs_but_not_the_other_short(
    rig: Rig, clock: ManualClock
) -> None:
    # Shorts first: the short call's buy-back is refused. The short put is still bought back
    # (it only lowers risk) while both longs stay held: they cover the short call.
    long_call, long_put, short_call, short_put = _enter_fly(rig, clock)
    _refuse_next_close_leg(rig)

    rig.executor.submit(
        ClosePosition("close-1", (short_call, short_put, long_call, long_put), "stop")
    )
    first = _step_for(rig, clock, 20.0)

    assert [r.status for r in first] == ["stuck"]
    assert sim_positions(rig.server) == {
        short_call.uic: Decimal(-1), long_call.uic: Decimal(1), long_put.uic: Decimal(1)
    }
    assert [r.status for r in rig.run_until_idle(clock, timeout_s=60)] == ["closed"]
    assert sim_positions(rig.server) == {}
    legs_in_fill_order = [f.leg for f in rig.journal.trades()[0].fills
                          if f.open_close.value == "close"]  # fmt: skip
    assert legs_in_fill_order == ["short_put", "short_call", "long_call", "long_put"]
