"""Fixtures for SaxoClient-vs-simulator tests: a logged-in client on a private token cache."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import requests

from shared.clock import WallClock
from shared.saxo_client.client import SaxoClient
from shared.saxo_client.credentials import LOCAL_CREDENTIALS
from shared.saxo_client.environments import local_environment
from shared.saxo_client.login import login
from shared.saxo_client.oauth import OAuthClient
from shared.saxo_client.orders import VerifyTiming
from shared.saxo_client.rate_limiter import RateLimits
from shared.token_coordinator import TokenCoordinator

NEW_YORK = ZoneInfo("America/New_York")
MARKET_OPEN_START = datetime(2026, 3, 2, 10, 0, tzinfo=NEW_YORK)  # a Monday, mid-morning


def control(server: Any, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
    """Call the simulator's control API (`/sim/v1/...`); returns the JSON answer."""
    response = requests.request(method, f"{server.base_url}/sim/v1{path}", json=body, timeout=10)
    response.raise_for_status()
    return response.json() if response.content else None


def sim_stats(server: Any) -> dict[str, Any]:
    result: dict[str, Any] = control(server, "GET", "/stats")
    return result


def coordinator_for(server: Any, cache: Path) -> TokenCoordinator:
    env = local_environment(server.base_url)
    oauth = OAuthClient(env=env, credentials=LOCAL_CREDENTIALS, clock=WallClock())
    return TokenCoordinator(env="local", refresher=oauth, cache_path=cache, clock=WallClock())


def logged_in_client(server: Any, tmp_path: Path, **kwargs: Any) -> SaxoClient:
    """Run the code flow against `server`, store the tokens under tmp_path, build a client
    whose market clock is the simulator's."""
    env = local_environment(server.base_url)
    oauth = OAuthClient(env=env, credentials=LOCAL_CREDENTIALS, clock=WallClock())
    tokens = login(
        oauth, redirect_uri="http://127.0.0.1:0/callback", auto_consent=True, timeout_s=10
    )
    coordinator = coordinator_for(server, tmp_path / "data" / "saxo_token_cache.json")
    coordinator.store(tokens)
    kwargs.setdefault("rate_limits", RateLimits(enabled=False))
    kwargs.setdefault(
        "verify_timing",
        VerifyTiming(status_wait_s=3, price_wait_s=12, poll_interval_s=0.25),
    )
    return SaxoClient(env=env, tokens=coordinator, clock=server.state.clock, **kwargs)


@pytest.fixture
def open_market_sim(sim_factory: Callable[..., Any]) -> Any:
    """A simulator that starts at 10:00 ET on a trading day (market open)."""
    return sim_factory(start=MARKET_OPEN_START)


@pytest.fixture
def client(open_market_sim: Any, tmp_path: Path) -> Iterator[SaxoClient]:
    saxo = logged_in_client(open_market_sim, tmp_path)
    yield saxo
    saxo.close()
