"""SheetsFeed and the Recorder's rows: runtime facts become rows of the bot's sheet schemas,
upserts can be updated, re-queued facts stay single, and a bad row never stops trading.

Real journal (SQLite in tmp_path), the fake Sheets API through the real gspread client.
"""

from __future__ import annotations

import logging
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest

from shared.clock import ManualClock
from shared.domain import Position, PutCall, Side
from shared.execution.recorder import Recorder
from shared.journal import Journal, OpenClose
from shared.sheets.feed import SheetsFeed
from shared.sheets.sender import DeliveryPolicy, OutboxSender
from shared.strategy_contract import LegSpec
from tests.shared.sheets.conftest import BOT, START, open_backend
from tests.shared.sheets.fake_sheets import FakeSheets

FAST = DeliveryPolicy(writes_per_minute=6000, reads_per_minute=6000, jitter_fraction=0.0)
DAY = date(2026, 3, 2)
# What the iron fly strategy sends for its Opening Range (bots/iron_fly_0dte/filters.py).
IRON_FLY_RANGE: dict[str, Any] = {
    "date": "2026-03-02",
    "start_time_et": "09:30",
    "end_time_et": "10:00",
    "opening_price": "5800.25",
    "range_high": "5812.5",
    "range_low": "5795",
    "range_width": "17.5",
    "current_price": "5801",
    "price_in_range": True,
    "opening_vix": "15.2",
    "vix_high": "15.9",
    "current_vix": "15.4",
    "vix_spike_percent": "4.61",
    "expected_move": None,
    "entry_decision": "MONITORING",
    "reason": "building range",
    "atm_strike": None,
    "wing_width": None,
}


def deliver(journal: Journal, fake: FakeSheets, clock: ManualClock) -> None:
    result = OutboxSender(
        bot=BOT, journal=journal, backend=open_backend(fake), clock=clock, policy=FAST
    ).flush()
    assert result.ok, result.error


def feed(journal: Journal, clock: ManualClock, bot: str = BOT) -> SheetsFeed:
    return SheetsFeed(bot=bot, journal=journal, clock=clock, environment="sim")


def trade_with_fills(journal: Journal, label: str = "fly-1", *, close: bool) -> int:
    """A one-contract short call opened at 3.10 and (optionally) bought back at 1.00."""
    trade_id = journal.open_trade(bot=BOT, quantity=1, label=label, opened_at=START)
    journal.record_fill(trade_id=trade_id, leg="short_call", uic=11, side="sell",
                        open_close=OpenClose.OPEN, price=Decimal("3.10"), quantity=1,
                        multiplier=100, commission_usd=Decimal("1.30"),
                        filled_at=START + timedelta(seconds=5), simulated=False,
                        execution_id="e1")  # fmt: skip
    if close:
        journal.record_fill(trade_id=trade_id, leg="short_call", uic=11, side="buy",
                            open_close=OpenClose.CLOSE, price=Decimal("1.00"), quantity=1,
                            multiplier=100, commission_usd=Decimal("1.30"),
                            filled_at=START + timedelta(minutes=30), simulated=False,
                            execution_id="e2")  # fmt: skip
    return trade_id


def recorder(journal: Journal, clock: ManualClock, bot: str = BOT) -> Recorder:
    return Recorder(journal, bot, lambda: ("test", {}), clock=clock)


def test_iron_fly_opening_range_payload_lands_in_the_opening_range_sheet(
    journal: Journal, fake: FakeSheets, clock: ManualClock
) -> None:
    feed(journal, clock).record_event("opening_range", "2026-03-02", IRON_FLY_RANGE)

    deliver(journal, fake, clock)

    (row,) = fake.records("Opening Range")
    assert (row["Date"], row["Start Time (ET)"]) == ("2026-03-02", "09:30")
    assert row["VIX Spike %"] == 4.61
    assert row["Entry Decision"] == "MONITORING" and row["Range High"] == 5812.5


def test_two_range_updates_in_one_instant_both_queue_and_the_latest_wins(
    journal: Journal, fake: FakeSheets, clock: ManualClock
) -> None:
    sheets = feed(journal, clock)
    sheets.record_event("opening_range", "2026-03-02", IRON_FLY_RANGE)
    sheets.record_event("opening_range", "2026-03-02", {**IRON_FLY_RANGE, "entry_decision": "SKIP"})
    sheets.record_event("opening_range", "2026-03-02", {**IRON_FLY_RANGE, "entry_decision": "SKIP"})

    assert len(journal.outbox_pending(10)) == 2  # the repeated update is the same fact
    deliver(journal, fake, clock)

    assert [r["Entry Decision"] for r in fake.records("Opening Range")] == ["SKIP"]


def test_a_range_update_later_in_the_day_rewrites_the_same_row(
    journal: Journal, fake: FakeSheets, clock: ManualClock
) -> None:
    sheets = feed(journal, clock)
    sheets.record_event("opening_range", "2026-03-02", IRON_FLY_RANGE)
    deliver(journal, fake, clock)
    clock.advance(timedelta(seconds=30))
    sheets.record_event("opening_range", "2026-03-02", {**IRON_FLY_RANGE, "range_high": "5820"})
    deliver(journal, fake, clock)

    assert [r["Range High"] for r in fake.records("Opening Range")] == [5820]


def test_a_decision_becomes_one_bot_log_line_per_key(
    journal: Journal, fake: FakeSheets, clock: ManualClock
) -> None:
    sheets = feed(journal, clock)
    payload = {"event": "entry_filled", "credit_usd": "250.5"}
    sheets.record_event("decision", "2026-03-02:entry_filled", payload)
    clock.advance(timedelta(seconds=5))
    sheets.record_event("decision", "2026-03-02:entry_filled", payload)

    deliver(journal, fake, clock)

    (line,) = fake.records("Bot Logs")
    assert (line["Component"], line["Message"]) == ("decision", "entry_filled credit_usd=250.5")


def test_a_record_that_fits_no_sheet_goes_to_bot_logs_and_is_reported_once(
    journal: Journal, fake: FakeSheets, clock: ManualClock, caplog: pytest.LogCaptureFixture
) -> None:
    sheets = feed(journal, clock)
    bad = {**IRON_FLY_RANGE, "mystery_column": 1}

    sheets.record_event("opening_range", "2026-03-02", bad)
    sheets.record_event("opening_range", "2026-03-02", bad)
    deliver(journal, fake, clock)

    (line,) = fake.records("Bot Logs")
    assert line["Level"] == "WARNING" and "mystery_column=1" in line["Message"]
    errors = [r for r in caplog.records if "sheets_event_unmapped" in r.getMessage()]
    assert len(errors) == 1 and "mystery_column" in errors[0].getMessage()


def test_entry_filled_queues_one_open_row_with_strikes_and_premium(
    journal: Journal, fake: FakeSheets, clock: ManualClock
) -> None:
    trade_id = trade_with_fills(journal, close=False)
    legs = (LegSpec("short_call", 11, "StockIndexOption", Side.SELL, 1, "SPXW",
                    Decimal("5825"), PutCall.CALL, DAY),)  # fmt: skip
    sheets = feed(journal, clock)

    sheets.entry_filled("fly-1", legs)
    sheets.entry_filled("fly-1", legs)  # re-reported after a restart
    deliver(journal, fake, clock)

    (row,) = fake.records("Trades")
    assert (row["Trade ID"], row["Action"], row["Strike"]) == (trade_id, "OPEN", "-5825C")
    assert (row["Premium ($)"], row["Commissions ($)"]) == (310, 1.3)


def test_recorder_close_queues_the_trades_row_with_pnl_from_fills(
    journal: Journal, fake: FakeSheets, clock: ManualClock
) -> None:
    trade_id = trade_with_fills(journal, close=True)

    recorder(journal, clock).close_trade(trade_id, "profit_target", START + timedelta(minutes=30))
    deliver(journal, fake, clock)

    (row,) = fake.records("Trades")
    # sold at 3.10, bought at 1.00, x100, minus 2 x 1.30 commission
    assert (row["Action"], row["P&L ($)"], row["Commissions ($)"]) == ("CLOSE", 207.4, 2.6)
    assert row["Notes"] == "profit_target; fly-1"


def test_recorder_safety_event_row_is_keyed_by_the_journal_event(
    journal: Journal, fake: FakeSheets, clock: ManualClock
) -> None:
    event_id = recorder(journal, clock).safety_event("orphan_protection", "closing 1", {"uic": 7})
    deliver(journal, fake, clock)

    (row,) = fake.records("Safety Events")
    assert (row["Event"], row["Position Details"]) == ("orphan_protection", "uic=7")
    assert row["Row Key"] == f"safety:{event_id}"
    assert row["Timestamp (ET)"] == "2026-03-02 10:00:00"


def test_a_bot_without_a_spreadsheet_layout_still_journals_and_queues_nothing(
    journal: Journal, clock: ManualClock
) -> None:
    trade_id = trade_with_fills(journal, close=True)

    record = recorder(journal, clock, bot="bench").close_trade(trade_id, "x", START)
    feed(journal, clock, bot="bench").record_event("decision", "k", {"event": "e"})

    assert not record.is_open
    assert journal.outbox_pending(10) == []


def position(amount: str, price: str) -> Position:
    return Position("p1", 11, "StockIndexOption", Decimal(amount), Decimal("3.10"),
                    current_price=Decimal(price), strike=Decimal("5825"), expiry=DAY,
                    put_call=PutCall.CALL)  # fmt: skip


def test_dashboard_and_positions_are_queued_on_change_at_most_every_refresh(
    journal: Journal, fake: FakeSheets, clock: ManualClock
) -> None:
    sheets = feed(journal, clock)

    sheets.refresh("waiting", [])
    clock.advance(timedelta(seconds=10))
    sheets.refresh("holding", [position("-1", "2.5")])  # too soon: not even looked at
    assert [r.kind for r in journal.outbox_pending(10)] == ["dashboard", "position_snapshot"]
    clock.advance(timedelta(seconds=20))
    sheets.refresh("holding", [position("-1", "2.5")])
    clock.advance(timedelta(seconds=30))
    sheets.refresh("holding", [position("-1", "2.5")])  # nothing changed
    assert len(journal.outbox_pending(10)) == 4
    deliver(journal, fake, clock)

    (board,) = fake.records("Dashboard")
    assert (board["State"], board["Open Position"]) == ("holding", "-1 5825C")
    (leg,) = fake.records("Positions")
    assert (leg["Type"], leg["Current Value"]) == ("Short Call x1", 2.5)


def closed_loss(journal: Journal, clock: ManualClock, execution: str) -> int:
    """A one-contract short call sold at 1.00 and bought back at 1.50 (no commission): -50."""
    trade_id = journal.open_trade(bot=BOT, quantity=1, label=f"loss-{execution}")
    for side, open_close, price in (("sell", "open", "1.00"), ("buy", "close", "1.50")):
        journal.record_fill(trade_id=trade_id, leg="short_call", uic=11, side=side,
                            open_close=open_close, price=Decimal(price), quantity=1,
                            multiplier=100, commission_usd=Decimal(0), filled_at=START,
                            simulated=False, execution_id=f"{execution}-{side}")  # fmt: skip
    recorder(journal, clock).close_trade(trade_id, "stop", clock.now())
    return trade_id


def test_dashboard_pnl_counts_every_closed_trade_and_follows_new_closes(
    journal: Journal, clock: ManualClock
) -> None:
    winner = trade_with_fills(journal, close=True)
    recorder(journal, clock).close_trade(winner, "profit_target", START + timedelta(minutes=30))
    clock.advance(timedelta(hours=1))
    closed_loss(journal, clock, "a")
    still_open = journal.open_trade(bot=BOT, quantity=1, label="fly-2")
    journal.record_fill(trade_id=still_open, leg="short_call", uic=11, side="sell",
                        open_close=OpenClose.OPEN, price=Decimal("9.00"), quantity=1,
                        multiplier=100, commission_usd=Decimal(0), filled_at=clock.now(),
                        simulated=False)  # fmt: skip
    sheets = feed(journal, clock)

    sheets.refresh("waiting", [])
    closed_loss(journal, clock, "b")
    sheets.touch()
    sheets.refresh("waiting", [])

    boards = [r.payload for r in journal.outbox_pending(20) if r.kind == "dashboard"]
    fields = ("today_pnl_usd", "cumulative_pnl_usd", "win_rate_pct", "closed_trades")
    assert [tuple(board[f] for f in fields) for board in boards] == [
        ("157.40", "157.40", "50.0", 2),  # 207.40 - 50.00
        ("107.40", "107.40", "33.3", 3),
    ]


def test_touch_makes_the_next_refresh_immediate(journal: Journal, clock: ManualClock) -> None:
    sheets = feed(journal, clock)
    sheets.refresh("holding", [position("-1", "2.5")])

    sheets.touch()
    sheets.refresh("done", [])

    assert [r.payload.get("state") for r in journal.outbox_pending(10)][-2:] == ["done", None]


def test_day_closed_writes_the_daily_summary_of_a_trading_day(
    journal: Journal, fake: FakeSheets, clock: ManualClock
) -> None:
    trade_id = trade_with_fills(journal, close=True)
    recorder(journal, clock).close_trade(trade_id, "profit_target", START + timedelta(minutes=30))
    clock.advance(timedelta(hours=14))  # past midnight New York

    feed(journal, clock).day_closed(DAY)
    deliver(journal, fake, clock)

    (row,) = fake.records("Daily Summary")
    assert (row["Date"], row["Daily P&L ($)"], row["Trades Today"]) == ("2026-03-02", 207.4, 1)
    assert row["Cumulative P&L ($)"] == 207.4


def test_day_closed_skips_a_weekend_day_without_trades(
    journal: Journal, clock: ManualClock
) -> None:
    feed(journal, clock).day_closed(date(2026, 3, 1))  # a Sunday

    assert journal.outbox_pending(10) == []


def test_a_journal_failure_while_queuing_is_logged_not_raised(
    journal: Journal, clock: ManualClock, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.ERROR)
    sheets = feed(journal, clock)
    journal.close()  # every journal call now fails

    sheets.refresh("waiting", [])
    sheets.record_event("decision", "k", {"event": "e"})
    sheets.day_closed(DAY)

    assert any("sheets_row_failed" in r.getMessage() for r in caplog.records)

