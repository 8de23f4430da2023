"""The daily summary is queued once per trading day: a bot down at the New York midnight sends
the day's summary when it starts again, and a restart right after the rollover sends nothing
twice. The real `BotRuntime` on an in-memory market under the dry-run broker, with a manual clock;
the sender thread has no URL, so every alert stays queued for inspection."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from benchmarks.runtime_bench import MemoryData  # the benchmark's fixed in-memory market
from shared.alerts.config import AlertDestination
from shared.alerts.queue import ALERT_CHANNEL, AlertQueue
from shared.alerts.worker import AlertChannel, AlertWorker
from shared.bot_runtime import BotRuntime
from shared.brokers.dry_run import DryRunBroker
from shared.circuit_breaker import BreakerSettings, CircuitBreaker, MemoryBreakerStore
from shared.clock import ManualClock
from shared.config.envelope import LoopSection, MarketDataSection
from shared.event_calendar import EventCalendar
from shared.execution import ExecutionSettings
from shared.journal import Journal
from shared.testing.probe_strategy import ProbeSettings, ProbeStrategy

BOT = "probe"
NEW_YORK = ZoneInfo("America/New_York")
PHONE = AlertDestination(name="telegram", url_secret="calypso-alerts-telegram", min_severity="info")


def runtime(journal: Journal, clock: ManualClock, path: Path) -> BotRuntime:
    worker = AlertWorker(bot=BOT, journal_path=path, urls={}, clock=clock)
    return BotRuntime(
        bot=BOT,
        strategy=ProbeStrategy(bot=BOT, settings=ProbeSettings(hold_minutes=10)),
        broker=DryRunBroker(MemoryData(clock), clock=clock),  # type: ignore[arg-type]
        journal=journal,
        clock=clock,
        breaker=CircuitBreaker(BOT, BreakerSettings(), clock=clock, store=MemoryBreakerStore()),
        loop=LoopSection(),
        market_data=MarketDataSection(),
        execution=ExecutionSettings(),
        calendar=EventCalendar(),
        use_stream=False,
        alerts=AlertChannel(AlertQueue((PHONE,), repeat_window_s=1800.0), worker),
    )


def restart(journal: Journal, clock: ManualClock, path: Path, at: datetime) -> BotRuntime:
    """A new process: the runtime starts over the same journal at `at` (New York)."""
    clock.set(at)
    bot = runtime(journal, clock, path)
    bot.start()
    return bot


def summaries(journal: Journal) -> list[str]:
    rows = journal.outbox_pending(100, ALERT_CHANNEL)
    return [str(row.payload["title"]) for row in rows if row.payload["topic"] == "daily_summary"]


def test_a_bot_down_at_midnight_sends_the_missed_summary_once_across_restarts(
    tmp_path: Path,
) -> None:
    path = tmp_path / "j.sqlite"
    clock = ManualClock(datetime(2026, 3, 2, 15, 0, tzinfo=NEW_YORK))  # Monday afternoon
    with Journal.open(path, clock=clock) as journal:
        monday = runtime(journal, clock, path)
        monday.start()
        monday.iteration()  # enters
        clock.advance(timedelta(minutes=11))
        monday.iteration()  # closes after the hold
        monday.shutdown()  # stopped before midnight: no rollover in this process

        # Tuesday morning: the summary of Monday, which no rollover sent, goes out at start.
        restart(journal, clock, path, datetime(2026, 3, 3, 9, 20, tzinfo=NEW_YORK)).shutdown()
        assert summaries(journal) == ["daily summary 2026-03-02"]
        (row,) = [r for r in journal.outbox_pending(100, ALERT_CHANNEL)
                  if r.payload["topic"] == "daily_summary"]  # fmt: skip
        assert "1 trades closed" in str(row.payload["body"])

        # Another restart the same day sends nothing; nor does one after a rollover that the
        # process did not outlive long enough to save its state (its last save is Tuesday's).
        restart(journal, clock, path, datetime(2026, 3, 3, 11, 0, tzinfo=NEW_YORK)).shutdown()
        tuesday = restart(journal, clock, path, datetime(2026, 3, 3, 15, 0, tzinfo=NEW_YORK))
        tuesday.alerts.day_closed(journal, date(2026, 3, 2), "idle")  # Monday again: grouped
        clock.set(datetime(2026, 3, 4, 0, 0, 5, tzinfo=NEW_YORK))
        tuesday.alerts.day_closed(journal, date(2026, 3, 3), "idle")  # what its rollover does
        assert tuesday.alerts.stop(5.0)  # ... and the process dies
        assert journal.load_state(BOT).updated_at.astimezone(NEW_YORK).day == 3  # type: ignore[union-attr]
        restart(journal, clock, path, datetime(2026, 3, 4, 9, 40, tzinfo=NEW_YORK)).shutdown()
        assert summaries(journal) == ["daily summary 2026-03-02", "daily summary 2026-03-03"]


def test_no_summary_for_a_day_without_a_session(tmp_path: Path) -> None:
    path = tmp_path / "j.sqlite"
    clock = ManualClock(datetime(2026, 3, 6, 15, 0, tzinfo=NEW_YORK))  # Friday
    with Journal.open(path, clock=clock) as journal:
        friday = runtime(journal, clock, path)
        friday.start()
        friday.shutdown()
        # Back on Monday: Friday's summary, none for the weekend it slept through.
        monday = restart(journal, clock, path, datetime(2026, 3, 9, 9, 20, tzinfo=NEW_YORK))
        monday.alerts.day_closed(journal, date(2026, 3, 7), "idle")  # Saturday
        monday.shutdown()
        assert summaries(journal) == ["daily summary 2026-03-06"]
