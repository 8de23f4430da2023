"""An in-process BotRuntime on a simulator (real HTTP and streaming) with a scripted strategy."""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from shared.bot_runtime import BotRuntime
from shared.brokers.saxo_broker import SaxoBroker
from shared.circuit_breaker import BreakerSettings, CircuitBreaker, MemoryBreakerStore
from shared.clock import Clock
from shared.config.envelope import LoopSection, MarketDataSection
from shared.domain import Position, Side
from shared.event_calendar import EventCalendar
from shared.execution import ExecutionSettings
from shared.journal import Journal
from shared.runtime.signals import StopFlag
from shared.saxo_client.streaming.client import StreamSettings
from shared.strategy_contract import (
    Action,
    DataRequest,
    ExecutionReport,
    InstrumentRef,
    JsonDict,
    LegSpec,
    OpenPosition,
    Snapshot,
)
from tests.runtime.helpers import BOT, client_for

US500 = 4913


class WatchStrategy:
    """Always "in position"; watches US500.I (streamed) and remembers every snapshot."""

    def __init__(self) -> None:
        self.snapshots: list[Snapshot] = []
        self.ticked = threading.Event()

    def data_request(self, now: datetime) -> DataRequest:
        ref = InstrumentRef(US500, "CfdOnIndex")
        return DataRequest(quotes=(ref,), tick_uics=frozenset({US500}))

    def decide(self, snapshot: Snapshot) -> Sequence[Action]:
        self.snapshots.append(snapshot)
        if snapshot.triggered_by_tick:
            self.ticked.set()
        return []

    def on_execution(self, report: ExecutionReport, now: datetime) -> Sequence[Action]:
        return []

    def state_name(self) -> str:
        return "watching"

    def export_state(self) -> JsonDict:
        return {}

    def restore(
        self, saved: Mapping[str, Any] | None, positions: Sequence[Position], now: datetime
    ) -> Sequence[Action]:
        return []

    def in_position(self) -> bool:
        return True


ENTRY_INTENT = "probe-entry"
TEN_AM = datetime(2026, 3, 2, 10, 0, tzinfo=ZoneInfo("America/New_York"))  # a Monday


class EnterUS500(WatchStrategy):
    """WatchStrategy that asks for one US500.I CFD entry (`ENTRY_INTENT`) on its first regular
    pass and returns `then` on its second; remembers every execution report."""

    def __init__(self, *, max_attempts: int = 1, then: Sequence[Action] = ()) -> None:
        super().__init__()
        self.passes = 0
        self.reports: list[ExecutionReport] = []
        self._max_attempts = max_attempts
        self._then = tuple(then)

    def decide(self, snapshot: Snapshot) -> Sequence[Action]:
        super().decide(snapshot)
        if snapshot.triggered_by_tick:
            return []
        self.passes += 1
        if self.passes == 1:
            leg = LegSpec("long", US500, "CfdOnIndex", Side.BUY, 1, "US500")
            entry = OpenPosition(ENTRY_INTENT, (leg,), "test", max_attempts=self._max_attempts)
            return [entry]
        return self._then if self.passes == 2 else []

    def on_execution(self, report: ExecutionReport, now: datetime) -> Sequence[Action]:
        self.reports.append(report)
        return []


def build_runtime(
    server: Any,
    tmp_path: Path,
    strategy: Any,
    *,
    clock: Clock | None = None,
    loop: LoopSection | None = None,
    stop: StopFlag | None = None,
    execution: ExecutionSettings | None = None,
    stream: StreamSettings | None = None,
    clock_speed: float = 1.0,
) -> BotRuntime:
    """A BotRuntime over SaxoBroker on `server`, a journal in tmp_path and default settings
    (`clock_speed`: the simulator's speed, so the loop's waits are simulated seconds)."""
    used: Clock = clock if clock is not None else server.state.clock
    broker = SaxoBroker(client_for(server, tmp_path), stream_settings=stream)
    journal = Journal.open(tmp_path / "data" / f"{BOT}.sqlite", clock=used)
    return BotRuntime(
        bot=BOT,
        strategy=strategy,
        broker=broker,
        journal=journal,
        clock=used,
        breaker=CircuitBreaker(BOT, BreakerSettings(), clock=used, store=MemoryBreakerStore()),
        loop=loop or LoopSection(),
        market_data=MarketDataSection(),
        execution=execution or ExecutionSettings(fill_check_timeout_seconds=5.0),
        calendar=EventCalendar(),
        stop=stop,
        clock_speed=clock_speed,
    )


def close_runtime(runtime: BotRuntime) -> None:
    """Release what a runtime started without `run()` holds: its price stream (else its thread
    keeps reconnecting to a simulator that is gone), the journal and the HTTP session."""
    if runtime.feed is not None:
        runtime.feed.stop()
    runtime.journal.close()
    broker = runtime.broker
    if isinstance(broker, SaxoBroker):
        broker.client.close()


class RuntimeThread:
    """Builds (the journal's SQLite connection belongs to one thread) and runs a runtime in a
    thread of its own; `stop()` asks it to stop and returns its exit code."""

    def __init__(self, build: Callable[[StopFlag], BotRuntime]) -> None:
        self.stop_flag = StopFlag()
        self._build = build
        self.runtime: BotRuntime | None = None
        self.code: int | None = None
        self.error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, daemon=True)

    def start(self) -> RuntimeThread:
        self._thread.start()
        return self

    def _run(self) -> None:
        try:
            self.runtime = self._build(self.stop_flag)
            try:
                self.code = self.runtime.run()
            finally:
                close_runtime(self.runtime)
        except BaseException as exc:  # reported by stop()
            self.error = exc

    def stop(self, timeout_s: float = 15.0) -> int | None:
        self.stop_flag.set("test over")
        self._thread.join(timeout_s)
        if self._thread.is_alive():
            raise AssertionError("the runtime did not stop in time")
        if self.error is not None:
            raise AssertionError(f"the runtime failed: {self.error!r}") from self.error
        return self.code
