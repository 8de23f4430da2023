"""Clocks: the one place CALYPSO reads time or sleeps. All datetimes are timezone-aware UTC."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    """Source of time for every component; inject it, never call datetime.now() directly."""

    def now(self) -> datetime:
        """Current instant, timezone-aware UTC."""
        ...

    def monotonic(self) -> float:
        """Seconds from an arbitrary origin that never goes backwards (for timeouts)."""
        ...

    def sleep(self, seconds: float) -> None:
        """Block for `seconds` of this clock's time (a no-op for seconds <= 0)."""
        ...


class WallClock:
    """The real clock: system UTC time and real sleeping."""

    def now(self) -> datetime:
        return datetime.now(UTC)

    def monotonic(self) -> float:
        return time.monotonic()

    def sleep(self, seconds: float) -> None:
        if seconds > 0:
            time.sleep(seconds)


class ManualClock:
    """A controllable clock for tests and backtests: time moves only when told to.

    `sleep(s)` advances the clock by `s` instead of blocking, so code under test that waits
    runs instantly and deterministically. Thread-safe.
    """

    def __init__(self, start: datetime) -> None:
        if start.tzinfo is None:
            raise ValueError("ManualClock needs a timezone-aware start datetime")
        self._now = start.astimezone(UTC)
        self._origin = self._now
        self._lock = threading.Lock()

    def now(self) -> datetime:
        with self._lock:
            return self._now

    def monotonic(self) -> float:
        with self._lock:
            return (self._now - self._origin).total_seconds()

    def sleep(self, seconds: float) -> None:
        if seconds > 0:
            self.advance(timedelta(seconds=seconds))

    def advance(self, delta: timedelta) -> datetime:
        """Move time forward by `delta` (must not be negative); returns the new now."""
        if delta < timedelta(0):
            raise ValueError("ManualClock cannot move backwards")
        with self._lock:
            self._now += delta
            return self._now

    def set(self, at: datetime) -> None:
        """Jump to `at` (timezone-aware, not before the current time)."""
        if at.tzinfo is None:
            raise ValueError("ManualClock.set needs a timezone-aware datetime")
        at = at.astimezone(UTC)
        with self._lock:
            if at < self._now:
                raise ValueError("ManualClock cannot move backwards")
            self._now = at
