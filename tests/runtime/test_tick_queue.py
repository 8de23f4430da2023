"""The tick queue: coalescing, waking the waiter at once; and a streamed tick waking the loop."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from shared.config.envelope import LoopSection
from shared.runtime.ticks import TickQueue
from tests.runtime.runtime_rig import US500, RuntimeThread, WatchStrategy, build_runtime


def _later(seconds: float, action: Callable[[], None]) -> threading.Timer:
    timer = threading.Timer(seconds, action)
    timer.start()
    return timer


def test_ticks_of_one_uic_coalesce_until_the_loop_takes_them() -> None:
    ticks = TickQueue()
    for uic in (5, 5, 6, 5):
        ticks.put(uic)

    first = ticks.wait(0.0)
    ticks.put(5)
    second = ticks.wait(0.0)

    assert first == {5, 6}
    assert second == {5}
    assert ticks.received == 5


def test_wait_without_ticks_returns_nothing_after_the_timeout() -> None:
    ticks = TickQueue()
    started = time.monotonic()

    assert ticks.wait(0.05) == set()
    assert time.monotonic() - started >= 0.04


def test_a_tick_from_another_thread_ends_the_wait_at_once() -> None:
    ticks = TickQueue()
    timer = _later(0.05, lambda: ticks.put(7))
    started = time.monotonic()

    got = ticks.wait(10.0)

    timer.join()
    assert got == {7}
    assert time.monotonic() - started < 2.0


def test_wake_ends_the_wait_without_a_uic() -> None:
    ticks = TickQueue()
    timer = _later(0.05, ticks.wake)
    started = time.monotonic()

    got = ticks.wait(10.0)

    timer.join()
    assert got == set()
    assert time.monotonic() - started < 2.0


def test_a_streamed_tick_wakes_the_loop_long_before_the_poll_timeout(
    sim_factory: Callable[..., Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("NOTIFY_SOCKET", raising=False)
    server = sim_factory(start=datetime(2026, 3, 2, 10, 0, tzinfo=ZoneInfo("America/New_York")))
    strategy = WatchStrategy()
    loop = LoopSection(poll_seconds_in_position=60.0, poll_seconds_idle=60.0)
    running = RuntimeThread(
        lambda stop: build_runtime(server, tmp_path, strategy, loop=loop, stop=stop)
    ).start()
    try:
        woke = strategy.ticked.wait(15.0)
    finally:
        code = running.stop()

    assert woke, "no tick-driven decision within 15 s (poll timeout is 60 s)"
    polls = [s for s in strategy.snapshots if not s.triggered_by_tick]
    ticked = [s for s in strategy.snapshots if s.triggered_by_tick]
    assert len(polls) == 1  # only the first pass: every later decision came from a tick
    assert US500 in ticked[0].quotes and ticked[0].quotes[US500].price is not None
    assert code == 0
