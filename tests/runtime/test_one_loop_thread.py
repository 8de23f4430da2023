"""The strategy is only ever called from the runtime's loop thread, one call at a time, also
while streamed ticks arrive on the stream's own thread (catalogue TIME-005: no overlapping
checks, so the strategy needs no locks)."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from shared.config.envelope import LoopSection
from shared.strategy_contract import Action, DataRequest, Snapshot
from tests.runtime.runtime_rig import TEN_AM, RuntimeThread, WatchStrategy, build_runtime

SPEED = 10.0


class ThreadWatch(WatchStrategy):
    """Remembers the thread of every call and whether two calls ever overlapped."""

    def __init__(self) -> None:
        super().__init__()
        self.threads: set[int] = set()
        self.overlapped = False
        self._inside = 0
        self._guard = threading.Lock()
        self.enough = threading.Event()

    def _enter(self) -> None:
        with self._guard:
            self._inside += 1
            self.overlapped |= self._inside > 1
            self.threads.add(threading.get_ident())

    def _leave(self) -> None:
        with self._guard:
            self._inside -= 1

    def data_request(self, now: datetime) -> DataRequest:
        self._enter()
        try:
            return super().data_request(now)
        finally:
            self._leave()

    def decide(self, snapshot: Snapshot) -> Sequence[Action]:
        self._enter()
        try:
            actions = super().decide(snapshot)
            ticks = sum(1 for s in self.snapshots if s.triggered_by_tick)
            if ticks >= 2 and len(self.snapshots) - ticks >= 2:
                self.enough.set()
            return actions
        finally:
            self._leave()


def test_the_strategy_is_called_from_the_loop_thread_only_and_never_twice_at_once(
    sim_factory: Callable[..., Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("NOTIFY_SOCKET", raising=False)
    server = sim_factory(start=TEN_AM, speed=SPEED)
    strategy = ThreadWatch()
    loop = LoopSection(poll_seconds_in_position=2.0, poll_seconds_idle=2.0)

    def build(stop: Any) -> Any:
        return build_runtime(server, tmp_path, strategy, loop=loop, stop=stop, clock_speed=SPEED)

    running = RuntimeThread(build).start()
    try:
        done = strategy.enough.wait(20.0)
    finally:
        code = running.stop()

    assert done, "fewer than 2 polled and 2 tick-driven decisions"
    assert len(strategy.threads) == 1 and not strategy.overlapped
    assert threading.get_ident() not in strategy.threads  # not the test's (or a stream) thread
    assert code == 0
