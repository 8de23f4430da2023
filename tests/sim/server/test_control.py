"""Control API (`/sim/v1`): clock, price scripting, stats, input errors."""

from __future__ import annotations

import pytest

from shared.saxo_sim.server import SimServer
from tests.sim.server.helpers import Api, freeze_at, order_body

VIX, US500, SPY = 10606, 4913, 36590


@pytest.fixture
def api(simulator: SimServer) -> Api:
    return Api(simulator)


def test_clock_defaults_to_the_documented_start(api: Api) -> None:
    clock = api.control("GET", "/clock").json()
    assert clock["now"].startswith("2026-03-02T14:25:0")  # 09:25 America/New_York
    assert clock["speed"] == 1.0


def test_clock_can_be_set_advanced_and_sped_up(api: Api) -> None:
    set_to = api.control("POST", "/clock", {"now": "2026-03-02T15:00:00Z", "speed": 1e-6}).json()
    advanced = api.control("POST", "/clock", {"advance_seconds": 600}).json()
    faster = api.control("POST", "/clock", {"speed": 60}).json()

    assert set_to["now"].startswith("2026-03-02T15:00:00")
    assert set_to["market_open"] is True
    assert advanced["now"].startswith("2026-03-02T15:10:00")
    assert faster["speed"] == 60


def test_clock_rejects_a_naive_datetime(api: Api) -> None:
    response = api.control("POST", "/clock", {"now": "2026-03-02T15:00:00"})
    assert response.status_code == 400
    assert "offset" in response.json()["Message"]


def test_pin_vix_at_23_then_release(api: Api) -> None:
    freeze_at(api)
    api.control("POST", "/market/pin", {"symbol": "VIX.I", "level": 23})
    pinned = api.get(
        "/trade/v1/infoprices", Uic=VIX, AssetType="StockIndex", FieldGroups="PriceInfoDetails"
    )
    api.control("POST", "/market/release", {"symbol": "VIX.I"})
    api.control("POST", "/clock", {"advance_seconds": 3600})
    released = api.get(
        "/trade/v1/infoprices", Uic=VIX, AssetType="StockIndex", FieldGroups="PriceInfoDetails"
    )

    assert pinned.json()["PriceInfoDetails"]["LastTraded"] == 23
    assert released.json()["PriceInfoDetails"]["LastTraded"] != 23


def test_move_reaches_the_target_after_the_given_seconds(api: Api) -> None:
    freeze_at(api)
    api.control("POST", "/market/move", {"uic": US500, "target": 6100, "over_seconds": 300})
    api.control("POST", "/clock", {"advance_seconds": 300})
    spot = api.control("GET", "/market").json()["spots"]["US500.I"]
    assert spot == pytest.approx(6100, abs=0.01)


def test_market_control_names_an_unknown_symbol(api: Api) -> None:
    response = api.control("POST", "/market/pin", {"symbol": "NOPE", "level": 1})
    assert response.status_code == 400
    assert "NOPE" in response.json()["Message"]


def test_stats_count_routes_orders_fills_and_streaming(api: Api) -> None:
    freeze_at(api)
    api.post("/trade/v2/orders", order_body(SPY, "Etf", "Buy", 1))
    api.get("/port/v1/orders/me")

    stats = api.control("GET", "/stats").json()

    assert stats["routes"]["POST /openapi/trade/v2/orders"] == 1
    assert stats["routes"]["GET /openapi/port/v1/orders/me"] == 1
    assert (stats["orders_placed"], stats["fills"]) == (1, 1)
    assert stats["token_grants"]["direct"] == 1
    assert "streaming" in stats
