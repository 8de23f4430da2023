"""Client-side pacing per service group and between orders (ManualClock: sleeps advance time)."""

from __future__ import annotations

from datetime import UTC, datetime

from shared.clock import ManualClock
from shared.saxo_client.rate_limiter import RateLimiter, RateLimits, service_group

START = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)


def test_service_group_is_the_first_path_segment() -> None:
    assert service_group("/trade/v2/orders") == "trade"
    assert service_group("/port/v1/positions/me") == "port"


def test_requests_beyond_the_budget_wait_for_the_window() -> None:
    clock = ManualClock(START)
    limiter = RateLimiter(clock=clock, limits=RateLimits(per_minute=3))

    waits = [limiter.acquire("ref") for _ in range(4)]

    assert waits[:3] == [0.0, 0.0, 0.0]
    assert waits[3] == 60.0


def test_groups_have_separate_budgets() -> None:
    clock = ManualClock(START)
    limiter = RateLimiter(clock=clock, limits=RateLimits(per_minute=1))
    limiter.acquire("ref")

    assert limiter.acquire("port") == 0.0


def test_orders_are_spaced() -> None:
    clock = ManualClock(START)
    limiter = RateLimiter(clock=clock, limits=RateLimits(order_spacing_s=1.05))

    limiter.acquire("trade", is_order=True)
    waited = limiter.acquire("trade", is_order=True)

    assert waited == 1.05


def test_pause_after_429_holds_the_group() -> None:
    clock = ManualClock(START)
    limiter = RateLimiter(clock=clock)

    limiter.pause("trade", 7.0)

    assert limiter.acquire("trade") == 7.0
    assert limiter.acquire("port") == 0.0
