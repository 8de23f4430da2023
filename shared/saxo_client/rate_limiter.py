"""Client-side request pacing: under N requests per rolling minute per service group, and at
least `order_spacing_s` seconds between order requests. Thread-safe; waits through a Clock.

Saxo's limits are 120/minute per session per service group and 1 order/second per session
(saxo_api.md 4.1). Each process paces itself; processes sharing one login should budget lower.
"""

from __future__ import annotations

import logging
import threading
from collections import deque
from dataclasses import dataclass
from typing import Final

from shared.clock import Clock
from shared.logger_service import kv

logger = logging.getLogger(__name__)

WINDOW_S: Final = 60.0


@dataclass(frozen=True)
class RateLimits:
    """`per_minute` requests per service group per rolling 60 s; orders `order_spacing_s` apart.
    `enabled=False` turns pacing off (offline demo)."""

    per_minute: int = 115
    order_spacing_s: float = 1.05
    enabled: bool = True

    def __post_init__(self) -> None:
        if self.per_minute < 1:
            raise ValueError("per_minute must be at least 1")
        if self.order_spacing_s < 0:
            raise ValueError("order_spacing_s must not be negative")


def service_group(path: str) -> str:
    """The service group of a REST path: `/trade/v2/orders` -> `trade`."""
    return path.lstrip("/").split("/", 1)[0].lower() or "root"


class RateLimiter:
    """Blocks callers just long enough to stay inside `limits`."""

    def __init__(self, *, clock: Clock, limits: RateLimits | None = None) -> None:
        self._clock = clock
        self._limits = limits or RateLimits()
        self._lock = threading.Lock()
        self._sent: dict[str, deque[float]] = {}
        self._next_order_at = 0.0
        self._paused_until: dict[str, float] = {}

    @property
    def limits(self) -> RateLimits:
        return self._limits

    def acquire(self, group: str, *, is_order: bool = False) -> float:
        """Wait until a request to `group` may be sent, then record it; returns seconds waited."""
        waited = 0.0
        while True:
            with self._lock:
                delay = self._delay_locked(group, is_order)
                if delay <= 0:
                    self._record_locked(group, is_order)
                    return waited
            logger.debug(kv("rate_limit_wait", group=group, seconds=delay, order=is_order))
            self._clock.sleep(delay)
            waited += delay

    def pause(self, group: str, seconds: float) -> None:
        """Hold every request to `group` for `seconds` (after a 429 naming that reset)."""
        with self._lock:
            until = self._clock.monotonic() + seconds
            self._paused_until[group] = max(self._paused_until.get(group, 0.0), until)

    def _delay_locked(self, group: str, is_order: bool) -> float:
        now = self._clock.monotonic()
        delay = self._paused_until.get(group, 0.0) - now
        if not self._limits.enabled:
            return delay
        window = self._sent.setdefault(group, deque())
        while window and window[0] <= now - WINDOW_S:
            window.popleft()
        if len(window) >= self._limits.per_minute:
            delay = max(delay, window[0] + WINDOW_S - now)
        if is_order:
            delay = max(delay, self._next_order_at - now)
        return delay

    def _record_locked(self, group: str, is_order: bool) -> None:
        now = self._clock.monotonic()
        if self._limits.enabled:
            self._sent.setdefault(group, deque()).append(now)
        if is_order:
            self._next_order_at = now + self._limits.order_spacing_s
