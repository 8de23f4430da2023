"""Fault injection through the control API: 5xx, 429, timeouts that do not block the loop."""

from __future__ import annotations

import time

import pytest
import requests

from shared.saxo_sim.server import SimServer
from tests.sim.server.helpers import Api, activities, freeze_at, order_body, positions

SPY = 36590
BALANCES = "/port/v1/balances/me"


def test_next_n_requests_under_a_prefix_answer_503_then_recover(simulator: SimServer) -> None:
    api = Api(simulator)
    armed = api.control(
        "POST", "/faults", {"path_prefix": "/openapi/port/", "status": 503, "count": 2}
    )

    statuses = [api.get(BALANCES).status_code for _ in range(3)]
    other = api.get("/ref/v1/instruments/details", Uics=SPY, AssetTypes="Etf")

    assert armed.status_code == 201
    assert statuses == [503, 503, 200]
    assert other.status_code == 200


def test_injected_429_carries_an_exhausted_rate_limit_header(simulator: SimServer) -> None:
    api = Api(simulator)
    api.control("POST", "/faults", {"path_prefix": "/openapi/trade/", "kind": "rate_limit"})

    response = api.get("/trade/v1/infoprices", Uic=SPY, AssetType="Etf")

    assert response.status_code == 429
    assert response.headers["X-RateLimit-Session-Remaining"] == "0"


def test_timeout_holds_the_request_without_blocking_other_requests(simulator: SimServer) -> None:
    api = Api(simulator)
    api.control(
        "POST",
        "/faults",
        {"path_prefix": "/openapi/port/v1/balances", "kind": "timeout", "hold_s": 0.6},
    )

    with pytest.raises(requests.Timeout):
        api.request("GET", BALANCES, timeout=0.2)
    started = time.monotonic()
    other = api.get("/port/v1/positions/me")

    assert other.status_code == 200
    assert time.monotonic() - started < 0.3


def test_timed_out_order_can_still_be_executed_by_the_server(simulator: SimServer) -> None:
    """The client gives up, yet the order was placed: the reason to verify before re-sending."""
    api = Api(simulator)
    freeze_at(api)
    api.control(
        "POST",
        "/faults",
        {"path_prefix": "/openapi/trade/v2/orders", "kind": "timeout", "hold_s": 0.3,
         "then_process": True, "method": "POST"},
    )  # fmt: skip

    with pytest.raises(requests.Timeout):
        api.request("POST", "/trade/v2/orders", json=order_body(SPY, "Etf", "Buy", 5), timeout=0.1)
    time.sleep(0.35)

    assert [r["Status"] for r in activities(api)] == ["Placed", "FinalFill"]
    assert positions(api)[0]["PositionBase"]["Amount"] == 5


def test_token_endpoint_can_fail(simulator: SimServer) -> None:
    api = Api(simulator)
    api.control("POST", "/faults", {"path_prefix": "/token", "status": 500})
    response = requests.post(
        f"{simulator.base_url}/token", data={"grant_type": "refresh_token"}, timeout=5
    )
    assert response.status_code == 500


def test_bad_fault_request_names_the_problem(simulator: SimServer) -> None:
    api = Api(simulator)
    response = api.control("POST", "/faults", {"path_prefix": "/openapi", "kind": "explode"})
    assert response.status_code == 400
    assert "kind" in response.json()["Message"]
