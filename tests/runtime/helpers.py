"""Helpers for runtime tests: a logged-in client on a simulator, fly legs, an executor."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import requests

from shared.brokers.saxo_broker import SaxoBroker
from shared.circuit_breaker import BreakerSettings, CircuitBreaker, MemoryBreakerStore
from shared.clock import Clock, WallClock
from shared.domain import PutCall, Side
from shared.execution import ExecutionSettings, Executor, Recorder
from shared.journal import Journal
from shared.saxo_client.client import SaxoClient
from shared.saxo_client.credentials import LOCAL_CREDENTIALS
from shared.saxo_client.environments import local_environment
from shared.saxo_client.login import login
from shared.saxo_client.oauth import OAuthClient
from shared.saxo_client.orders import VerifyTiming
from shared.saxo_client.rate_limiter import RateLimits
from shared.strategy_contract import LegSpec
from shared.token_coordinator import TokenCoordinator

NEW_YORK = ZoneInfo("America/New_York")
MARKET_OPEN = datetime(2026, 3, 2, 10, 0, tzinfo=NEW_YORK)  # a Monday, mid-morning
BOT = "iron_fly_0dte"


def control(server: Any, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
    response = requests.request(method, f"{server.base_url}/sim/v1{path}", json=body, timeout=10)
    response.raise_for_status()
    return response.json() if response.content else None


def leave_next_order_unanswered(server: Any) -> None:
    """The next order POST is answered 503 and never processed (its outcome is unknown to the
    client, and the order never exists at the simulator)."""
    fault = {"path_prefix": "/openapi/trade/v2/orders", "kind": "status", "status": 503}
    control(server, "POST", "/faults", {**fault, "count": 1, "method": "POST"})


def store_login(server: Any, cache: Path) -> TokenCoordinator:
    """Log in to `server` (auto-consent) and store the tokens in `cache`."""
    env = local_environment(server.base_url)
    oauth = OAuthClient(env=env, credentials=LOCAL_CREDENTIALS, clock=WallClock())
    tokens = login(oauth, redirect_uri="http://127.0.0.1:0/callback", auto_consent=True)
    coordinator = TokenCoordinator(
        env="local", refresher=oauth, cache_path=cache, clock=WallClock()
    )
    coordinator.store(tokens)
    return coordinator


def client_for(server: Any, tmp_path: Path) -> SaxoClient:
    coordinator = store_login(server, tmp_path / "data" / "saxo_token_cache.json")
    return SaxoClient(
        env=local_environment(server.base_url),
        tokens=coordinator,
        clock=server.state.clock,
        rate_limits=RateLimits(enabled=False),
        verify_timing=VerifyTiming(status_wait_s=2, price_wait_s=3, poll_interval_s=0.1),
    )


def sim_positions(server: Any) -> dict[int, Decimal]:
    """Signed amounts per uic as the simulator holds them."""
    client_positions = server.call(lambda s: list(s.exchange.portfolio.positions.values()))
    held: dict[int, Decimal] = {}
    for position in client_positions:
        held[position.uic] = held.get(position.uic, Decimal(0)) + Decimal(position.amount)
    return {uic: amount for uic, amount in held.items() if amount != 0}


def sim_orders(server: Any) -> list[tuple[int, str]]:
    """(uic, Buy/Sell) of every order the simulator accepted, in placement order."""
    rows = server.call(lambda s: list(s.exchange.activities))
    seen: dict[str, tuple[int, str]] = {}
    for row in rows:
        seen.setdefault(row.order_id, (row.uic, row.buy_sell))
    return list(seen.values())


def fly_legs(server: Any, quantity: int = 1, wing: int = 25) -> tuple[LegSpec, ...]:
    """A 0DTE SPXW iron fly at the strike nearest spot: LC, LP, SC, SP (longs first)."""
    today: date = server.call(lambda s: s.clock.now().astimezone(NEW_YORK).date())
    contracts = server.call(lambda s: s.catalog.contracts(128, today, s.model.spot(4913)))
    spot = server.call(lambda s: s.model.spot(4913))
    strikes = sorted({c.strike for c in contracts})
    atm = min(strikes, key=lambda k: abs(float(k) - spot))
    by_key = {(c.strike, c.put_call): c for c in contracts}

    def leg(name: str, strike: Decimal, pc: str, side: Side) -> LegSpec:
        c = by_key[(strike, pc)]
        return LegSpec(
            leg=name,
            uic=c.uic,
            asset_type="StockIndexOption",
            side=side,
            quantity=quantity,
            root="SPXW",
            strike=strike,
            put_call=PutCall.CALL if pc == "Call" else PutCall.PUT,
            expiry=today,
        )

    return (
        leg("long_call", atm + wing, "Call", Side.BUY),
        leg("long_put", atm - wing, "Put", Side.BUY),
        leg("short_call", atm, "Call", Side.SELL),
        leg("short_put", atm, "Put", Side.SELL),
    )


class Rig:
    """A SaxoBroker on a simulator, a journal, a breaker and an executor."""

    def __init__(
        self,
        server: Any,
        tmp_path: Path,
        clock: Clock,
        settings: ExecutionSettings | None = None,
        breaker: BreakerSettings | None = None,
        crash: Callable[[str], None] | None = None,
    ) -> None:
        self.server = server
        self.client = client_for(server, tmp_path)
        self.broker = SaxoBroker(self.client)
        self.journal = Journal.open(tmp_path / "data" / f"{BOT}.sqlite", clock=clock)
        self.breaker = CircuitBreaker(
            BOT, breaker or BreakerSettings(), clock=clock, store=MemoryBreakerStore()
        )
        self.recorder = Recorder(self.journal, BOT, lambda: ("test", {"runtime": self.jobs()}))
        self.executor = Executor(
            broker=self.broker,
            recorder=self.recorder,
            clock=clock,
            settings=settings or ExecutionSettings(fill_check_timeout_seconds=5.0),
            breaker=self.breaker,
            crash=crash,
        )

    def jobs(self) -> list[dict[str, Any]]:
        return self.executor.export_jobs() if hasattr(self, "executor") else []

    def run_until_idle(self, clock: Clock, timeout_s: float = 20.0) -> list[Any]:
        """Step (advancing `clock` by 0.5 s per pass) until no job is left; returns reports."""
        reports: list[Any] = []
        for _ in range(int(timeout_s / 0.5)):
            self.executor.step()
            reports.extend(self.executor.drain_reports())
            if not self.executor.busy:
                return reports
            clock.sleep(0.5)
        raise AssertionError(f"executor still busy: {self.executor.export_jobs()}")

    def close(self) -> None:
        self.client.close()
        self.journal.close()

    def __enter__(self) -> Rig:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
