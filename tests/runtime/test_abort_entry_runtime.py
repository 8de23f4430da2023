"""A strategy's AbortEntry through the real runtime (simulator over real HTTP): the entry in
flight is stopped, its unanswered order is still looked up, and no further attempt is sent."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from shared.config.envelope import LoopSection
from shared.domain import Side
from shared.execution import ExecutionSettings
from shared.strategy_contract import (
    AbortEntry,
    Action,
    ExecutionReport,
    LegSpec,
    OpenPosition,
    Snapshot,
)
from tests.runtime.helpers import leave_next_order_unanswered, sim_orders
from tests.runtime.runtime_rig import US500, RuntimeThread, WatchStrategy, build_runtime

SPEED = 10.0
LOOKUP_S = 10.0  # simulated seconds an unanswered order is looked up (1 real)
INTENT = "probe-entry"


class EnterThenAbort(WatchStrategy):
    """Asks for a 3-attempt US500.I entry, then aborts it on the next pass."""

    def __init__(self) -> None:
        super().__init__()
        self.passes = 0
        self.reports: list[ExecutionReport] = []

    def decide(self, snapshot: Snapshot) -> Sequence[Action]:
        super().decide(snapshot)
        if snapshot.triggered_by_tick:
            return []
        self.passes += 1
        if self.passes == 1:
            leg = LegSpec("long", US500, "CfdOnIndex", Side.BUY, 1, "US500")
            return [OpenPosition(INTENT, (leg,), "abort test", max_attempts=3)]
        if self.passes == 2:
            return [AbortEntry(INTENT, "gave up")]
        return []

    def on_execution(self, report: ExecutionReport, now: datetime) -> Sequence[Action]:
        self.reports.append(report)
        return []


def test_an_aborted_entry_sends_no_further_attempt(
    sim_factory: Callable[..., Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("NOTIFY_SOCKET", raising=False)
    server = sim_factory(
        start=datetime(2026, 3, 2, 10, 0, tzinfo=ZoneInfo("America/New_York")), speed=SPEED
    )
    leave_next_order_unanswered(server)
    strategy = EnterThenAbort()
    loop = LoopSection(poll_seconds_in_position=2.0, poll_seconds_idle=2.0)
    execution = ExecutionSettings(fill_check_timeout_seconds=5.0, unknown_lookup_seconds=LOOKUP_S)

    def build(stop: Any) -> Any:
        return build_runtime(server, tmp_path, strategy, loop=loop, stop=stop, execution=execution)

    running = RuntimeThread(build).start()
    try:
        deadline = time.monotonic() + 30
        while not strategy.reports and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(10 / SPEED)  # ten simulated seconds more: a retry would have been sent
    finally:
        code = running.stop()

    assert strategy.passes >= 2
    assert [(r.status, r.attempt) for r in strategy.reports] == [("failed", 1)]
    assert sim_orders(server) == []  # the 503 was never processed; nothing else was sent
    assert code == 0
