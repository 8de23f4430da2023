"""Streamed ticks re-check stops without broker calls: REST traffic does not grow with the tick
rate while an order's outcome is being looked up (simulator over real HTTP and streaming)."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from shared.config.envelope import LoopSection
from shared.execution import ExecutionSettings
from shared.saxo_client.streaming.client import StreamSettings
from tests.runtime.helpers import control, leave_next_order_unanswered
from tests.runtime.runtime_rig import TEN_AM, EnterUS500, RuntimeThread, build_runtime

OPEN_ORDERS_ROUTE = "GET /openapi/port/v1/orders"
WATCH_S = 3.0  # real seconds
SPEED = 10.0
LOOKUP_S = 60.0  # simulated seconds the unanswered order is looked up (6 real)


def _route_count(server: Any, route: str) -> int:
    return int(control(server, "GET", "/stats")["routes"].get(route, 0))


def test_ticks_during_an_order_lookup_add_no_rest_calls(
    sim_factory: Callable[..., Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("NOTIFY_SOCKET", raising=False)
    server = sim_factory(start=TEN_AM, speed=SPEED)
    # The entry order goes unanswered: the executor looks it up every pass.
    leave_next_order_unanswered(server)
    strategy = EnterUS500()
    loop = LoopSection(poll_seconds_in_position=60.0, poll_seconds_idle=60.0)
    execution = ExecutionSettings(fill_check_timeout_seconds=5.0, unknown_lookup_seconds=LOOKUP_S)
    stream = StreamSettings(refresh_rate_ms=50)

    def build(stop: Any) -> Any:
        return build_runtime(
            server, tmp_path, strategy, loop=loop, stop=stop, execution=execution, stream=stream
        )

    running = RuntimeThread(build).start()
    try:
        deadline = time.monotonic() + 15
        while _route_count(server, OPEN_ORDERS_ROUTE) == 0 and time.monotonic() < deadline:
            time.sleep(0.05)
        runtime = running.runtime
        assert runtime is not None
        lookups_before = _route_count(server, OPEN_ORDERS_ROUTE)
        ticks_before, polls_before = runtime.ticks.received, runtime.iterations
        time.sleep(WATCH_S)
        lookups = _route_count(server, OPEN_ORDERS_ROUTE) - lookups_before
        ticks = runtime.ticks.received - ticks_before
        polls = runtime.iterations - polls_before
        busy = runtime.executor.busy
        while runtime.executor.busy and time.monotonic() < deadline + LOOKUP_S / SPEED:
            time.sleep(0.05)  # let the lookup end so the runtime stops without a job
    finally:
        code = running.stop()

    assert lookups_before > 0, "the unanswered entry order was never looked up"
    assert busy, "the lookup ended early: the test no longer watches an order in flight"
    assert ticks >= 10, f"only {ticks} streamed ticks: nothing to compare against"
    # One lookup per poll (at most one a second while the executor is busy), none per tick.
    assert lookups <= polls + 1, f"{lookups} lookups for {polls} polls and {ticks} ticks"
    # The busy poll runs about once a simulated second, though the in-position poll is 60 s.
    assert WATCH_S * SPEED / 3 <= polls <= WATCH_S * SPEED + 2, polls
    assert code == 0
