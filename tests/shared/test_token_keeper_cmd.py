"""The token keeper loop: stops on request, exits non-zero when the refresh token is refused."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

from shared.cli.token_keeper_cmd import keep_fresh
from shared.clock import ManualClock
from shared.saxo_client.errors import TokenError
from shared.saxo_client.oauth import RefreshRejected

NOW = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)


class FakeCoordinator:
    env = "local"

    def __init__(self, errors: list[Exception], stop: threading.Event, stop_after: int) -> None:
        self.errors = errors
        self.calls = 0
        self.stop = stop
        self.stop_after = stop_after

    def current_tokens(self) -> object:
        self.calls += 1
        if self.calls >= self.stop_after:
            self.stop.set()
        if self.errors:
            raise self.errors.pop(0)
        return object()

    def next_refresh_at(self) -> datetime:
        return NOW + timedelta(milliseconds=1)


def test_refused_refresh_token_ends_the_keeper_with_exit_code_1() -> None:
    stop = threading.Event()
    coordinator = FakeCoordinator([RefreshRejected("invalid_grant")], stop, stop_after=99)

    code = keep_fresh(coordinator, clock=ManualClock(NOW), stop=stop)  # type: ignore[arg-type]

    assert code == 1


def test_transient_errors_are_retried_until_stopped() -> None:
    stop = threading.Event()
    coordinator = FakeCoordinator([TokenError("network down")], stop, stop_after=3)
    waits: list[float | None] = []
    original_wait = stop.wait

    def fast_wait(timeout: float | None = None) -> bool:
        waits.append(timeout)
        return original_wait(0)

    stop.wait = fast_wait  # type: ignore[method-assign]

    code = keep_fresh(coordinator, clock=ManualClock(NOW), stop=stop)  # type: ignore[arg-type]

    assert code == 0 and coordinator.calls == 3
    assert waits[0] == 1.0  # first backoff step after the error
