"""Journal writes and reads against a real SQLite file: intents, state, trades, fills, outbox."""

from __future__ import annotations

import logging
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from shared.clock import ManualClock
from shared.journal import IntentStatus, Journal, JournalError, PositionSnapshot
from tests.shared.journal.factories import BOT, START, add_fill


class _Boom(Exception):
    pass


# ---- intents and transactions --------------------------------------------------------------


def test_intent_is_pending_until_an_outcome_is_marked(journal: Journal) -> None:
    journal.record_intent(request_id="r-1", bot=BOT, action="open_iron_fly", payload={"legs": 4})
    assert [i.request_id for i in journal.intents_without_outcome()] == ["r-1"]

    journal.mark_intent("r-1", IntentStatus.SENT, order_id="5001")
    assert journal.intents_without_outcome()[0].status is IntentStatus.SENT

    filled = journal.mark_intent("r-1", "filled")
    assert filled.order_id == "5001"  # kept from the earlier mark
    assert journal.intents_without_outcome() == []


def test_unknown_intents_still_need_reconciliation(journal: Journal) -> None:
    journal.record_intent(request_id="r-1", bot=BOT, action="close", payload={})
    journal.mark_intent("r-1", "unknown", error="timeout after 10 s")
    (pending,) = journal.intents_without_outcome()
    assert pending.status is IntentStatus.UNKNOWN and pending.error == "timeout after 10 s"


def test_duplicate_request_id_is_refused(journal: Journal) -> None:
    journal.record_intent(request_id="r-1", bot=BOT, action="open", payload={})
    with pytest.raises(JournalError, match="already recorded"):
        journal.record_intent(request_id="r-1", bot=BOT, action="open", payload={})


@pytest.mark.parametrize(
    ("first", "then"), [("filled", "failed"), ("failed", "sent"), ("sent", "pending")]
)
def test_outcomes_are_final_and_intents_never_go_back(
    journal: Journal, first: str, then: str
) -> None:
    journal.record_intent(request_id="r-1", bot=BOT, action="open", payload={})
    journal.mark_intent("r-1", "sent")
    journal.mark_intent("r-1", first)
    with pytest.raises(JournalError, match="cannot move"):
        journal.mark_intent("r-1", then)


def test_marking_an_unknown_request_id_fails(journal: Journal) -> None:
    with pytest.raises(JournalError, match="no order intent"):
        journal.mark_intent("nope", "sent")


def test_intent_error_text_is_redacted(journal: Journal) -> None:
    journal.record_intent(request_id="r-1", bot=BOT, action="open", payload={})
    journal.mark_intent("r-1", "failed", error="401 for refresh_token=abcdef123456 at /token")
    stored = journal.intent("r-1")
    assert stored is not None and stored.error is not None
    assert "abcdef123456" not in stored.error


def test_intent_and_state_commit_together(journal: Journal) -> None:
    with journal.transaction() as tx:
        tx.record_intent(request_id="r-1", bot=BOT, action="open", payload={"uic": 1})
        tx.save_state(BOT, "ENTERING", {"request_id": "r-1"})
    state = journal.load_state(BOT)
    assert state is not None and state.state == "ENTERING"
    assert journal.intent("r-1") is not None


def test_an_exception_rolls_back_intent_and_state(journal: Journal) -> None:
    journal.save_state(BOT, "IDLE", {})
    with pytest.raises(_Boom), journal.transaction() as tx:
        tx.record_intent(request_id="r-1", bot=BOT, action="open", payload={})
        tx.save_state(BOT, "ENTERING", {"request_id": "r-1"})
        raise _Boom
    state = journal.load_state(BOT)
    assert state is not None and state.state == "IDLE"
    assert journal.intent("r-1") is None


def test_explicit_transactions_commit_with_synchronous_full(journal: Journal) -> None:
    with journal.transaction():
        assert journal.synchronous_level() == 2
    assert journal.synchronous_level() == 1


def test_nested_transactions_and_stale_tx_objects_are_refused(journal: Journal) -> None:
    with journal.transaction() as tx, pytest.raises(JournalError, match="already open"):
        journal.save_state(BOT, "IDLE", {})
    with pytest.raises(JournalError, match="already ended"):
        tx.save_state(BOT, "IDLE", {})


def test_state_payload_must_be_plain_json(journal: Journal) -> None:
    with pytest.raises(ValueError, match="not plain JSON"):
        journal.save_state(BOT, "IDLE", {"price": Decimal("1.5")})


def test_save_state_replaces_the_single_row_of_a_bot(journal: Journal, clock: ManualClock) -> None:
    journal.save_state(BOT, "IDLE", {"n": 1})
    clock.advance(timedelta(minutes=5))
    journal.save_state(BOT, "HOLDING", {"n": 2})
    state = journal.load_state(BOT)
    assert state is not None
    assert (state.state, state.payload, state.updated_at) == ("HOLDING", {"n": 2}, clock.now())
    assert journal.load_state("delta_neutral") is None


# ---- orders, trades and fills ---------------------------------------------------------------


def test_order_back_fill_is_idempotent(journal: Journal) -> None:
    values = dict(
        order_id="5001",
        uic=1001,
        side="sell",
        open_close="open",
        quantity=1,
        order_type="limit",
        status="working",
        limit_price=Decimal("2.50"),
    )
    assert journal.record_order(**values) is True  # type: ignore[arg-type]
    assert journal.record_order(**values) is False  # type: ignore[arg-type]
    journal.update_order_status("5001", "filled")
    with pytest.raises(JournalError, match="no order"):
        journal.update_order_status("9999", "filled")


def test_fill_back_fill_is_idempotent_by_execution_id(journal: Journal) -> None:
    trade_id = journal.open_trade(bot=BOT, quantity=1)
    assert add_fill(journal, trade_id, execution_id="x-1") is not None
    assert add_fill(journal, trade_id, execution_id="x-1") is None
    assert len(journal.trade(trade_id).fills) == 1


def test_fill_round_trips_exact_values(journal: Journal) -> None:
    trade_id = journal.open_trade(bot=BOT, quantity=1)
    fill = add_fill(
        journal,
        trade_id,
        price=Decimal("0.05"),
        commission_usd=Decimal("0.65"),
        simulated=True,
        order_id="5001",
    )
    (stored,) = journal.trade(trade_id).fills
    assert stored == fill
    assert (stored.price, stored.commission_usd, stored.simulated) == (
        Decimal("0.05"),
        Decimal("0.65"),
        True,
    )


@pytest.mark.parametrize(
    ("field", "value", "error"),
    [
        ("price", 2.5, TypeError),  # a float is not money
        ("price", Decimal("-0.05"), ValueError),
        ("price", Decimal("NaN"), ValueError),
        ("commission_usd", Decimal("-1"), ValueError),
        ("quantity", 0, ValueError),
        ("multiplier", True, ValueError),
        ("side", "short", ValueError),
        ("open_close", "to_open", ValueError),
        ("filled_at", datetime(2026, 3, 2, 15, 0), ValueError),  # naive
    ],
)
def test_bad_fill_values_are_refused(
    journal: Journal, field: str, value: object, error: type
) -> None:
    trade_id = journal.open_trade(bot=BOT, quantity=1)
    with pytest.raises(error):
        add_fill(journal, trade_id, **{field: value})
    assert journal.trade(trade_id).fills == ()


def test_fill_for_an_unknown_trade_is_refused(journal: Journal) -> None:
    with pytest.raises(JournalError, match="trade 42"):
        add_fill(journal, 42)


def test_trade_pnl_comes_from_fills_with_commissions(journal: Journal) -> None:
    trade_id = journal.open_trade(bot=BOT, quantity=1, label="iron fly 5800")
    add_fill(journal, trade_id, side="sell", price=Decimal("2.50"), commission_usd=Decimal("1.10"))
    assert journal.trade(trade_id).pnl_usd is None  # open: no P&L yet
    add_fill(
        journal,
        trade_id,
        side="buy",
        open_close="close",
        price=Decimal("1.00"),
        commission_usd=Decimal("1.10"),
    )
    closed = journal.close_trade(trade_id, "profit_target", START + timedelta(minutes=18))
    # (2.50 - 1.00) x 100 x 1 = 150.00, minus 2.20 commissions.
    assert closed.pnl_usd == Decimal("147.80")
    assert closed.commissions_usd == Decimal("2.20")
    assert closed.is_flat


def test_close_trade_refuses_twice_and_before_open(journal: Journal) -> None:
    trade_id = journal.open_trade(bot=BOT, quantity=1)
    with pytest.raises(JournalError, match="before it opened"):
        journal.close_trade(trade_id, "stop", START - timedelta(seconds=1))
    journal.close_trade(trade_id, "stop", START)
    with pytest.raises(JournalError, match="already closed"):
        journal.close_trade(trade_id, "stop", START)
    with pytest.raises(JournalError, match="no trade"):
        journal.close_trade(999, "stop", START)


def test_closing_a_trade_that_is_not_flat_logs_a_warning(
    journal: Journal, caplog: pytest.LogCaptureFixture
) -> None:
    trade_id = journal.open_trade(bot=BOT, quantity=1)
    add_fill(journal, trade_id)
    with caplog.at_level(logging.WARNING, logger="shared.journal"):
        journal.close_trade(trade_id, "manual", START)
    assert any(r.getMessage().startswith("trade_closed_not_flat") for r in caplog.records)


def test_open_trades_and_trades_since_a_new_york_date(journal: Journal) -> None:
    # 2026-03-03 04:30 UTC is still 2 March in New York (23:30 EST).
    late_monday = journal.open_trade(
        bot=BOT, quantity=1, opened_at=datetime(2026, 3, 3, 4, 30, tzinfo=UTC)
    )
    tuesday = journal.open_trade(
        bot=BOT, quantity=1, opened_at=datetime(2026, 3, 3, 15, 0, tzinfo=UTC)
    )
    journal.close_trade(late_monday, "expiry", datetime(2026, 3, 3, 5, 0, tzinfo=UTC))
    assert [t.trade_id for t in journal.trades(since=date(2026, 3, 3))] == [tuesday]
    assert [t.trade_id for t in journal.trades()] == [late_monday, tuesday]
    assert [t.trade_id for t in journal.open_trades()] == [tuesday]


def test_daily_pnl_groups_by_new_york_close_date(journal: Journal) -> None:
    win = journal.open_trade(bot=BOT, quantity=1)
    add_fill(journal, win, side="sell", price=Decimal("3.00"), commission_usd=Decimal(0))
    add_fill(
        journal,
        win,
        side="buy",
        open_close="close",
        price=Decimal("1.00"),
        commission_usd=Decimal(0),
    )
    journal.close_trade(win, "target", START + timedelta(hours=1))
    loss = journal.open_trade(bot=BOT, quantity=1)
    add_fill(journal, loss, side="sell", price=Decimal("1.00"), commission_usd=Decimal("0.50"))
    add_fill(
        journal,
        loss,
        side="buy",
        open_close="close",
        price=Decimal("1.50"),
        commission_usd=Decimal("0.50"),
    )
    # 01:00 UTC on 3 March is 20:00 on 2 March in New York.
    journal.close_trade(loss, "stop", datetime(2026, 3, 3, 1, 0, tzinfo=UTC))
    # 05:00 UTC on 3 March is midnight in New York: the next day.
    tuesday = journal.open_trade(bot=BOT, quantity=1)
    add_fill(journal, tuesday, price=Decimal("0.40"), commission_usd=Decimal("0.25"))
    journal.close_trade(tuesday, "expiry", datetime(2026, 3, 3, 5, 0, tzinfo=UTC))

    day = journal.daily_pnl(date(2026, 3, 2))
    assert day.day == date(2026, 3, 2)
    # (300 - 100) + (100 - 150 - 1.00): fills less commissions.
    assert (day.realized_pnl_usd, day.commissions_usd) == (Decimal("149.00"), Decimal("1.00"))
    assert str(day.realized_pnl_usd) == "149.00"
    assert (day.trades_closed, day.winners, day.losers) == (2, 1, 1)
    next_day = journal.daily_pnl(date(2026, 3, 3))
    assert (next_day.realized_pnl_usd, next_day.trades_closed) == (Decimal("39.75"), 1)
    assert journal.daily_pnl(date(2026, 3, 4)).trades_closed == 0


def test_a_late_fill_on_a_closed_trade_updates_that_days_pnl(journal: Journal) -> None:
    trade_id = journal.open_trade(bot=BOT, quantity=1)
    add_fill(journal, trade_id, commission_usd=Decimal(0))
    journal.close_trade(trade_id, "expiry", START)
    assert journal.daily_pnl(date(2026, 3, 2)).realized_pnl_usd == Decimal("250.00")

    add_fill(
        journal,
        trade_id,
        side="buy",
        open_close="close",
        price=Decimal("0.50"),
        commission_usd=Decimal(0),
    )

    day = journal.daily_pnl(date(2026, 3, 2))
    assert day.realized_pnl_usd == Decimal("200.00") == journal.trade(trade_id).pnl_usd
    assert (day.trades_closed, day.winners) == (1, 1)


# ---- positions, safety events, outbox --------------------------------------------------------


def test_positions_snapshot_replaces_the_previous_one(journal: Journal, clock: ManualClock) -> None:
    assert journal.positions() == (None, [])
    journal.snapshot_positions(
        [PositionSnapshot("p1", 1001, "StockIndexOption", -1, Decimal("2.5"))]
    )
    clock.advance(timedelta(seconds=30))
    journal.snapshot_positions([])
    assert journal.positions() == (clock.now(), [])


def test_safety_events_are_appended_in_order(journal: Journal, clock: ManualClock) -> None:
    journal.record_safety_event(
        bot=BOT, event="wing_touch", description="upper wing touched", details={"price": "5850.25"}
    )
    clock.advance(timedelta(seconds=1))
    journal.record_safety_event(bot=BOT, event="breaker_open", description="5 failures")
    events = journal.safety_events()
    assert [e.event for e in events] == ["wing_touch", "breaker_open"]
    assert events[0].details == {"price": "5850.25"}
    assert [e.event for e in journal.safety_events(since=clock.now())] == ["breaker_open"]


def test_outbox_ignores_a_repeated_idempotency_key(journal: Journal) -> None:
    assert journal.enqueue_outbox("trade", {"trade_id": 1}, "trade-1-closed") is True
    assert journal.enqueue_outbox("trade", {"trade_id": 1, "other": 2}, "trade-1-closed") is False
    (row,) = journal.outbox_pending(10)
    assert row.payload == {"trade_id": 1}


def test_outbox_delivery_and_failures(journal: Journal) -> None:
    for n in range(3):
        journal.enqueue_outbox("log", {"n": n}, f"k{n}")
    first, second, third = journal.outbox_pending(10)
    journal.mark_failed(second.outbox_id, "429 quota exceeded")
    journal.mark_failed(second.outbox_id, "429 quota exceeded")
    assert journal.mark_delivered([first.outbox_id, third.outbox_id]) == 2
    assert journal.mark_delivered([first.outbox_id]) == 0  # already delivered
    (left,) = journal.outbox_pending(10)
    assert (left.outbox_id, left.attempts, left.last_error) == (
        second.outbox_id,
        2,
        "429 quota exceeded",
    )
    assert [r.payload["n"] for r in journal.outbox_pending(1)] == [1]
    with pytest.raises(JournalError, match="no outbox row"):
        journal.mark_failed(999, "x")


def test_breaker_state_round_trips(journal: Journal) -> None:
    assert journal.load_breaker_state(BOT) is None
    journal.save_breaker_state(BOT, {"state": "open", "outcomes": [True, False]})
    assert journal.load_breaker_state(BOT) == {"state": "open", "outcomes": [True, False]}


def test_read_only_journal_reads_but_refuses_writes(journal: Journal, journal_path: Path) -> None:
    journal.save_state(BOT, "IDLE", {})
    with Journal.open_readonly(journal_path) as reader:
        assert reader.load_state(BOT) is not None
        with pytest.raises(JournalError, match="read-only"):
            reader.save_state(BOT, "HOLDING", {})


def test_safety_event_descriptions_are_redacted_and_bounded(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from datetime import UTC, datetime

    from shared.clock import ManualClock
    from shared.journal import Journal
    from shared.journal.codec import MAX_ERROR_CHARS

    clock = ManualClock(datetime(2026, 3, 2, tzinfo=UTC))
    journal = Journal.open(tmp_path / "j.sqlite", clock=clock)
    try:
        secret = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl"
        description = f"Bearer {secret} " + "x" * 5000
        journal.record_safety_event(
            bot="iron_fly_0dte", event="stop_failed", description=description
        )
        (event,) = journal.safety_events()
        assert secret not in event.description
        assert len(event.description) <= MAX_ERROR_CHARS
    finally:
        journal.close()
