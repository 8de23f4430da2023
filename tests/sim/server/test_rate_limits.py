"""Rate limits (saxo_api.md §4.1): 120/min per session and service group, 1 order/s, 409."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from shared.clock import ManualClock
from shared.saxo_sim.config import SimConfig
from shared.saxo_sim.server import SimServer
from tests.sim.server.helpers import Api, freeze_at, order_body

SPY = 36590
BALANCES = "/port/v1/balances/me"


@pytest.fixture
def real() -> ManualClock:
    return ManualClock(datetime(2026, 3, 2, 15, 0, tzinfo=UTC))


@pytest.fixture
def limited(real: ManualClock) -> Iterator[tuple[SimServer, Api]]:
    """A simulator with limits ON whose real clock (token and rate windows) the test moves."""
    server = SimServer(SimConfig(seed=7, rate_limits=True), real=real)
    server.start()
    api = Api(server)
    freeze_at(api)
    try:
        yield server, api
    finally:
        server.stop()


def _limit_order(price: float = 100.0) -> dict[str, object]:
    return order_body(SPY, "Etf", "Buy", 1, OrderType="Limit", OrderPrice=price)


def test_headers_count_down_per_service_group(limited: tuple[SimServer, Api]) -> None:
    _, api = limited
    first = api.get(BALANCES)
    second = api.get(BALANCES)
    other_group = api.get("/ref/v1/instruments/details", Uics=SPY, AssetTypes="Etf")

    assert first.headers["X-RateLimit-Session-Limit"] == "120"
    assert int(first.headers["X-RateLimit-Session-Remaining"]) == 119
    assert int(second.headers["X-RateLimit-Session-Remaining"]) == 118
    assert int(other_group.headers["X-RateLimit-Session-Remaining"]) == 119
    assert "X-RateLimit-AppDay-Limit" in first.headers


def test_121st_request_in_a_minute_is_429_without_retry_after(
    limited: tuple[SimServer, Api], real: ManualClock
) -> None:
    _, api = limited
    for _ in range(120):
        assert api.get(BALANCES).status_code == 200

    refused = api.get(BALANCES)
    other_group = api.get("/ref/v1/instruments/details", Uics=SPY, AssetTypes="Etf")
    real.advance(timedelta(seconds=61))
    after_window = api.get(BALANCES)

    assert refused.status_code == 429
    assert refused.headers["X-RateLimit-Session-Remaining"] == "0"
    assert int(refused.headers["X-RateLimit-Session-Reset"]) > 0
    assert "Retry-After" not in refused.headers
    assert other_group.status_code == 200
    assert after_window.status_code == 200


def test_second_order_within_a_second_is_429(
    limited: tuple[SimServer, Api], real: ManualClock
) -> None:
    _, api = limited
    first = api.post("/trade/v2/orders", _limit_order(100.0))
    second = api.post("/trade/v2/orders", _limit_order(101.0))
    real.advance(timedelta(seconds=1.1))
    third = api.post("/trade/v2/orders", _limit_order(102.0))

    assert first.status_code == 200
    assert first.headers["X-RateLimit-SessionOrders-Limit"] == "1"
    assert second.status_code == 429
    assert second.headers["X-RateLimit-SessionOrders-Remaining"] == "0"
    assert third.status_code == 200


def test_identical_order_within_15_s_is_409_unless_request_id_differs(
    limited: tuple[SimServer, Api], real: ManualClock
) -> None:
    _, api = limited
    body = _limit_order()
    first = api.post("/trade/v2/orders", body, headers={"X-Request-ID": "a"})
    real.advance(timedelta(seconds=2))
    same_id = api.post("/trade/v2/orders", body, headers={"X-Request-ID": "a"})
    real.advance(timedelta(seconds=2))
    new_id = api.post("/trade/v2/orders", body, headers={"X-Request-ID": "b"})
    real.advance(timedelta(seconds=16))
    later = api.post("/trade/v2/orders", body, headers={"X-Request-ID": "b"})

    assert first.status_code == 200
    assert (same_id.status_code, same_id.content) == (409, b"")
    assert new_id.status_code == 200
    assert later.status_code == 200


def test_limits_can_be_switched_off_through_the_control_api(limited: tuple[SimServer, Api]) -> None:
    _, api = limited
    api.control("POST", "/rate_limits", {"enabled": False})
    first = api.post("/trade/v2/orders", _limit_order())
    duplicate = api.post("/trade/v2/orders", _limit_order())
    assert (first.status_code, duplicate.status_code) == (200, 200)


def test_simulator_fixture_has_limits_off(simulator: SimServer) -> None:
    api = Api(simulator)
    statuses = {api.get(BALANCES).status_code for _ in range(125)}
    assert statuses == {200}
