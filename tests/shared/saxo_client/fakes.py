"""Small fakes for client unit tests (process boundaries only)."""

from __future__ import annotations

from datetime import UTC, datetime

from shared.clock import ManualClock
from shared.saxo_client.environments import local_environment
from shared.saxo_client.rate_limiter import RateLimiter, RateLimits
from shared.saxo_client.transport import RetryPolicy, SaxoTransport

BASE = "http://sim.test"
REST = f"{BASE}/openapi"
START = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)


class FakeTokens:
    """Hands out token-1, then token-2 after a forced refresh, and so on."""

    def __init__(self) -> None:
        self.generation = 1
        self.forced: list[str] = []

    def access_token(self) -> str:
        return f"token-{self.generation}"

    def force_refresh(self, rejected_token: str) -> str:
        self.forced.append(rejected_token)
        self.generation += 1
        return self.access_token()


def make_transport(
    clock: ManualClock | None = None, *, tokens: FakeTokens | None = None
) -> tuple[SaxoTransport, ManualClock, FakeTokens]:
    clock = clock or ManualClock(START)
    tokens = tokens or FakeTokens()
    import random

    transport = SaxoTransport(
        env=local_environment(BASE),
        tokens=tokens,
        clock=clock,
        limiter=RateLimiter(clock=clock, limits=RateLimits(enabled=False)),
        retry=RetryPolicy(attempts=3, base_delay_s=0.5),
        rng=random.Random(7),
    )
    return transport, clock, tokens
