"""Saxo's request limits: 120/min per session per service group, 1 order/s, duplicate-order 409.

Windows are fixed windows on REAL seconds (the injected clock's `monotonic()`). Headers follow
Saxo's `X-RateLimit-<Dimension>-Limit|Remaining|Reset` names (dimensions Session, SessionOrders,
AppDay). When disabled nothing is ever refused, but the headers are still sent.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass, field

from shared.clock import Clock, WallClock

SESSION_LIMIT_PER_MINUTE = 120
SESSION_ORDERS_PER_SECOND = 1
APP_DAY_LIMIT = 10_000_000
DUPLICATE_WINDOW_S = 15.0


@dataclass
class _Window:
    length_s: float
    started_at: float
    count: int = 0

    def roll(self, now: float) -> None:
        if now >= self.started_at + self.length_s:
            self.started_at = now
            self.count = 0

    def reset_in_s(self, now: float) -> int:
        return max(1, math.ceil(self.started_at + self.length_s - now))


@dataclass
class RateDecision:
    """Whether a request may proceed, and the headers to attach either way."""

    allowed: bool
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class _SeenOrder:
    at: float
    request_id: str | None


class RateLimiter:
    """Per-session request counting; owned by the event loop (no locking)."""

    def __init__(self, *, enabled: bool, real: Clock | None = None) -> None:
        self.enabled = enabled
        self._real: Clock = real or WallClock()
        self._session: dict[tuple[str, str], _Window] = {}
        self._orders: dict[str, _Window] = {}
        self._app_day = _Window(86400.0, self._real.monotonic())
        self._seen_orders: dict[tuple[str, str], _SeenOrder] = {}
        self.refused = 0
        self.duplicates = 0

    def check(self, session_id: str, group: str, *, is_order: bool) -> RateDecision:
        """Count one request of `session_id` to service `group`; refuse it past a limit."""
        now = self._real.monotonic()
        window = self._session.setdefault((session_id, group), _Window(60.0, now))
        window.roll(now)
        self._app_day.roll(now)
        limited = [("Session", window, SESSION_LIMIT_PER_MINUTE)]
        if is_order:
            orders = self._orders.setdefault(session_id, _Window(1.0, now))
            orders.roll(now)
            limited.append(("SessionOrders", orders, SESSION_ORDERS_PER_SECOND))
        exhausted = [name for name, win, limit in limited if win.count >= limit]
        allowed = not (self.enabled and exhausted)
        if allowed:
            for _, win, _ in limited:
                win.count += 1
            self._app_day.count += 1
        else:
            self.refused += 1
        headers: dict[str, str] = {}
        for name, win, limit in [*limited, ("AppDay", self._app_day, APP_DAY_LIMIT)]:
            headers[f"X-RateLimit-{name}-Limit"] = str(limit)
            headers[f"X-RateLimit-{name}-Remaining"] = str(max(0, limit - win.count))
            headers[f"X-RateLimit-{name}-Reset"] = str(win.reset_in_s(now))
        return RateDecision(allowed, headers)

    def is_duplicate_order(self, session_id: str, body: bytes, request_id: str | None) -> bool:
        """True when the same body came from this session within 15 s without a new X-Request-ID."""
        if not self.enabled:
            return False
        now = self._real.monotonic()
        key = (session_id, hashlib.sha256(body).hexdigest())
        seen = self._seen_orders.get(key)
        if (
            seen is not None
            and now - seen.at < DUPLICATE_WINDOW_S
            and (request_id is None or request_id == seen.request_id)
        ):
            self.duplicates += 1
            return True
        self._seen_orders[key] = _SeenOrder(now, request_id)
        self._seen_orders = {
            k: v for k, v in self._seen_orders.items() if now - v.at < DUPLICATE_WINDOW_S
        }
        return False

    def stats(self) -> dict[str, object]:
        return {
            "enabled": self.enabled,
            "refused": self.refused,
            "duplicate_orders": self.duplicates,
        }


def openapi_calls(routes: dict[str, int]) -> int:
    """REST calls in a `/sim/v1/stats` `routes` count (`"GET /openapi/..."` keys): the requests
    Saxo's per-session limits count. The WebSocket connect and control routes are left out."""
    return sum(
        count
        for route, count in routes.items()
        if " /openapi/" in route and "/streamingws/" not in route
    )
