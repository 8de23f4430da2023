"""OutboxSender over the real gspread and the fake Sheets API: creation, batching, upserts,
pacing, retries, and exactly-once delivery when a write's outcome is unknown."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest

from shared.clock import ManualClock
from shared.journal import Journal
from shared.sheets.client import SheetsBackend
from shared.sheets.columns import worksheets_for
from shared.sheets.payloads import (
    DashboardRow,
    OpeningRangeRow,
    PositionLeg,
    PositionSnapshotRow,
    SafetyEventRow,
    SheetRow,
    TradeRow,
    enqueue,
)
from shared.sheets.sender import DeliveryPolicy, OutboxSender
from tests.shared.sheets.conftest import BOT, START, open_backend
from tests.shared.sheets.fake_sheets import FakeSheets

NO_JITTER = DeliveryPolicy(jitter_fraction=0.0)


def trade(trade_id: int, pnl: str = "120.50") -> TradeRow:
    return TradeRow(
        timestamp=START + timedelta(minutes=trade_id),
        trade_id=trade_id,
        action="CLOSE",
        structure="Iron Fly",
        strike="5800",
        expiry=date(2026, 3, 2),
        pnl_usd=Decimal(pnl),
    )


def dashboard(state: str, minute: int, pnl: str = "0") -> DashboardRow:
    return DashboardRow(
        bot=BOT,
        environment="sim",
        state=state,
        today_pnl_usd=Decimal(pnl),
        last_update=START + timedelta(minutes=minute),
    )


def queue(journal: Journal, *rows: SheetRow) -> None:
    for row in rows:
        assert enqueue(journal, row.to_outbox(BOT))


def make_sender(
    journal: Journal,
    fake: FakeSheets,
    clock: ManualClock,
    policy: DeliveryPolicy = NO_JITTER,
    backend: SheetsBackend | None = None,
) -> OutboxSender:
    return OutboxSender(
        bot=BOT,
        journal=journal,
        backend=backend or open_backend(fake),
        clock=clock,
        policy=policy,
    )


def test_missing_worksheets_are_created_with_headers_and_a_hidden_key_column(
    journal: Journal, fake: FakeSheets, clock: ManualClock
) -> None:
    queue(journal, trade(1))

    make_sender(journal, fake, clock).flush()

    for spec in worksheets_for(BOT):
        sheet = fake.worksheets[spec.title]
        assert fake.headers(spec.title) == spec.headers
        assert sheet.hidden_columns == {len(spec.columns)}, spec.title
        assert sheet.frozen_rows == 1


def test_pending_rows_of_a_worksheet_go_in_one_append(
    journal: Journal, fake: FakeSheets, clock: ManualClock
) -> None:
    queue(journal, trade(1), trade(2, "-40"), trade(3))

    result = make_sender(journal, fake, clock).flush()

    assert fake.count("append") == 1
    assert [r["Trade ID"] for r in fake.records("Trades")] == [1, 2, 3]
    assert fake.records("Trades")[1]["P&L ($)"] == -40
    assert result.delivered == 3
    assert journal.outbox_pending(10) == []


def test_trade_row_cells_are_new_york_time_and_numbers(
    journal: Journal, fake: FakeSheets, clock: ManualClock
) -> None:
    queue(journal, trade(1, "120.50"))

    make_sender(journal, fake, clock).flush()

    row = fake.records("Trades")[0]
    assert row["Timestamp (ET)"] == "2026-03-02 10:01:00"  # 15:01 UTC in March = EST
    assert row["P&L ($)"] == 120.5
    assert row["Days to Expiry"] == 0
    assert row["Row Key"] == trade(1).idempotency_key()


def test_dashboard_row_is_updated_in_place(
    journal: Journal, fake: FakeSheets, clock: ManualClock
) -> None:
    sender = make_sender(journal, fake, clock)
    queue(journal, dashboard("IDLE", 1))
    sender.flush()
    queue(journal, dashboard("IN_POSITION", 2, "35.10"))

    sender.flush()

    rows = fake.records("Dashboard")
    assert len(rows) == 1
    assert rows[0]["State"] == "IN_POSITION"
    assert rows[0]["Today's P&L ($)"] == 35.1


def test_pending_upserts_of_one_key_coalesce_to_the_latest(
    journal: Journal, fake: FakeSheets, clock: ManualClock
) -> None:
    queue(journal, dashboard("IDLE", 1), dashboard("ENTERING", 2), dashboard("IN_POSITION", 3))

    result = make_sender(journal, fake, clock).flush()

    assert [r["State"] for r in fake.records("Dashboard")] == ["IN_POSITION"]
    assert result.delivered == 3
    assert journal.outbox_pending(10) == []


def test_opening_range_is_one_row_per_date(
    journal: Journal, fake: FakeSheets, clock: ManualClock
) -> None:
    sender = make_sender(journal, fake, clock)

    def opening(day: date, minute: int, decision: str) -> OpeningRangeRow:
        return OpeningRangeRow(
            date=day,
            as_of=START + timedelta(minutes=minute),
            range_high=Decimal("5812.5"),
            entry_decision=decision,  # type: ignore[arg-type]
        )

    queue(journal, opening(date(2026, 3, 2), 1, "MONITORING"))
    sender.flush()
    queue(journal, opening(date(2026, 3, 3), 2, "MONITORING"))
    sender.flush()
    queue(journal, opening(date(2026, 3, 2), 3, "ENTER"))
    sender.flush()

    rows = fake.records("Opening Range")
    assert [(r["Date"], r["Entry Decision"]) for r in rows] == [
        ("2026-03-02", "ENTER"),
        ("2026-03-03", "MONITORING"),
    ]


def test_positions_table_is_replaced_by_the_latest_snapshot(
    journal: Journal, fake: FakeSheets, clock: ManualClock
) -> None:
    sender = make_sender(journal, fake, clock)
    legs = [PositionLeg(position_type=t, strike=Decimal("5800")) for t in ("SC", "SP", "LC")]
    queue(journal, PositionSnapshotRow(taken_at=START, legs=legs))
    sender.flush()
    assert len(fake.records("Positions")) == 3

    later = START + timedelta(minutes=5)
    queue(journal, PositionSnapshotRow(taken_at=later, legs=legs[:1]))
    sender.flush()

    rows = fake.records("Positions")
    assert [r["Type"] for r in rows] == ["SC"]
    assert rows[0]["Last Updated (ET)"] == "2026-03-02 10:05:00"


def test_a_restarted_sender_knows_the_dashboard_row(
    journal: Journal, fake: FakeSheets, clock: ManualClock
) -> None:
    queue(journal, dashboard("IDLE", 1))
    make_sender(journal, fake, clock).flush()
    queue(journal, dashboard("HALTED", 2))

    make_sender(journal, fake, clock).flush()

    assert [r["State"] for r in fake.records("Dashboard")] == ["HALTED"]


def test_429_is_retried_after_the_servers_retry_after(
    journal: Journal, fake: FakeSheets, clock: ManualClock
) -> None:
    sender = make_sender(journal, fake, clock)
    queue(journal, trade(1))
    sender.flush()  # worksheets created and checked: the next write is the append
    queue(journal, trade(2))
    fake.fail_next("append", 429, retry_after=7)
    before = clock.monotonic()

    result = sender.flush()

    assert result.ok
    assert fake.count("append") == 3
    assert clock.monotonic() - before >= 7
    assert [r["Trade ID"] for r in fake.records("Trades")] == [1, 2]


def test_500_after_the_write_was_applied_does_not_duplicate_rows(
    journal: Journal, fake: FakeSheets, clock: ManualClock
) -> None:
    queue(journal, trade(1), trade(2))
    fake.fail_next("append", 500, applied=True)

    result = make_sender(journal, fake, clock).flush()

    assert result.ok
    assert [r["Trade ID"] for r in fake.records("Trades")] == [1, 2]
    assert fake.count("append") == 1  # the check found both rows: nothing was re-sent
    assert result.already_present == 2
    assert journal.outbox_pending(10) == []


def test_500_before_the_write_was_applied_sends_it_again(
    journal: Journal, fake: FakeSheets, clock: ManualClock
) -> None:
    queue(journal, trade(1))
    fake.fail_next("append", 500, applied=False)

    make_sender(journal, fake, clock).flush()

    assert [r["Trade ID"] for r in fake.records("Trades")] == [1]
    assert fake.count("append") == 2


def test_upsert_append_with_unknown_outcome_becomes_an_update(
    journal: Journal, fake: FakeSheets, clock: ManualClock
) -> None:
    queue(journal, dashboard("IDLE", 1))
    fake.fail_next("append", 502, applied=True)

    make_sender(journal, fake, clock).flush()

    assert [r["State"] for r in fake.records("Dashboard")] == ["IDLE"]


def test_applied_write_then_crash_is_not_resent_by_a_new_process(
    journal: Journal, fake: FakeSheets, clock: ManualClock
) -> None:
    queue(journal, trade(1), SafetyEventRow(timestamp=START, event="STOP", event_id=9))
    fake.fail_next("append", 500, applied=True)
    one_try = DeliveryPolicy(max_attempts=1, jitter_fraction=0.0)
    first = make_sender(journal, fake, clock, one_try).flush()
    assert not first.ok
    assert len(journal.outbox_pending(10)) == 2  # outcome unknown: still pending

    second = make_sender(journal, fake, clock).flush()  # a new process starts fresh

    assert second.ok
    assert [r["Trade ID"] for r in fake.records("Trades")] == [1]
    assert [r["Event"] for r in fake.records("Safety Events")] == ["STOP"]
    assert journal.outbox_pending(10) == []


def test_outage_keeps_rows_pending_with_attempts_counted(
    journal: Journal, fake: FakeSheets, clock: ManualClock
) -> None:
    sender = make_sender(journal, fake, clock)
    queue(journal, trade(1))
    fake.outage(503)

    result = sender.flush()

    assert not result.ok and result.retryable
    (row,) = journal.outbox_pending(10)
    assert row.attempts == 1
    assert row.last_error is not None and "503" in row.last_error


def test_backoff_doubles_between_attempts(
    journal: Journal, fake: FakeSheets, clock: ManualClock
) -> None:
    sleeps: list[float] = []

    def record_sleep(seconds: float) -> None:
        sleeps.append(seconds)
        clock.sleep(seconds)

    sender = OutboxSender(
        bot=BOT,
        journal=journal,
        backend=open_backend(fake),
        clock=clock,
        sleep=record_sleep,
        policy=DeliveryPolicy(
            max_attempts=4, backoff_base_s=2.0, jitter_fraction=0.0, reads_per_minute=6000,
            writes_per_minute=6000,
        ),
    )
    queue(journal, trade(1))
    fake.outage(503)

    sender.flush()

    retries = [s for s in sleeps if s >= 1.0]
    assert retries == [2.0, 4.0, 8.0]


class _RecordingBackend:
    """Wraps a backend and records the clock's monotonic time of each write request."""

    def __init__(self, inner: SheetsBackend, clock: ManualClock) -> None:
        self.inner = inner
        self.clock = clock
        self.write_times: list[float] = []

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self.inner, name)
        if name in {"append", "write", "add_worksheets"}:

            def record(*args: Any) -> Any:
                self.write_times.append(self.clock.monotonic())
                return attribute(*args)

            return record
        return attribute


def test_writes_are_paced_under_the_per_minute_budget(
    journal: Journal, fake: FakeSheets, clock: ManualClock
) -> None:
    backend = _RecordingBackend(open_backend(fake), clock)
    policy = DeliveryPolicy(writes_per_minute=12, jitter_fraction=0.0)
    queue(journal, trade(1), dashboard("IDLE", 1), SafetyEventRow(timestamp=START, event="X"))

    make_sender(journal, fake, clock, policy, backend=backend).flush()

    gaps = [b - a for a, b in zip(backend.write_times, backend.write_times[1:], strict=False)]
    assert len(backend.write_times) >= 4
    assert min(gaps) >= 5.0  # 60 s / 12 writes


def test_an_invalid_row_stays_pending_and_does_not_block_others(
    journal: Journal, fake: FakeSheets, clock: ManualClock
) -> None:
    journal.enqueue_outbox("no_such_kind", {"x": 1}, "bad-1")
    queue(journal, trade(1))

    result = make_sender(journal, fake, clock).flush()

    assert result.invalid == 1
    assert [r["Trade ID"] for r in fake.records("Trades")] == [1]
    (left,) = journal.outbox_pending(10)
    assert left.idempotency_key == "bad-1"
    assert left.last_error is not None and "no_such_kind" in left.last_error


def test_an_unshared_spreadsheet_is_reported_as_not_found(fake: FakeSheets) -> None:
    from shared.sheets.client import SheetsApiError

    fake.shared = False

    with pytest.raises(SheetsApiError) as caught:
        open_backend(fake)

    assert caught.value.status == 404
    assert "shared with the service account" in str(caught.value)
