"""The rig of the outage must-shows (Sheets: issue 7, alerts: issue 16): the real `BotRuntime`
in a thread on the simulator's accelerated clock (SimulatorClock, real HTTP to the simulator on
loopback) with the probe strategy plus a few strategy records, its side channel (the Sheets
mirror or the alert sender) supplied by the test, and every loop pass timed (real seconds).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from shared.bot_runtime import BotRuntime
from shared.brokers.saxo_broker import SaxoBroker
from shared.circuit_breaker import BreakerSettings, CircuitBreaker, MemoryBreakerStore
from shared.config.envelope import LoopSection, MarketDataSection
from shared.event_calendar import EventCalendar
from shared.execution import ExecutionSettings
from shared.journal import Journal, OpenClose
from shared.runtime.sim_clock import SimulatorClock
from shared.saxo_client.client import SaxoClient
from shared.saxo_client.environments import local_environment
from shared.saxo_client.orders import VerifyTiming
from shared.saxo_client.rate_limiter import RateLimits
from shared.strategy_contract import Action, OpenPosition, RecordEvent, Snapshot
from shared.testing.probe_strategy import ProbeSettings, ProbeStrategy
from tests.runtime.helpers import store_login

NEW_YORK = ZoneInfo("America/New_York")
BOT = "iron_fly_0dte"
START = datetime(2026, 3, 2, 9, 50, tzinfo=NEW_YORK)  # a Monday, session open
SPEED = 20.0
HOLD_MINUTES = 0.5  # 30 simulated seconds, 1.5 s real at SPEED

# The side channel under test: BotRuntime keyword arguments (`mirror=...` or `alerts=...`)
# built from the bot's clock and journal path, on the bot's thread.
SideChannel = Callable[[SimulatorClock, Path], dict[str, Any]]


class RecordingProbe(ProbeStrategy):
    """The probe plus the records a real strategy sends: the opening range (twice in one
    decision, MONITORING then ENTER), a decision and a safety event, all at its entry."""

    def decide(self, snapshot: Snapshot) -> Sequence[Action]:
        actions = list(super().decide(snapshot))
        if not any(isinstance(a, OpenPosition) for a in actions):
            return actions
        day = snapshot.now.astimezone(NEW_YORK).date().isoformat()
        base = {"date": day, "start_time_et": "09:30", "range_high": "5012.5"}
        return [
            RecordEvent("opening_range", day, {**base, "entry_decision": "MONITORING"}),
            RecordEvent("opening_range", day, {**base, "entry_decision": "ENTER", "reason": "go"}),
            RecordEvent("decision", f"{day}:entry", {"event": "entry_decision", "legs": 4}),
            RecordEvent("safety_event", f"{day}:drill", {"event": "drill", "description": "x"}),
            *actions,
        ]


@dataclass
class Run:
    """One bot run: the runtime in its own thread (which owns the journal connection), its
    journal file, and each loop pass as (real start, real seconds)."""

    journal_path: Path
    runtime: BotRuntime | None = None
    thread: threading.Thread | None = None
    passes: list[tuple[float, float]] = field(default_factory=list)
    code: list[int] = field(default_factory=list)
    ready: threading.Event = field(default_factory=threading.Event)

    def reader(self) -> Journal:
        return Journal.open_readonly(self.journal_path)

    def stop(self) -> float:
        """Stop the bot as SIGTERM would; returns the real seconds the stop took."""
        assert self.runtime is not None and self.thread is not None
        started = time.monotonic()
        self.runtime.stop.set("test")
        self.thread.join(20)
        assert not self.thread.is_alive(), "runtime did not stop"
        return time.monotonic() - started


def _build_runtime(server: Any, home: Path, run: Run, side_channel: SideChannel) -> BotRuntime:
    clock = SimulatorClock(server.base_url)
    client = SaxoClient(
        env=local_environment(server.base_url),
        tokens=store_login(server, home / "data" / "saxo_token_cache.json"),
        clock=clock,
        rate_limits=RateLimits(enabled=False),
        verify_timing=VerifyTiming(status_wait_s=2, price_wait_s=3, poll_interval_s=0.1),
    )
    runtime = BotRuntime(
        bot=BOT,
        strategy=RecordingProbe(bot=BOT, settings=ProbeSettings(hold_minutes=HOLD_MINUTES)),
        broker=SaxoBroker(client),
        journal=Journal.open(run.journal_path, clock=clock),
        clock=clock,
        breaker=CircuitBreaker(BOT, BreakerSettings(), clock=clock, store=MemoryBreakerStore()),
        loop=LoopSection(),
        market_data=MarketDataSection(),
        execution=ExecutionSettings(fill_check_timeout_seconds=5.0),
        calendar=EventCalendar(),
        clock_speed=clock.speed,
        environment="local",
        **side_channel(clock, run.journal_path),
    )
    timed = runtime.iteration

    def iteration() -> None:
        began = time.monotonic()
        try:
            timed()
        finally:
            run.passes.append((began, time.monotonic() - began))

    runtime.iteration = iteration  # type: ignore[method-assign]
    return runtime


def start_bot(server: Any, home: Path, side_channel: SideChannel) -> Run:
    """Run the bot in a thread that builds it (SQLite connections belong to their thread)."""
    run = Run(journal_path=home / "data" / f"{BOT}.sqlite")

    def main() -> None:
        runtime = _build_runtime(server, home, run, side_channel)
        run.runtime = runtime
        run.ready.set()
        try:
            run.code.append(runtime.run())
        finally:
            runtime.journal.close()

    run.thread = threading.Thread(name="bot-loop", daemon=True, target=main)
    run.thread.start()
    assert run.ready.wait(20), "the bot did not start"
    return run


def until(predicate: Callable[[], bool], timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while not predicate():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


@dataclass(frozen=True)
class Cycle:
    """A trade cycle in simulated time, measured from the bot's start."""

    entry_s: float  # start -> last opening fill
    hold_s: float  # last opening fill -> last closing fill
    trade_id: int
    pnl_usd: float


def full_cycle(run: Run, started: datetime) -> Cycle:
    """Wait for the probe's trade to open and close; its timing from the journal's fills."""

    def closed() -> bool:
        with run.reader() as journal:
            trades = journal.trades()
            return bool(trades) and not trades[0].is_open

    until(closed, 60, "the probe's trade to close")
    with run.reader() as journal:
        (trade,) = journal.trades()
    opened = max(f.filled_at for f in trade.fills if f.open_close is OpenClose.OPEN)
    shut = max(f.filled_at for f in trade.fills if f.open_close is OpenClose.CLOSE)
    assert trade.pnl_usd is not None
    return Cycle(
        entry_s=(opened - started).total_seconds(),
        hold_s=(shut - opened).total_seconds(),
        trade_id=trade.trade_id,
        pnl_usd=float(trade.pnl_usd),
    )
