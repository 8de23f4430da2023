"""Must-show (issue 16): while the alert service (Telegram) is down, a bot on the simulator
completes a full trade cycle with unchanged timing; after a restart with Telegram back, every
alert arrives exactly once.

The real `BotRuntime` runs in a thread on the simulator's accelerated clock with the probe
strategy (plus a safety-event drill; the rig is `tests/runtime/outage_rig.py`), its alerts going
through the real apprise library to the Telegram Bot API, intercepted by `responses` (the
simulator on loopback is reached for real). During the outage every Telegram request stalls
before answering 502, so a Telegram call on the loop thread would show up as a stalled pass.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import responses

from shared.alerts import transport
from shared.alerts.config import AlertDestination
from shared.alerts.model import Alert
from shared.alerts.queue import ALERT_CHANNEL, AlertQueue
from shared.alerts.worker import AlertChannel, AlertWorker
from shared.bot_runtime import BotRuntime
from shared.circuit_breaker import BreakerSettings, CircuitBreaker, MemoryBreakerStore
from shared.config.envelope import LoopSection, MarketDataSection
from shared.event_calendar import EventCalendar
from shared.execution import ExecutionSettings
from shared.journal import Journal
from shared.runtime.sim_clock import SimulatorClock
from shared.testing.probe_strategy import ProbeSettings
from tests.runtime.outage_rig import (
    BOT,
    HOLD_MINUTES,
    SPEED,
    START,
    Run,
    SideChannel,
    full_cycle,
    until,
)
from tests.runtime.outage_rig import start_bot as start_rig_bot

BOT_TOKEN = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"
TELEGRAM_URL = f"tgram://{BOT_TOKEN}/-1001234567890"
SEND_MESSAGE = f"https://api.telegram.org/bot{BOT_TOKEN}/sendMessage"
STALL_S = 1.0  # real seconds each Telegram request hangs during the outage (as Sheets)
SENDER_THREAD = f"alerts-sender-{BOT}"
PHONE = AlertDestination(name="telegram", url_secret="calypso-alerts-telegram", min_severity="info")


@dataclass
class Telegram:
    """sendMessage, intercepted: which threads sent through apprise (`send`, the transport
    the bot's sender uses), and (while down) a slow 502."""

    down: bool = False
    threads: list[str] = field(default_factory=list)
    texts: list[str] = field(default_factory=list)
    requests: int = 0

    def send(self, destination: str, url: str, alert: Alert) -> None:
        self.threads.append(threading.current_thread().name)
        transport.send(destination, url, alert)

    def handler(self, request: Any) -> tuple[int, dict[str, str], str]:
        self.requests += 1
        if self.down:
            time.sleep(STALL_S)
            return 502, {}, json.dumps({"ok": False, "description": "Bad Gateway"})
        self.texts.append(str(json.loads(request.body)["text"]))
        return 200, {}, json.dumps({"ok": True, "result": {"message_id": len(self.texts)}})


@contextmanager
def telegram_api(api: Telegram) -> Iterator[None]:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        mock.add_passthru("http://127.0.0.1")
        mock.add_callback(responses.POST, SEND_MESSAGE, callback=api.handler)
        yield


def telegram_sender(api: Telegram) -> SideChannel:
    """The bot's alert channel: its sender thread delivers through `api.send` (apprise)."""

    def build(clock: SimulatorClock, journal_path: Path) -> dict[str, Any]:
        worker = AlertWorker(
            bot=BOT,
            journal_path=journal_path,
            urls={"telegram": TELEGRAM_URL},
            clock=clock,
            send=api.send,
            idle_interval_s=0.1,
            batch_window_s=0.05,
            outage_backoff_s=0.2,
            outage_backoff_max_s=0.4,
        )
        return {"alerts": AlertChannel(AlertQueue((PHONE,), repeat_window_s=1800.0), worker)}

    return build


def start_bot(server: Any, home: Path, api: Telegram) -> Run:
    return start_rig_bot(server, home, telegram_sender(api))


def pending(run: Run) -> list[dict[str, Any]]:
    with run.reader() as journal:
        return [row.payload for row in journal.outbox_pending(100, ALERT_CHANNEL)]


def test_a_telegram_outage_leaves_the_trade_cycle_unchanged_and_alerts_arrive_once_after_restart(
    sim_factory: Callable[..., Any], tmp_path: Path
) -> None:
    # Baseline: Telegram up. The bot's own sender delivers open, drill and close.
    up = Telegram()
    with telegram_api(up):
        baseline_run = start_bot(sim_factory(start=START, speed=SPEED), tmp_path / "up", up)
        baseline = full_cycle(baseline_run, START)
        until(lambda: len(up.texts) == 3, 20, "the baseline's alerts")
        baseline_run.stop()
    assert set(up.threads) == {SENDER_THREAD}

    # The same bot and market with Telegram down for the whole cycle.
    api = Telegram(down=True)
    server = sim_factory(start=START, speed=SPEED)
    with telegram_api(api):
        run = start_bot(server, tmp_path / "down", api)
        cycle = full_cycle(run, START)
        until(lambda: api.requests >= 2, 20, "the sender to try Telegram")

        # The loop never called Telegram, and no pass lasted as long as one stalled request.
        assert set(api.threads) == {SENDER_THREAD}
        assert max(seconds for _, seconds in run.passes) < STALL_S
        # Unchanged timing: entry and hold match the Telegram-up run (simulated seconds, with
        # room for a loaded machine's real-time jitter at this clock speed).
        assert cycle.entry_s == pytest.approx(baseline.entry_s, abs=30)
        assert cycle.hold_s == pytest.approx(baseline.hold_s, abs=30)
        assert HOLD_MINUTES * 60 <= cycle.hold_s < HOLD_MINUTES * 60 + 30
        assert api.texts == []
        waiting = pending(run)
        assert sorted(row["topic"] for row in waiting) == [
            "safety_event", "trade_closed", "trade_opened"
        ]  # fmt: skip
        assert run.stop() < 10.0 and run.code == [0]

        # Restart with Telegram back: each waiting alert is delivered exactly once.
        api.down = False
        again = start_bot(server, tmp_path / "down", api)
        until(lambda: not pending(again), 30, "the alerts to be delivered")
        passes = len(again.passes)
        until(lambda: len(again.passes) >= passes + 3, 20, "three more loop passes")
        assert again.stop() < 10.0
    assert len(api.texts) == 3
    assert sum("trade opened" in text for text in api.texts) == 1
    assert sum(f"trade {cycle.trade_id} closed" in text for text in api.texts) == 1
    assert sum("drill" in text for text in api.texts) == 1
    closed = next(text for text in api.texts if "closed" in text)
    assert f"P&L ${cycle.pnl_usd:,.2f}".replace("$-", "-$") in closed
    assert all(BOT_TOKEN not in text for text in api.texts)


def test_the_runtime_alerts_the_trade_it_opens_and_closes_and_the_day_that_ended(
    tmp_path: Path,
) -> None:
    """Runtime wiring without a simulator: an in-memory market under the dry-run broker; the
    sender thread has no URL, so every alert stays queued for inspection."""
    from datetime import datetime, timedelta
    from zoneinfo import ZoneInfo

    from benchmarks.runtime_bench import MemoryData  # the benchmark's fixed in-memory market
    from shared.brokers.dry_run import DryRunBroker
    from shared.clock import ManualClock
    from shared.testing.probe_strategy import ProbeStrategy

    new_york = ZoneInfo("America/New_York")
    clock = ManualClock(datetime(2026, 3, 2, 15, 0, tzinfo=new_york))  # Monday afternoon
    path = tmp_path / "j.sqlite"
    worker = AlertWorker(bot=BOT, journal_path=path, urls={}, clock=clock)
    with Journal.open(path, clock=clock) as journal:
        runtime = BotRuntime(
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
        runtime.start()
        try:
            runtime.iteration()  # enters
            clock.advance(timedelta(minutes=11))
            runtime.iteration()  # closes after the hold
            runtime.iteration()
            clock.set(datetime(2026, 3, 3, 9, 35, tzinfo=new_york))  # Tuesday, session open
            runtime.iteration()
        finally:
            assert runtime.alerts.stop(5.0)
        rows = [row.payload for row in journal.outbox_pending(100, ALERT_CHANNEL)]
        (trade,) = journal.trades()
        monday = journal.daily_pnl(trade.opened_at.astimezone(new_york).date())

    assert [row["topic"] for row in rows] == ["trade_opened", "trade_closed", "daily_summary"]
    opened, closed, summary = rows
    assert f"trade {trade.trade_id} opened" in opened["body"]
    opening_fees = sum(f.commission_usd for f in trade.fills if f.open_close.value == "open")
    assert f"commissions ${opening_fees:,.2f}" in opened["body"]
    assert f"P&L ${trade.net_cash_usd:,.2f}".replace("$-", "-$") in closed["body"]
    assert summary["title"] == "daily summary 2026-03-02"
    assert "1 trades closed" in summary["body"]
    assert f"P&L ${monday.realized_pnl_usd:,.2f}".replace("$-", "-$") in summary["body"]
    assert "state " in summary["body"]
