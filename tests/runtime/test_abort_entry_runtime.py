"""A strategy's AbortEntry through the real runtime (simulator over real HTTP): the entry in
flight is stopped, its unanswered order is still looked up, and no further attempt is sent."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from shared.config.envelope import LoopSection
from shared.execution import ExecutionSettings
from shared.strategy_contract import (
    AbortEntry,
)
from tests.runtime.helpers import leave_next_order_unanswered, sim_orders
from tests.runtime.runtime_rig import (
    ENTRY_INTENT,
    TEN_AM,
    EnterUS500,
    RuntimeThread,
    build_runtime,
)

SPEED = 10.0
LOOKUP_S = 10.0  # simulated seconds an unanswered order is looked up (1 real)


def test_an_aborted_entry_sends_no_further_attempt(
    sim_factory: Callable[..., Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("NOTIFY_SOCKET", raising=False)
    server = sim_factory(start=TEN_AM, speed=SPEED)
    leave_next_order_unanswered(server)
    strategy = EnterUS500(max_attempts=3, then=[AbortEntry(ENTRY_INTENT, "gave up")])
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
