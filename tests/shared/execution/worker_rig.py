"""A LegWorker over a stub broker (the process boundary) with a real journal file."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import cast

from shared.broker import Broker
from shared.circuit_breaker import BreakerSettings, CircuitBreaker, MemoryBreakerStore
from shared.clock import ManualClock
from shared.execution import ExecutionSettings, Recorder
from shared.execution.leg_worker import LegWorker
from shared.journal import Journal

START = datetime(2026, 1, 30, 15, 0, tzinfo=UTC)


def leg_worker(tmp_path: Path, broker: object) -> tuple[LegWorker, Journal, ManualClock]:
    """A LegWorker with default settings over `broker`, a journal in `tmp_path`, a clock at
    START and a closed circuit breaker."""
    clock = ManualClock(START)
    journal = Journal.open(tmp_path / "j.sqlite", clock=clock)
    worker = LegWorker(
        broker=cast(Broker, broker),
        recorder=Recorder(journal, "test_bot", lambda: ("test", {}), clock=clock),
        clock=clock,
        settings=ExecutionSettings(),
        breaker=CircuitBreaker(
            "test_bot", BreakerSettings(), clock=clock, store=MemoryBreakerStore()
        ),
        crash=lambda point: None,
    )
    return worker, journal, clock
