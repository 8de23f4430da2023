"""The closed-market sleep: real waits follow the clock's current speed and end on a stop."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

from shared.clock import ManualClock
from shared.runtime.signals import InterruptibleClock, StopFlag


class RecordingStop(StopFlag):
    """A real StopFlag that also records the real seconds each wait was asked for."""

    def __init__(self) -> None:
        super().__init__()
        self.waits: list[float] = []

    def wait(self, timeout_s: float) -> bool:
        self.waits.append(timeout_s)
        return super().wait(0)


def test_real_waits_follow_the_current_speed() -> None:
    speed = [40.0]
    stop = RecordingStop()
    market = ManualClock(datetime(2026, 3, 2, tzinfo=UTC))
    clock = InterruptibleClock(market, stop, lambda: speed[0])

    clock.sleep(120.0)
    speed[0] = 600.0  # the simulator was sped up (control API)
    clock.sleep(120.0)
    clock.sleep(0.0)

    assert stop.waits == [3.0, 0.2]


def test_a_stop_ends_a_long_wait_at_once() -> None:
    stop = StopFlag()
    clock = InterruptibleClock(ManualClock(datetime(2026, 3, 2, tzinfo=UTC)), stop, lambda: 1.0)
    sleeper = threading.Thread(target=clock.sleep, args=(3600.0,), daemon=True)
    sleeper.start()

    stop.set("test")
    sleeper.join(timeout=5.0)

    assert not sleeper.is_alive(), "an hour's closed-market sleep ignored the stop"
