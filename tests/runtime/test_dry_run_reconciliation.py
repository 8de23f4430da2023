"""Dry run does not skip reconciliation (catalogue SIM-003): the runtime reconciles its journal
with the dry-run broker's book at start, as in every other mode."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from shared.bot_runtime import BotRuntime
from shared.brokers.dry_run import DryRunBroker
from shared.brokers.saxo_broker import SaxoBroker
from shared.circuit_breaker import BreakerSettings, CircuitBreaker, MemoryBreakerStore
from shared.clock import ManualClock
from shared.config.envelope import LoopSection, MarketDataSection
from shared.event_calendar import EventCalendar
from shared.execution import ExecutionSettings, Executor, Recorder
from shared.journal import Journal
from shared.strategy_contract import OpenPosition
from tests.runtime.helpers import BOT, client_for, fly_legs
from tests.runtime.runtime_rig import WatchStrategy

START = datetime(2026, 3, 2, 10, 0, tzinfo=ZoneInfo("America/New_York"))


def _breaker(clock: ManualClock) -> CircuitBreaker:
    return CircuitBreaker(BOT, BreakerSettings(), clock=clock, store=MemoryBreakerStore())


def test_a_dry_run_start_reconciles_the_journal_with_the_dry_book(
    sim_factory: Callable[..., Any], tmp_path: Path
) -> None:
    server = sim_factory(start=START, speed=0.001)
    data = SaxoBroker(client_for(server, tmp_path))
    clock = ManualClock(START)
    journal = Journal.open(tmp_path / f"{BOT}.dry_run.sqlite", clock=clock)
    try:
        first = DryRunBroker(data, clock=clock, commission_per_contract_usd=Decimal("0.65"))
        recorder = Recorder(journal, BOT, lambda: ("test", {}))
        executor = Executor(broker=first, recorder=recorder, clock=clock,
                            settings=ExecutionSettings(), breaker=_breaker(clock))  # fmt: skip
        executor.submit(OpenPosition("dry-call", fly_legs(server)[:1], "test"))
        for _ in range(5):
            executor.step()
        assert [t.is_open for t in journal.trades()] == [True]

        # A new process whose dry book holds nothing (e.g. reset by hand): reconciliation must
        # notice that the journal's open trade is not at the broker.
        runtime = BotRuntime(
            bot=BOT, strategy=WatchStrategy(),
            broker=DryRunBroker(data, clock=clock), journal=journal, clock=clock,
            breaker=_breaker(clock), loop=LoopSection(), market_data=MarketDataSection(),
            execution=ExecutionSettings(), calendar=EventCalendar(), use_stream=False,
        )  # fmt: skip
        runtime.start()

        trade = journal.trades()[0]
        assert not trade.is_open and trade.exit_reason == "missing_at_broker"
        assert "trade_missing_at_broker" in [e.event for e in journal.safety_events()]
    finally:
        journal.close()
        data.client.close()
