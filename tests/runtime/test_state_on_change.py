"""The runtime saves the strategy's state when its state name changes without an order (a
skipped day going to `done`), once per change, so `calypso status` sees it before the close."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from shared.bot_runtime import BotRuntime
from shared.clock import ManualClock
from shared.strategy_contract import Action, JsonDict, Snapshot
from tests.runtime.helpers import BOT, MARKET_OPEN
from tests.runtime.runtime_rig import WatchStrategy, build_runtime, close_runtime


class SkipDayStrategy(WatchStrategy):
    """Waits, then on its first decision skips the day: state `done`, no order."""

    def __init__(self) -> None:
        super().__init__()
        self.name = "waiting"

    def decide(self, snapshot: Snapshot) -> list[Action]:
        self.name = "done"
        return []

    def state_name(self) -> str:
        return self.name

    def export_state(self) -> JsonDict:
        return {"skipped": self.name == "done"}

    def in_position(self) -> bool:
        return False


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(MARKET_OPEN)


@pytest.fixture
def runtime(
    sim_factory: Callable[..., Any],
    tmp_path: Path,
    clock: ManualClock,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[BotRuntime]:
    monkeypatch.delenv("NOTIFY_SOCKET", raising=False)
    server = sim_factory(start=MARKET_OPEN)
    made = build_runtime(server, tmp_path, SkipDayStrategy(), clock=clock)
    made._use_stream = False
    yield made
    close_runtime(made)


def test_a_state_change_without_an_order_is_saved_on_that_pass(
    runtime: BotRuntime, clock: ManualClock
) -> None:
    runtime.start()
    saved = runtime.journal.load_state(BOT)
    assert saved is not None and saved.state == "waiting"

    clock.advance(timedelta(seconds=1))
    runtime.iteration()

    saved = runtime.journal.load_state(BOT)
    assert saved is not None and saved.state == "done"
    assert saved.payload["strategy"] == {"skipped": True}
    assert runtime.journal.intents() == []


def test_an_unchanged_state_is_not_saved_again_every_pass(
    runtime: BotRuntime, clock: ManualClock
) -> None:
    runtime.start()
    clock.advance(timedelta(seconds=1))
    runtime.iteration()
    first = runtime.journal.load_state(BOT)

    clock.advance(timedelta(minutes=1))
    runtime.iteration()

    again = runtime.journal.load_state(BOT)
    assert first is not None and again is not None
    assert again.updated_at == first.updated_at
