"""SimulatorClock: the bot's clock in `local` mode, following the simulator's accelerated clock.

Syncs from `GET /sim/v1/clock` ({"now": ISO UTC, "speed", "jumps", "market_open"}) and
extrapolates `now + elapsed_real x speed` in between. Re-syncs every `resync_real_s` real seconds
or `resync_sim_s` simulated seconds, whichever comes first, and when the extrapolation crosses the
next session close (where the simulator skips ahead). A jump the simulator makes on request (the
demo's `POST /sim/v1/clock`) is therefore seen within about `resync_sim_s` simulated seconds at any
speed: at 300x a 2-second real interval alone would leave a bot 10 simulated minutes behind, enough
to miss an opening range that starts 5 minutes after the jump. `sleep(s)` waits
s / speed real seconds; `monotonic()` counts simulated seconds and never goes backwards.
"""

from __future__ import annotations

import logging
import threading
from datetime import datetime, timedelta

import requests

from shared import market_hours
from shared.clock import Clock, WallClock
from shared.logger_service import kv

logger = logging.getLogger(__name__)

SYNC_TIMEOUT_S = 5.0
RESYNC_REAL_S = 2.0  # real seconds between syncs at most
RESYNC_SIM_S = 60.0  # simulated seconds between syncs at most (0.2 real s at 300x)


class SimulatorClockError(RuntimeError):
    """The simulator's clock endpoint could not be read or answered nonsense."""


class SimulatorClock:
    """Clock that tracks a running simulator at `sim_url` (http://host:port)."""

    def __init__(
        self,
        sim_url: str,
        *,
        real: Clock | None = None,
        resync_real_s: float = RESYNC_REAL_S,
        resync_sim_s: float | None = RESYNC_SIM_S,
        session: requests.Session | None = None,
    ) -> None:
        self._url = sim_url.rstrip("/") + "/sim/v1/clock"
        self._real = real or WallClock()
        self._resync_real_s = resync_real_s
        self._resync_sim_s = resync_sim_s
        self._http = session or requests.Session()
        self._lock = threading.Lock()
        self._anchor_sim: datetime | None = None
        self._anchor_real = 0.0
        self._speed = 1.0
        self._jumps = -1
        self._mono = 0.0
        self._next_close: datetime | None = None
        self._retry_at_real = 0.0
        self.syncs = 0
        self.sync()

    @property
    def speed(self) -> float:
        """Simulated seconds per real second, as last reported by the simulator."""
        return self._speed

    @property
    def jumps(self) -> int:
        """The simulator's jump counter at the last sync (closed hours skipped, clock set)."""
        return self._jumps

    def sync(self) -> datetime:
        """Read the simulator's clock now; raises SimulatorClockError when it cannot."""
        try:
            response = self._http.get(self._url, timeout=SYNC_TIMEOUT_S)
            response.raise_for_status()
            body = response.json()
            now = datetime.fromisoformat(str(body["now"]).replace("Z", "+00:00"))
            speed = float(body["speed"])
            jumps = int(body.get("jumps", 0))
        except (requests.RequestException, ValueError, KeyError, TypeError) as exc:
            raise SimulatorClockError(
                f"cannot read the simulator clock at {self._url}: {exc}"
            ) from exc
        if now.tzinfo is None or speed <= 0:
            raise SimulatorClockError(f"simulator clock answered nonsense: {body!r}")
        with self._lock:
            real_now = self._real.monotonic()
            if self._anchor_sim is not None:
                self._mono += (real_now - self._anchor_real) * self._speed
                if jumps != self._jumps:
                    logger.info(kv("sim_clock_jump", now=now.isoformat(), jumps=jumps))
            self._retry_at_real = 0.0
            self._anchor_sim, self._anchor_real = now, real_now
            self._speed, self._jumps = speed, jumps
            self._next_close = _next_close(now)
            self.syncs += 1
        return now

    def now(self) -> datetime:
        """Simulated now, tz-aware UTC: extrapolated, re-synced when due (see the module
        docstring). A failed re-sync is logged and retried `resync_real_s` real seconds later;
        meanwhile the extrapolation is returned."""
        with self._lock:
            anchor = self._anchor_sim
            assert anchor is not None
            real_now = self._real.monotonic()
            value = anchor + timedelta(seconds=(real_now - self._anchor_real) * self._speed)
            stale = real_now - self._anchor_real >= self._resync_interval_real_s()
            crossed = self._next_close is not None and value >= self._next_close
            due = (stale or crossed) and real_now >= self._retry_at_real
        if due:
            try:
                return self.sync()
            except SimulatorClockError as exc:
                logger.warning(kv("sim_clock_sync_failed", error=exc))
                with self._lock:
                    self._retry_at_real = real_now + self._resync_real_s
        return value

    def _resync_interval_real_s(self) -> float:
        """Real seconds between syncs at the current speed (caller holds the lock)."""
        if self._resync_sim_s is None:
            return self._resync_real_s
        return min(self._resync_real_s, self._resync_sim_s / self._speed)

    def monotonic(self) -> float:
        """Simulated seconds elapsed (extrapolated at the reported speeds); jumps excluded."""
        with self._lock:
            return self._mono + (self._real.monotonic() - self._anchor_real) * self._speed

    def sleep(self, seconds: float) -> None:
        """Wait `seconds` simulated seconds: seconds / speed real seconds."""
        if seconds > 0:
            self._real.sleep(seconds / self._speed)


def _next_close(at: datetime) -> datetime | None:
    """The close of the index-options session on `at`'s New York day, if still ahead."""
    try:
        found = market_hours.session(at.astimezone(market_hours.NY).date(), "index_options")
    except ValueError:
        return None
    if found is None or found.close <= at:
        return None
    return found.close
