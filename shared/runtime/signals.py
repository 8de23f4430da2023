"""SIGTERM/SIGINT: set the stop flag and wake the loop; the loop finishes the step and exits.
`InterruptibleClock` lets long sleeps (the closed market) end as soon as a stop is asked."""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Callable
from datetime import datetime
from types import FrameType

from shared.clock import Clock
from shared.logger_service import kv

logger = logging.getLogger(__name__)


class StopFlag:
    """Set once a stop was requested (by a signal or by code)."""

    def __init__(self, on_stop: Callable[[], None] | None = None) -> None:
        self._event = threading.Event()
        self._on_stop = on_stop
        self.signal_name: str | None = None

    def is_set(self) -> bool:
        return self._event.is_set()

    def set(self, why: str = "requested") -> None:
        if not self._event.is_set():
            logger.info(kv("stop_requested", reason=why))
        self._event.set()
        if self._on_stop is not None:
            self._on_stop()

    def wait(self, timeout_s: float) -> bool:
        return self._event.wait(timeout_s)


def install_handlers(flag: StopFlag) -> None:
    """Route SIGTERM and SIGINT to `flag` (main thread only)."""

    def handler(signum: int, frame: FrameType | None) -> None:
        flag.signal_name = signal.Signals(signum).name
        flag.set(flag.signal_name)

    signal.signal(signal.SIGTERM, handler)
    signal.signal(signal.SIGINT, handler)


class InterruptibleClock:
    """`clock` whose sleep returns early when `stop` is set; `speed()` is clock seconds per
    real second now (1 live), so a sleep of N clock seconds waits N / speed real seconds."""

    def __init__(self, clock: Clock, stop: StopFlag, speed: Callable[[], float]) -> None:
        self._clock, self._stop, self._speed = clock, stop, speed

    def now(self) -> datetime:
        return self._clock.now()

    def monotonic(self) -> float:
        return self._clock.monotonic()

    def sleep(self, seconds: float) -> None:
        if seconds > 0:
            self._stop.wait(seconds / self._speed())
