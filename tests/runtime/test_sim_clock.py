"""SimulatorClock against the real simulator: sync, extrapolation, jumps, session close, sleep.

The simulator runs on its own wall clock; the SimulatorClock's `real` clock is a ManualClock so
extrapolation between syncs is exact and HTTP calls happen only when the test makes them due.
"""

from __future__ import annotations

import socket
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import requests

from shared.clock import ManualClock
from shared.runtime.sim_clock import SimulatorClock, SimulatorClockError
from tests.runtime.helpers import control

NEW_YORK = ZoneInfo("America/New_York")
MID_MORNING = datetime(2026, 3, 2, 10, 0, tzinfo=NEW_YORK)
SPEED = 60.0


def _sim_now(server: Any) -> datetime:
    body = control(server, "GET", "/clock")
    return datetime.fromisoformat(str(body["now"]).replace("Z", "+00:00"))


class CountingSession(requests.Session):
    """A requests session counting the GETs it sends (the clock's only process boundary)."""

    def __init__(self) -> None:
        super().__init__()
        self.gets = 0

    def get(self, *args: Any, **kwargs: Any) -> requests.Response:
        self.gets += 1
        return super().get(*args, **kwargs)


@pytest.fixture
def server(sim_factory: Callable[..., Any]) -> Any:
    return sim_factory(start=MID_MORNING, speed=SPEED)


def test_first_sync_reads_the_simulators_time_and_speed(server: Any) -> None:
    before = _sim_now(server)
    clock = SimulatorClock(server.base_url, real=ManualClock(datetime(2026, 1, 1, tzinfo=UTC)))
    after = _sim_now(server)

    assert clock.speed == SPEED
    assert before <= clock.now() <= after
    assert clock.now().tzinfo is not None


def test_between_syncs_time_is_extrapolated_at_the_speed_without_asking(server: Any) -> None:
    real = ManualClock(datetime(2026, 1, 1, tzinfo=UTC))
    session = CountingSession()
    clock = SimulatorClock(
        server.base_url, real=real, resync_real_s=100.0, resync_sim_s=None, session=session
    )
    start, mono = clock.now(), clock.monotonic()

    real.sleep(1.5)

    assert clock.now() - start == timedelta(seconds=1.5 * SPEED)
    assert clock.monotonic() - mono == pytest.approx(1.5 * SPEED)
    assert session.gets == 1


def test_a_clock_jump_is_picked_up_at_the_next_resync_without_moving_monotonic(
    server: Any,
) -> None:
    real = ManualClock(datetime(2026, 1, 1, tzinfo=UTC))
    clock = SimulatorClock(server.base_url, real=real, resync_real_s=2.0)
    start, mono, jumps = clock.now(), clock.monotonic(), clock.jumps

    control(server, "POST", "/clock", {"advance_seconds": 3600})
    real.sleep(2.0)
    now = clock.now()

    assert now - start >= timedelta(hours=1)
    assert clock.jumps == jumps + 1
    assert clock.monotonic() - mono == pytest.approx(2.0 * SPEED)


def test_at_a_high_speed_a_jump_is_seen_within_a_simulated_minute_not_two_real_seconds(
    sim_factory: Callable[..., Any],
) -> None:
    # The demo jumps to a pre-open 5 minutes before the opening range; at 300x two real seconds
    # are 10 simulated minutes, so the bound that matters is the simulated one.
    server = sim_factory(start=MID_MORNING, speed=300.0)
    real = ManualClock(datetime(2026, 1, 1, tzinfo=UTC))
    session = CountingSession()
    clock = SimulatorClock(server.base_url, real=real, session=session)  # the defaults
    jumps = clock.jumps

    control(server, "POST", "/clock", {"advance_seconds": 3600})
    real.sleep(0.15)  # 45 simulated seconds: not due yet
    clock.now()
    assert (session.gets, clock.jumps) == (1, jumps)
    real.sleep(0.06)  # 63 simulated seconds
    clock.now()

    assert (session.gets, clock.jumps) == (2, jumps + 1)


def test_at_a_low_speed_the_real_interval_bounds_the_resync(server: Any) -> None:
    real = ManualClock(datetime(2026, 1, 1, tzinfo=UTC))
    session = CountingSession()
    clock = SimulatorClock(
        server.base_url, real=real, resync_real_s=0.5, resync_sim_s=3600.0, session=session
    )

    real.sleep(0.4)
    clock.now()
    assert session.gets == 1
    real.sleep(0.2)
    clock.now()

    assert session.gets == 2


def test_speed_changes_are_followed_after_a_resync(server: Any) -> None:
    real = ManualClock(datetime(2026, 1, 1, tzinfo=UTC))
    clock = SimulatorClock(server.base_url, real=real, resync_real_s=2.0, resync_sim_s=None)

    control(server, "POST", "/clock", {"speed": 120})
    real.sleep(2.0)
    synced = clock.now()
    real.sleep(0.5)

    assert clock.speed == 120.0
    assert clock.now() - synced == timedelta(seconds=60)


def test_crossing_the_session_close_forces_a_resync_before_the_interval(
    sim_factory: Callable[..., Any],
) -> None:
    near_close = datetime(2026, 3, 2, 16, 14, tzinfo=NEW_YORK)
    server = sim_factory(start=near_close, speed=SPEED)
    real = ManualClock(datetime(2026, 1, 1, tzinfo=UTC))
    session = CountingSession()
    clock = SimulatorClock(
        server.base_url, real=real, resync_real_s=1000.0, resync_sim_s=None, session=session
    )

    real.sleep(10.0)  # extrapolated 16:24, past the 16:15 close the simulator skips
    now = clock.now()

    assert session.gets == 2
    assert now < datetime(2026, 3, 2, 16, 15, tzinfo=NEW_YORK)


def test_sleep_waits_simulated_seconds_divided_by_the_speed(server: Any) -> None:
    real = ManualClock(datetime(2026, 1, 1, tzinfo=UTC))
    clock = SimulatorClock(server.base_url, real=real, resync_real_s=1000.0)
    started = real.monotonic()

    clock.sleep(120.0)

    assert real.monotonic() - started == pytest.approx(120.0 / SPEED)


def test_an_unreachable_simulator_fails_the_start_with_a_clear_error() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with pytest.raises(SimulatorClockError, match="cannot read the simulator clock"):
        SimulatorClock(f"http://127.0.0.1:{port}")


def test_a_lost_simulator_keeps_extrapolating_and_retries_only_after_the_interval(
    sim_factory: Callable[..., Any],
) -> None:
    server = sim_factory(start=MID_MORNING, speed=SPEED)
    real = ManualClock(datetime(2026, 1, 1, tzinfo=UTC))
    session = CountingSession()
    clock = SimulatorClock(server.base_url, real=real, resync_real_s=2.0, session=session)
    start = clock.now()
    server.stop()

    real.sleep(2.0)
    first = clock.now()  # due: one failed attempt
    second = clock.now()  # not retried yet
    real.sleep(2.0)
    clock.now()  # retried once more

    assert first - start == timedelta(seconds=2.0 * SPEED)
    assert second == first
    assert session.gets == 3
