"""SimClock: the simulator's accelerated clock that skips closed-market hours.

Simulated time runs at `speed` simulated seconds per real second. With `skip_closed`, time only
flows through "active windows" [session open - pre_open, session close] of the Cboe index
options session (09:25-16:15 ET, 09:25-13:15 ET on early closes): passing a close carries the
excess into the next window, so 16:15:00.3 becomes 09:25:00.3 of the next session.
"""

from __future__ import annotations

import logging
import math
import threading
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from shared import market_hours
from shared.clock import Clock, WallClock
from shared.logger_service import kv
from shared.market_hours import TradingSession, Venue

logger = logging.getLogger(__name__)

CLOCK_VENUE: Venue = "index_options"
NEW_YORK = ZoneInfo("America/New_York")
_MAX_DAYS_TO_NEXT_SESSION = 30


@lru_cache(maxsize=8192)
def session_for(day: date, venue: Venue = CLOCK_VENUE) -> TradingSession | None:
    """The trading session of `day` at `venue` (cached; open/close tz-aware) or None if closed."""
    return market_hours.session(day, venue=venue)


def ny_date(at: datetime) -> date:
    """The America/New_York calendar date of a tz-aware instant."""
    return at.astimezone(NEW_YORK).date()


def next_session(after_day: date, venue: Venue = CLOCK_VENUE) -> TradingSession:
    """The first session on a day strictly after `after_day`; raises RuntimeError if none."""
    day = after_day
    for _ in range(_MAX_DAYS_TO_NEXT_SESSION):
        day += timedelta(days=1)
        found = session_for(day, venue)
        if found is not None:
            return found
    raise RuntimeError(f"no {venue} session within {_MAX_DAYS_TO_NEXT_SESSION} days of {after_day}")


def is_session_open(at: datetime, venue: Venue = CLOCK_VENUE) -> bool:
    """True when `at` is inside the regular session of `venue` (open inclusive, close exclusive)."""
    found = session_for(ny_date(at), venue)
    return found is not None and found.open <= at < found.close


def _validated_speed(speed: float) -> float:
    if isinstance(speed, bool) or not isinstance(speed, int | float):
        raise ValueError(f"SimClock speed must be a number, got {type(speed).__name__}")
    if not math.isfinite(speed) or speed <= 0:
        raise ValueError(f"SimClock speed must be finite and > 0, got {speed!r}")
    return float(speed)


def _aware_utc(name: str, at: datetime) -> datetime:
    if not isinstance(at, datetime) or at.tzinfo is None or at.utcoffset() is None:
        raise ValueError(f"SimClock {name} must be a timezone-aware datetime, got {at!r}")
    return at.astimezone(UTC)


class SimClock:
    """Accelerated simulated clock; satisfies `shared.clock.Clock`. Thread-safe.

    `now()` is tz-aware UTC. `monotonic()` counts simulated seconds that have actually run since
    the start (skips and `set` jumps do not count), so it never goes backwards. `sleep(s)` sleeps
    s / speed REAL seconds on `real`. A start outside the active windows moves to the next
    window start without counting as a jump; every later skip and every `set` counts one jump.
    """

    def __init__(
        self,
        start: datetime,
        speed: float = 1.0,
        *,
        skip_closed: bool = True,
        pre_open: timedelta = timedelta(minutes=5),
        real: Clock | None = None,
    ) -> None:
        start_utc = _aware_utc("start", start)
        if pre_open < timedelta(0) or pre_open > timedelta(hours=6):
            raise ValueError(f"SimClock pre_open must be within 0..6 hours, got {pre_open}")
        self._speed = _validated_speed(speed)
        self._skip_closed = skip_closed
        self._pre_open = pre_open
        self._real: Clock = real if real is not None else WallClock()
        self._lock = threading.Lock()
        self._jumps = 0
        self._anchor_sim = self._normalized(start_utc)
        self._anchor_real = self._real.monotonic()
        self._anchor_mono = 0.0
        self._window_end = self._window_end_of(self._anchor_sim)

    # ------------------------------------------------------------------ Clock protocol

    def now(self) -> datetime:
        """Current simulated instant, tz-aware UTC (applies any due closed-hours skip)."""
        with self._lock:
            return self._advance()

    def monotonic(self) -> float:
        """Simulated seconds run since the start; skips and jumps excluded; never decreases."""
        with self._lock:
            return self._anchor_mono + (self._real.monotonic() - self._anchor_real) * self._speed

    def sleep(self, seconds: float) -> None:
        """Block for `seconds` of simulated time: a real sleep of seconds / speed."""
        if seconds > 0:
            self._real.sleep(seconds / self._speed)

    # ------------------------------------------------------------------ control

    def set(self, at: datetime) -> None:
        """Jump to `at` (forward or backward; moved to the next window start if closed)."""
        target = self._normalized(_aware_utc("set time", at))
        with self._lock:
            self._advance()
            self._reanchor(target)
            self._jumps += 1
        logger.info(kv("sim_clock_set", at=target.isoformat(), jumps=self._jumps))

    def set_speed(self, speed: float) -> None:
        """Change the speed from now on (simulated seconds per real second, > 0)."""
        new_speed = _validated_speed(speed)
        with self._lock:
            self._reanchor(self._advance())
            self._speed = new_speed
        logger.info(kv("sim_clock_speed", speed=new_speed))

    @property
    def speed(self) -> float:
        """Simulated seconds per real second."""
        return self._speed

    @property
    def jumps(self) -> int:
        """Number of discontinuities so far: closed-hours skips (applied up to now) plus `set`s."""
        with self._lock:
            self._advance()
            return self._jumps

    @property
    def skip_closed(self) -> bool:
        """Whether closed hours are skipped."""
        return self._skip_closed

    def describe(self) -> dict[str, object]:
        """Control-API view: {"now": ISO-8601 UTC, "speed", "jumps", "market_open"}."""
        now = self.now()
        return {
            "now": now.isoformat().replace("+00:00", "Z"),
            "speed": self._speed,
            "jumps": self._jumps,
            "market_open": is_session_open(now),
        }

    # ------------------------------------------------------------------ internals

    def _advance(self) -> datetime:
        """Simulated now under the lock, applying and counting every skip that is due."""
        real_now = self._real.monotonic()
        elapsed = (real_now - self._anchor_real) * self._speed
        current = self._anchor_sim + timedelta(seconds=elapsed)
        window_end = self._window_end
        if window_end is None or current <= window_end:
            return current
        skipped = 0
        while window_end is not None and current > window_end:
            excess = current - window_end
            resume = self._window_start(next_session(ny_date(window_end)))
            current = resume + excess
            window_end = self._window_end_of(resume)
            skipped += 1
        self._anchor_mono += elapsed
        self._anchor_sim = current
        self._anchor_real = real_now
        self._window_end = window_end
        self._jumps += skipped
        logger.info(kv("sim_clock_skip", to=current.isoformat(), skipped_sessions=skipped))
        return current

    def _reanchor(self, at: datetime) -> None:
        real_now = self._real.monotonic()
        self._anchor_mono += (real_now - self._anchor_real) * self._speed
        self._anchor_real = real_now
        self._anchor_sim = at
        self._window_end = self._window_end_of(at)

    def _window_start(self, found: TradingSession) -> datetime:
        return (found.open - self._pre_open).astimezone(UTC)

    def _window_end_of(self, at: datetime) -> datetime | None:
        """The close of the active window containing `at` (None when not skipping)."""
        if not self._skip_closed:
            return None
        found = session_for(ny_date(at))
        if found is None:  # cannot happen after _normalized, kept for safety
            return None
        return found.close.astimezone(UTC)

    def _normalized(self, at: datetime) -> datetime:
        """`at` if it lies in an active window (or skipping is off), else the next window start."""
        if not self._skip_closed:
            return at
        day = ny_date(at)
        found = session_for(day)
        if found is not None:
            if at < self._window_start(found):
                return self._window_start(found)
            if at <= found.close:
                return at
        return self._window_start(next_session(day))
