"""Expiry: SPXW cash settlement, SPY/QQQ exercise and assignment, early assignment, day orders."""

from __future__ import annotations

import pytest

from shared.saxo_sim.server import SimServer
from tests.sim.server.helpers import (
    SPXW_ROOT,
    US500,
    Api,
    activities,
    freeze_at,
    option_uic,
    order_body,
    positions,
)

SPY = 36590
NEXT_DAY_10_ET = "2026-03-03T15:00:00Z"


@pytest.fixture
def api(simulator: SimServer) -> Api:
    client = Api(simulator)
    freeze_at(client)
    return client


def _spy_root(api: Api) -> int:
    details = api.get(f"/ref/v1/instruments/details/{SPY}/Etf").json()
    [root] = [r["OptionRootId"] for r in details["RelatedOptionRootsEnhanced"]]
    return int(root)


def _strike(api: Api, uic: int, asset_type: str) -> float:
    details = api.get(f"/ref/v1/instruments/details/{uic}/{asset_type}").json()
    return float(details["StrikePrice"])


def _cash(api: Api) -> float:
    return float(api.get("/port/v1/balances/me").json()["CashBalance"])


def test_0dte_spxw_short_call_settles_in_cash_at_intrinsic(api: Api) -> None:
    uic = option_uic(api, SPXW_ROOT, "Call")
    strike = _strike(api, uic, "StockIndexOption")
    api.post("/trade/v2/orders", order_body(uic, "StockIndexOption", "Sell", 1))
    api.control("POST", "/market/pin", {"uic": US500, "level": strike + 10})
    cash_before = _cash(api)

    api.control("POST", "/clock", {"now": NEXT_DAY_10_ET})

    assert positions(api) == []
    [row] = api.get("/port/v1/closedpositions/me").json()["Data"]
    assert row["ClosedPosition"]["ClosingPrice"] == pytest.approx(10.0)
    assert _cash(api) == pytest.approx(cash_before - 10.0 * 100)


def test_in_the_money_long_spy_call_is_exercised_into_100_shares_at_the_strike(api: Api) -> None:
    uic = option_uic(api, _spy_root(api), "Call")
    strike = _strike(api, uic, "StockOption")
    api.post("/trade/v2/orders", order_body(uic, "StockOption", "Buy", 2))
    api.control("POST", "/market/pin", {"uic": SPY, "level": strike + 5})

    api.control("POST", "/clock", {"now": NEXT_DAY_10_ET})

    [shares] = positions(api)
    assert shares["PositionBase"]["Uic"] == SPY
    assert shares["PositionBase"]["AssetType"] == "Etf"
    assert shares["PositionBase"]["Amount"] == 200
    assert shares["PositionBase"]["OpenPrice"] == strike


def test_out_of_the_money_short_put_expires_worthless(api: Api) -> None:
    uic = option_uic(api, _spy_root(api), "Put")
    strike = _strike(api, uic, "StockOption")
    api.post("/trade/v2/orders", order_body(uic, "StockOption", "Sell", 1))
    api.control("POST", "/market/pin", {"uic": SPY, "level": strike + 5})

    api.control("POST", "/clock", {"now": NEXT_DAY_10_ET})

    assert positions(api) == []
    [row] = api.get("/port/v1/closedpositions/me").json()["Data"]
    assert row["ClosedPosition"]["ClosingPrice"] == 0


def test_control_api_early_assignment_of_a_short_put(api: Api) -> None:
    expiry = "2026-03-13"  # a later SPY expiry: the contract is far from expiring
    uic = option_uic(api, _spy_root(api), "Put", expiry=expiry)
    strike = _strike(api, uic, "StockOption")
    api.post("/trade/v2/orders", order_body(uic, "StockOption", "Sell", 1))
    position_id = positions(api)[0]["PositionId"]

    response = api.control("POST", "/assignments", {"position_id": position_id})

    assert response.status_code == 200, response.text
    [shares] = positions(api)
    assert (shares["PositionBase"]["Uic"], shares["PositionBase"]["Amount"]) == (SPY, 100)
    assert shares["PositionBase"]["OpenPrice"] == strike


def test_early_assignment_of_a_long_position_is_refused(api: Api) -> None:
    uic = option_uic(api, _spy_root(api), "Put", expiry="2026-03-13")
    api.post("/trade/v2/orders", order_body(uic, "StockOption", "Buy", 1))
    position_id = positions(api)[0]["PositionId"]

    response = api.control("POST", "/assignments", {"position_id": position_id})

    assert response.status_code == 400
    assert "short" in response.json()["Message"]


def test_day_orders_expire_at_the_close_and_good_till_cancel_stays(api: Api) -> None:
    far_below = {"OrderType": "Limit", "OrderPrice": 100.0}
    day = api.post("/trade/v2/orders", order_body(SPY, "Etf", "Buy", 10, **far_below))
    gtc = api.post(
        "/trade/v2/orders",
        order_body(
            SPY, "Etf", "Buy", 10, OrderDuration={"DurationType": "GoodTillCancel"}, **far_below
        ),
    )

    api.control("POST", "/clock", {"now": NEXT_DAY_10_ET})

    listed = [row["OrderId"] for row in api.get("/port/v1/orders/me").json()["Data"]]
    assert listed == [gtc.json()["OrderId"]]
    assert (
        activities(api, OrderId=day.json()["OrderId"], EntryType="Last")[0]["Status"] == "Expired"
    )
