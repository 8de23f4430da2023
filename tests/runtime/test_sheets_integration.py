"""Must-show (issue 7): while Sheets is down, a bot on the simulator completes a full trade cycle
with unchanged timing, and the rows arrive exactly once when Sheets is back.

The real `BotRuntime` runs in a thread on the simulator's accelerated clock (SimulatorClock,
real HTTP to the simulator on loopback) with the probe strategy, plus a few strategy records
(`tests/runtime/outage_rig.py`, shared with the alerts outage test). Google Sheets is the
in-memory fake behind `responses` (gspread's real HTTP calls are intercepted; the simulator's
pass through). During the outage every Sheets request stalls before answering 503, so a Sheets
call on the loop thread would show up as a stalled pass.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import responses

from shared.bot_runtime import BotRuntime
from shared.circuit_breaker import BreakerSettings, CircuitBreaker, MemoryBreakerStore
from shared.config.envelope import LoopSection, MarketDataSection
from shared.event_calendar import EventCalendar
from shared.execution import ExecutionSettings
from shared.journal import Journal
from shared.runtime.sim_clock import SimulatorClock
from shared.sheets.mirror import SheetsMirror
from shared.sheets.sender import DeliveryPolicy
from shared.testing.probe_strategy import ProbeSettings, ProbeStrategy
from tests.runtime.outage_rig import (
    BOT,
    HOLD_MINUTES,
    NEW_YORK,
    SPEED,
    START,
    Cycle,
    Run,
    SideChannel,
    full_cycle,
    start_bot,
    until,
)
from tests.shared.sheets.conftest import open_backend
from tests.shared.sheets.fake_sheets import FakeSheets

STALL_S = 1.0  # real seconds each Sheets request hangs during the outage
MIRROR_THREAD = f"sheets-mirror-{BOT}"
# Sheets itself paced and retried fast (the test is about the bot, not Google's quotas).
FAST = DeliveryPolicy(
    writes_per_minute=6000, reads_per_minute=6000, backoff_base_s=0.05, jitter_fraction=0.0
)


class StallingSheets(FakeSheets):
    """The fake Sheets API that records which thread called it and, while down, hangs first."""

    def __init__(self) -> None:
        super().__init__()
        self.threads: list[str] = []

    def _guard(self, request: Any, op: str) -> Any:
        self.threads.append(threading.current_thread().name)
        if self._down is not None:
            time.sleep(STALL_S)  # an outage that times out slowly, as Google's do
        return super()._guard(request, op)


def sheets_mirror(fake: FakeSheets) -> SideChannel:
    """The bot's Sheets mirror (its own thread) writing to `fake`, paced and retried fast."""

    def build(clock: SimulatorClock, journal_path: Path) -> dict[str, Any]:
        return {"mirror": SheetsMirror(
            bot=BOT,
            journal_path=journal_path,
            connect=lambda: open_backend(fake),
            clock=clock,
            policy=FAST,
            idle_interval_s=0.1,
            batch_window_s=0.05,
            outage_backoff_s=0.2,
            outage_backoff_max_s=0.4,
        )}  # fmt: skip

    return build


@contextmanager
def sheets_api(fake: FakeSheets) -> Iterator[None]:
    """`fake` answers every Google call; the simulator on loopback is reached for real."""
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        mock.add_passthru("http://127.0.0.1")
        fake.install(mock)
        yield


def records(fake: FakeSheets, title: str) -> list[dict[str, Any]]:
    return fake.records(title) if title in fake.worksheets else []


def run_cycle(
    sim_factory: Callable[..., Any], home: Path, fake: FakeSheets
) -> tuple[Run, Cycle]:
    server = sim_factory(start=START, speed=SPEED)
    run = start_bot(server, home, sheets_mirror(fake))
    return run, full_cycle(run, START)


def test_sheets_outage_leaves_the_trade_cycle_unchanged_and_rows_arrive_once_when_back(
    sim_factory: Callable[..., Any], tmp_path: Path
) -> None:
    # Baseline: Sheets up.
    with sheets_api(up := FakeSheets()):
        baseline_run, baseline = run_cycle(sim_factory, tmp_path / "up", up)
        baseline_run.stop()
    assert records(up, "Trades"), "the baseline mirrored its trade"

    # The same bot and market with Sheets down for the whole cycle.
    fake = StallingSheets()
    fake.outage(503)
    with sheets_api(fake):
        _outage_then_recovery(sim_factory, tmp_path / "down", fake, baseline)


def _outage_then_recovery(
    sim_factory: Callable[..., Any], home: Path, fake: StallingSheets, baseline: Cycle
) -> None:
    run, cycle = run_cycle(sim_factory, home, fake)

    # Unchanged timing: entry and hold match the Sheets-up run (simulated seconds; a loop
    # waiting on Sheets' retries would add minutes at this clock speed).
    assert cycle.entry_s == pytest.approx(baseline.entry_s, abs=20)
    assert cycle.hold_s == pytest.approx(baseline.hold_s, abs=20)
    assert HOLD_MINUTES * 60 <= cycle.hold_s < HOLD_MINUTES * 60 + 30
    # The loop never called Sheets: every request came from the mirror's thread, and no pass
    # lasted as long as one stalled Sheets request.
    down_calls = len(fake.threads)
    assert down_calls > 0 and set(fake.threads) == {MIRROR_THREAD}
    assert max(seconds for _, seconds in run.passes) < STALL_S
    assert records(fake, "Trades") == []
    with run.reader() as journal:
        pending = journal.outbox_pending(100)
    assert {row.kind for row in pending} >= {"trade", "safety_event", "opening_range", "bot_log"}

    # Let the bot run a few more passes (the post-close Dashboard and Positions refresh).
    passes = len(run.passes)
    until(lambda: len(run.passes) >= passes + 3, 20, "three more loop passes")

    # Sheets is back; the first append is applied but its answer lost (unknown outcome).
    fake.restore()
    fake.fail_next("append", 500, applied=True)
    until(lambda: _delivered(run), 30, "the outbox to drain")
    assert run.stop() < 10.0
    assert run.code == [0]
    assert set(fake.threads) == {MIRROR_THREAD}

    with run.reader() as journal:
        assert journal.outbox_pending(100) == []
        safety = journal.safety_events()
        daily = journal.daily_pnl(START.date())
    trades = fake.records("Trades")
    assert sorted((r["Trade ID"], r["Action"]) for r in trades) == [
        (cycle.trade_id, "CLOSE"),
        (cycle.trade_id, "OPEN"),
    ]
    close = next(r for r in trades if r["Action"] == "CLOSE")
    assert close["P&L ($)"] == pytest.approx(cycle.pnl_usd)
    events = fake.records("Safety Events")
    assert sorted(r["Event"] for r in events) == sorted(e.event for e in safety)
    assert "drill" in [r["Event"] for r in events]
    assert [(r["Date"], r["Entry Decision"]) for r in fake.records("Opening Range")] == [
        (START.date().isoformat(), "ENTER")
    ]
    logs = fake.records("Bot Logs")
    assert [r["Component"] for r in logs] == ["decision"]
    (board,) = fake.records("Dashboard")
    assert (board["Bot"], board["State"], board["Closed Trades"]) == (BOT, "done", 1)
    assert board["Cumulative P&L ($)"] == pytest.approx(float(daily.realized_pnl_usd))
    assert fake.records("Positions") == []  # flat again
    every_key = [r["Row Key"] for title in fake.worksheets for r in records(fake, title)]
    assert len(every_key) == len(set(every_key)), "a row was written twice"


def _delivered(run: Run) -> bool:
    with run.reader() as journal:
        return journal.outbox_pending(1) == []


def test_the_day_rollover_queues_the_daily_summary_of_the_day_that_ended(tmp_path: Path) -> None:
    """Runtime wiring without a simulator: an in-memory market under the dry-run broker."""
    from benchmarks.runtime_bench import MemoryData  # the benchmark's fixed in-memory market
    from shared.brokers.dry_run import DryRunBroker
    from shared.clock import ManualClock

    clock = ManualClock(datetime(2026, 3, 2, 15, 0, tzinfo=NEW_YORK))  # Monday afternoon
    with Journal.open(tmp_path / "j.sqlite", clock=clock) as journal:
        runtime = BotRuntime(
            bot=BOT,
            strategy=ProbeStrategy(bot=BOT, settings=ProbeSettings(hold_minutes=10)),
            broker=DryRunBroker(MemoryData(clock), clock=clock),  # type: ignore[arg-type]
            journal=journal,
            clock=clock,
            breaker=CircuitBreaker(
                BOT, BreakerSettings(), clock=clock, store=MemoryBreakerStore()
            ),
            loop=LoopSection(),
            market_data=MarketDataSection(),
            execution=ExecutionSettings(),
            calendar=EventCalendar(),
            use_stream=False,
        )
        runtime.start()
        runtime.iteration()  # enters
        clock.advance(timedelta(minutes=11))
        runtime.iteration()  # closes after the hold
        runtime.iteration()
        assert not runtime.strategy.in_position()
        clock.set(datetime(2026, 3, 3, 9, 35, tzinfo=NEW_YORK))  # Tuesday, session open
        runtime.iteration()

        kinds = [row.kind for row in journal.outbox_pending(100)]
        (summary,) = [r for r in journal.outbox_pending(100) if r.kind == "daily_summary"]
        monday = journal.daily_pnl(date(2026, 3, 2))
    assert {"trade", "dashboard", "position_snapshot"} <= set(kinds)
    assert summary.payload["date"] == "2026-03-02"
    assert Decimal(summary.payload["daily_pnl_usd"]) == monday.realized_pnl_usd
    assert monday.trades_closed == 1
