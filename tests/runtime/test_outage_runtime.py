"""A broker outage while holding (issue 12, risk 1), through the real runtime on the simulator:
every REST route answers 503 and the price stream is dropped (its reconnects answered 503 too)
for 5 simulated minutes. The process must not give up: it keeps retrying, raises a safety
event, and after the outage resumes protection; the strategy's exit then closes the trade."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from shared.config.envelope import LoopSection
from shared.execution.unwind import closing_spec
from shared.journal import Journal
from shared.strategy_contract import (
    Action,
    ClosePosition,
    ExecutionReport,
    LegSpec,
    OpenPosition,
    Snapshot,
)
from tests.runtime.helpers import BOT, control, fly_legs
from tests.runtime.runtime_rig import (
    ENTRY_INTENT,
    TEN_AM,
    RuntimeThread,
    WatchStrategy,
    build_runtime,
)

SPEED = 60.0  # simulated seconds per real second: the 5-minute outage takes 5 real seconds
OUTAGE = timedelta(minutes=5)
CLOSE_INTENT = "probe-close"
MAX_ERRORS = 3


class HoldThenExit(WatchStrategy):
    """Buys `leg` on its first regular pass, then sells it on the first regular pass at or
    after `exit_at` (a time exit: decided only from a fresh snapshot, so only when the loop
    works); remembers every execution report."""

    def __init__(self, leg: LegSpec) -> None:
        super().__init__()
        self.leg = leg
        self.reports: list[ExecutionReport] = []
        self.exit_at: datetime | None = None
        self.entry_sent = self.exit_sent = False

    def decide(self, snapshot: Snapshot) -> Sequence[Action]:
        super().decide(snapshot)
        if snapshot.triggered_by_tick:
            return []
        if not self.entry_sent:
            self.entry_sent = True
            return [OpenPosition(ENTRY_INTENT, (self.leg,), "test")]
        if self.exit_sent or self.exit_at is None or snapshot.now < self.exit_at:
            return []
        self.exit_sent = True
        closing = closing_spec(self.leg, self.leg.quantity)
        return [ClosePosition(CLOSE_INTENT, (closing,), "time_exit", urgent=True)]

    def on_execution(self, report: ExecutionReport, now: datetime) -> Sequence[Action]:
        self.reports.append(report)
        return []


def _wait(condition: Callable[[], bool], real_s: float, what: str) -> None:
    deadline = time.monotonic() + real_s
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def ended(running: RuntimeThread) -> bool:
    return running.code is not None or running.error is not None


def failed_passes(running: RuntimeThread) -> int:
    return running.runtime.errors if running.runtime is not None else 0


def test_a_rest_and_stream_outage_while_holding_never_stops_the_bot(
    sim_factory: Callable[..., Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("NOTIFY_SOCKET", raising=False)
    server = sim_factory(start=TEN_AM, speed=SPEED)
    sim_now: Callable[[], datetime] = server.state.clock.now
    strategy = HoldThenExit(fly_legs(server)[0])  # one long SPXW call
    loop = LoopSection(poll_seconds_in_position=2.0, poll_seconds_idle=2.0,
                       max_consecutive_errors=MAX_ERRORS)  # fmt: skip

    def build(stop: Any) -> Any:
        return build_runtime(server, tmp_path, strategy, loop=loop, stop=stop, clock_speed=SPEED)

    running = RuntimeThread(build).start()
    try:
        _wait(lambda: any(r.status == "filled" for r in strategy.reports), 30, "the entry")
        control(server, "POST", "/faults", {"path_prefix": "/openapi/", "kind": "status",
                                            "status": 503, "count": 1_000_000})  # fmt: skip
        control(server, "POST", "/streaming/drop", {})
        outage_end = sim_now() + OUTAGE
        strategy.exit_at = outage_end + timedelta(seconds=30)
        # At least 5 simulated minutes, and at least MAX_ERRORS failed passes (each takes
        # ~2 real seconds of the client's own GET retries), or the runtime ended.
        _wait(lambda: ended(running) or (sim_now() >= outage_end and failed_passes(running)
                                         >= MAX_ERRORS), 60, "the end of the outage")  # fmt: skip
        alive_after_outage = not ended(running)
        control(server, "DELETE", "/faults")
        _wait(lambda: ended(running) or any(r.status == "closed" for r in strategy.reports),
              60, "the exit")  # fmt: skip
    finally:
        code = running.stop()

    assert alive_after_outage  # today: exited 1 after 3 failed passes
    assert code == 0
    assert [r.status for r in strategy.reports if r.intent_id == CLOSE_INTENT] == ["closed"]
    journal = Journal.open(tmp_path / "data" / f"{BOT}.sqlite", clock=server.state.clock)
    try:
        trade = journal.trades()[0]
        assert not trade.is_open and trade.exit_reason == "time_exit" and trade.is_flat
        events = [e.event for e in journal.safety_events()]
    finally:
        journal.close()
    assert events.count("loop_failing_in_position") == 1
    assert events.index("loop_failing_in_position") < events.index("loop_recovered")
