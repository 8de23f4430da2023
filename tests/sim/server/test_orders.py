"""Order placement, fills, open orders and activities (saxo_api.md §2.6, §2.9, §2.10, §5.3-5.6)."""

from __future__ import annotations

import json

import pytest

from shared.saxo_sim.server import SimServer
from tests.sim.server.helpers import (
    ACCOUNT_KEY,
    CLIENT_KEY,
    SPXW_ROOT,
    US500,
    Api,
    activities,
    freeze_at,
    option_uic,
    order_body,
    positions,
    quote,
)

SIO = "StockIndexOption"


@pytest.fixture
def api(simulator: SimServer) -> Api:
    client = Api(simulator)
    freeze_at(client)
    return client


def test_market_order_vanishes_has_final_fill_price_and_signed_position(api: Api) -> None:
    """The issue's must-show: SPXW market sell -> gone from open orders, FinalFill with
    AveragePrice at the bid, position with Amount -2."""
    uic = option_uic(api, SPXW_ROOT, "Call")
    bid = quote(api, uic, SIO)["Bid"]

    placed = api.post("/trade/v2/orders", order_body(uic, SIO, "Sell", 2, ExternalReference="ms-1"))

    assert placed.status_code == 200
    order_id = placed.json()["OrderId"]
    assert placed.json()["ExternalReference"] == "ms-1"
    assert api.get("/port/v1/orders/me").json() == {"__count": 0, "Data": []}
    single = api.get(f"/port/v1/orders/{CLIENT_KEY}/{order_id}")
    assert (single.status_code, single.json()) == (200, {"__count": 0, "Data": []})
    rows = activities(api, OrderId=order_id)
    assert [r["Status"] for r in rows] == ["Placed", "FinalFill"]
    final = rows[-1]
    assert final["AveragePrice"] == bid
    assert final["ExecutionPrice"] == bid
    assert "FilledPrice" not in final and "Price" not in final
    [position] = positions(api)
    assert position["PositionBase"]["Amount"] == -2
    assert position["PositionBase"]["OpenPrice"] == bid
    assert position["PositionBase"]["Uic"] == uic
    assert position["PositionId"] == final["PositionId"]
    assert position["PositionBase"]["OptionsData"]["PutCall"] == "Call"


def test_marketable_limit_fills_at_the_touch_with_price_improvement(api: Api) -> None:
    uic = option_uic(api, SPXW_ROOT, "Put")
    ask = quote(api, uic, SIO)["Ask"]
    limit = round(ask + 2.0, 2)  # 2 points above the ask: on the 0.10 grid above 3.00

    placed = api.post(
        "/trade/v2/orders", order_body(uic, SIO, "Buy", 1, OrderType="Limit", OrderPrice=limit)
    )

    assert placed.status_code == 200, placed.text
    final = activities(api, OrderId=placed.json()["OrderId"], Status="FinalFill")[0]
    assert final["AveragePrice"] == ask < limit
    assert final["Price"] == limit
    assert positions(api)[0]["PositionBase"]["OpenPrice"] == ask


def test_resting_limit_is_listed_then_fills_when_the_market_comes_to_it(api: Api) -> None:
    uic = option_uic(api, SPXW_ROOT, "Call")
    before = quote(api, uic, SIO)
    limit = before["Bid"]
    placed = api.post(
        "/trade/v2/orders", order_body(uic, SIO, "Buy", 1, OrderType="Limit", OrderPrice=limit)
    )
    order_id = placed.json()["OrderId"]

    [row] = api.get("/port/v1/orders/me").json()["Data"]
    assert (row["OrderId"], row["Status"], row["OpenOrderType"], row["Price"]) == (
        order_id, "Working", "Limit", limit,
    )  # fmt: skip
    assert row["Duration"] == {"DurationType": "DayOrder"}
    single = api.get(f"/port/v1/orders/{CLIENT_KEY}/{order_id}").json()
    assert single["__count"] == 1 and single["Data"][0]["OrderId"] == order_id

    spot = api.control("GET", "/market").json()["spots"]["US500.I"]
    api.control("POST", "/market/pin", {"uic": US500, "level": spot - 40})

    ask_now = quote(api, uic, SIO)["Ask"]
    final = activities(api, OrderId=order_id, Status="FinalFill")[0]
    assert final["AveragePrice"] == ask_now <= limit
    assert api.get("/port/v1/orders/me").json()["Data"] == []


def test_missing_fields_give_invalid_model_state_naming_them(api: Api) -> None:
    body = order_body(4913, "CfdOnIndex", "Buy", 1)
    del body["ManualOrder"], body["OrderDuration"]

    response = api.post("/trade/v2/orders", body)

    assert response.status_code == 400
    payload = response.json()
    assert payload["ErrorCode"] == "InvalidModelState"
    assert {"ManualOrder", "OrderDuration"} <= set(payload["ModelState"])


def test_limit_without_price_is_invalid_model_state(api: Api) -> None:
    uic = option_uic(api, SPXW_ROOT, "Call")
    response = api.post("/trade/v2/orders", order_body(uic, SIO, "Buy", 1, OrderType="Limit"))
    assert response.status_code == 400
    assert "OrderPrice" in response.json()["ModelState"]


@pytest.mark.parametrize("raw_price", ["5.05", "2.5500000000000003"])
def test_price_off_the_spxw_tick_grid_is_rejected(api: Api, raw_price: str) -> None:
    """SPXW ticks: 0.05 below 3.00, 0.10 from 3.00; float artefacts are off-grid too."""
    uic = option_uic(api, SPXW_ROOT, "Call", offset_strikes=8)
    body = json.dumps(order_body(uic, SIO, "Buy", 1, OrderType="Limit", OrderPrice=0)).replace(
        '"OrderPrice": 0', f'"OrderPrice": {raw_price}'
    )
    response = api.request(
        "POST", "/trade/v2/orders", data=body, headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 400
    assert response.json()["ErrorInfo"]["ErrorCode"] == "PriceNotInTickSizeIncrements"


def test_spxw_option_sent_as_stock_option_is_rejected(api: Api) -> None:
    uic = option_uic(api, SPXW_ROOT, "Call")
    response = api.post("/trade/v2/orders", order_body(uic, "StockOption", "Buy", 1))
    assert response.status_code == 400
    assert response.json()["ErrorInfo"]["ErrorCode"] == "InstrumentNotTradableAsTheSelectedType"


def test_unknown_uic_is_illegal_instrument(api: Api) -> None:
    response = api.post("/trade/v2/orders", order_body(999, SIO, "Buy", 1))
    assert response.json()["ErrorInfo"]["ErrorCode"] == "IllegalInstrumentId"


def test_order_before_the_open_is_market_closed_and_audited(simulator: SimServer) -> None:
    api = Api(simulator)  # default start: 09:25 ET, five minutes before the open
    freeze_at(api, "2026-03-02T14:26:00Z")
    uic = option_uic(api, SPXW_ROOT, "Call")

    response = api.post("/trade/v2/orders", order_body(uic, SIO, "Buy", 1, ExternalReference="x"))

    assert response.status_code == 400
    assert response.json()["ErrorInfo"]["ErrorCode"] == "MarketClosed"
    assert response.json()["ExternalReference"] == "x"
    [row] = activities(api)
    assert (row["Status"], row["SubStatus"]) == ("Placed", "Rejected")


def test_cancel_removes_order_and_a_second_cancel_is_404(api: Api) -> None:
    uic = option_uic(api, SPXW_ROOT, "Call")
    limit = quote(api, uic, SIO)["Bid"]
    order_id = api.post(
        "/trade/v2/orders", order_body(uic, SIO, "Buy", 1, OrderType="Limit", OrderPrice=limit)
    ).json()["OrderId"]

    first = api.request(
        "DELETE", f"/trade/v2/orders/{order_id}", params={"AccountKey": ACCOUNT_KEY}
    )
    second = api.request(
        "DELETE", f"/trade/v2/orders/{order_id}", params={"AccountKey": ACCOUNT_KEY}
    )

    assert (first.status_code, first.json()) == (200, {"Orders": [{"OrderId": order_id}]})
    assert second.status_code == 404
    assert second.json()["Orders"][0]["ErrorInfo"]["ErrorCode"] == "OrderNotFound"
    assert api.get("/port/v1/orders/me").json()["Data"] == []
    assert activities(api, OrderId=order_id, EntryType="Last")[0]["Status"] == "Cancelled"


def test_cancel_without_account_key_is_invalid(api: Api) -> None:
    response = api.request("DELETE", "/trade/v2/orders/5000000001")
    assert response.status_code == 400
    assert "AccountKey" in response.json()["ModelState"]


def test_modify_changes_the_price_and_logs_changed(api: Api) -> None:
    uic = option_uic(api, SPXW_ROOT, "Call")
    bid = quote(api, uic, SIO)["Bid"]
    order_id = api.post(
        "/trade/v2/orders", order_body(uic, SIO, "Buy", 1, OrderType="Limit", OrderPrice=bid)
    ).json()["OrderId"]
    lower = round(bid - 1.0, 2)

    patched = api.request(
        "PATCH",
        "/trade/v2/orders",
        json={"AccountKey": ACCOUNT_KEY, "OrderId": order_id, "AssetType": SIO,
              "OrderType": "Limit", "OrderPrice": lower, "Amount": 1,
              "OrderDuration": {"DurationType": "DayOrder"}},
    )  # fmt: skip

    assert (patched.status_code, patched.json()) == (200, {"OrderId": order_id})
    assert api.get("/port/v1/orders/me").json()["Data"][0]["Price"] == lower
    assert activities(api, OrderId=order_id, EntryType="Last")[0]["Status"] == "Changed"


def test_immediate_or_cancel_that_cannot_fill_is_cancelled_at_once(api: Api) -> None:
    uic = option_uic(api, SPXW_ROOT, "Call")
    bid = quote(api, uic, SIO)["Bid"]
    body = order_body(uic, SIO, "Buy", 1, OrderType="Limit", OrderPrice=bid,
                      OrderDuration={"DurationType": "ImmediateOrCancel"})  # fmt: skip

    order_id = api.post("/trade/v2/orders", body).json()["OrderId"]

    assert api.get("/port/v1/orders/me").json()["Data"] == []
    assert [r["Status"] for r in activities(api, OrderId=order_id)] == ["Placed", "Cancelled"]
    assert positions(api) == []


def test_rejected_next_order_uses_the_scripted_error_code(api: Api) -> None:
    api.control("POST", "/orders/reject_next", {"error_code": "WouldExceedMargin"})
    uic = option_uic(api, SPXW_ROOT, "Call")

    first = api.post("/trade/v2/orders", order_body(uic, SIO, "Sell", 1))
    second = api.post("/trade/v2/orders", order_body(uic, SIO, "Sell", 1))

    assert first.status_code == 400
    assert first.json()["ErrorInfo"]["ErrorCode"] == "WouldExceedMargin"
    assert second.status_code == 200


def test_partial_fill_then_the_rest_after_the_scripted_delay(api: Api) -> None:
    uic = option_uic(api, SPXW_ROOT, "Put")
    api.control("POST", "/orders/partial_next", {"fraction": 0.5, "rest_after_seconds": 30})

    order_id = api.post("/trade/v2/orders", order_body(uic, SIO, "Sell", 4)).json()["OrderId"]

    [working] = api.get("/port/v1/orders/me").json()["Data"]
    assert (working["OrderId"], working["FilledAmount"]) == (order_id, 2)
    assert positions(api)[0]["PositionBase"]["Amount"] == -2
    assert activities(api, OrderId=order_id)[-1]["Status"] == "Fill"

    api.control("POST", "/clock", {"advance_seconds": 31})

    assert activities(api, OrderId=order_id)[-1]["Status"] == "FinalFill"
    assert api.get("/port/v1/orders/me").json()["Data"] == []
    assert positions(api)[0]["PositionBase"]["Amount"] == -4


def test_partial_fill_of_immediate_or_cancel_cancels_the_rest(api: Api) -> None:
    uic = option_uic(api, SPXW_ROOT, "Put")
    api.control("POST", "/orders/partial_next", {"amount": 1})
    body = order_body(uic, SIO, "Buy", 3, OrderDuration={"DurationType": "ImmediateOrCancel"})

    order_id = api.post("/trade/v2/orders", body).json()["OrderId"]

    statuses = [r["Status"] for r in activities(api, OrderId=order_id)]
    assert statuses == ["Placed", "Fill", "Cancelled"]
    assert positions(api)[0]["PositionBase"]["Amount"] == 1


def test_fill_or_kill_ignores_a_partial_directive(api: Api) -> None:
    uic = option_uic(api, SPXW_ROOT, "Put")
    api.control("POST", "/orders/partial_next", {"fraction": 0.5})
    body = order_body(uic, SIO, "Buy", 2, OrderDuration={"DurationType": "FillOrKill"})

    order_id = api.post("/trade/v2/orders", body).json()["OrderId"]

    assert [r["Status"] for r in activities(api, OrderId=order_id)] == ["Placed", "FinalFill"]


def test_closing_order_removes_the_position_and_adds_a_closed_row(api: Api) -> None:
    uic = option_uic(api, SPXW_ROOT, "Call")
    q = quote(api, uic, SIO)
    api.post("/trade/v2/orders", order_body(uic, SIO, "Sell", 1, ToOpenClose="ToOpen"))

    closing = api.post("/trade/v2/orders", order_body(uic, SIO, "Buy", 1, ToOpenClose="ToClose"))

    assert closing.status_code == 200
    assert positions(api) == []
    [row] = api.get("/port/v1/closedpositions/me").json()["Data"]
    closed = row["ClosedPosition"]
    assert (closed["BuyOrSell"], closed["OpenPrice"], closed["ClosingPrice"]) == (
        "Sell",
        q["Bid"],
        q["Ask"],
    )
    assert closed["ClosedProfitLoss"] == pytest.approx((q["Bid"] - q["Ask"]) * 100)


def test_commission_per_contract_is_charged_to_cash(simulator: SimServer) -> None:
    api = Api(simulator)
    freeze_at(api)
    start_cash = api.get("/port/v1/balances/me").json()["CashBalance"]
    uic = option_uic(api, SPXW_ROOT, "Call")
    ask = quote(api, uic, SIO)["Ask"]

    api.post("/trade/v2/orders", order_body(uic, SIO, "Buy", 3))

    cash = api.get("/port/v1/balances/me").json()["CashBalance"]
    # SimConfig default: 0.65 USD per contract; premium x 100 per contract
    assert cash == pytest.approx(start_cash - 3 * 100 * ask - 3 * 0.65)
    assert positions(api)[0]["PositionView"]["TradeCostsTotal"] == pytest.approx(-1.95)


def test_activity_filters_status_entry_type_top_and_time(api: Api) -> None:
    uic = option_uic(api, SPXW_ROOT, "Call")
    first = api.post("/trade/v2/orders", order_body(uic, SIO, "Buy", 1)).json()["OrderId"]
    api.control("POST", "/clock", {"advance_seconds": 60})
    second = api.post("/trade/v2/orders", order_body(uic, SIO, "Buy", 1)).json()["OrderId"]

    assert len(activities(api)) == 4
    assert [r["OrderId"] for r in activities(api, Status="FinalFill")] == [first, second]
    assert [r["Status"] for r in activities(api, EntryType="Last")] == ["FinalFill", "FinalFill"]
    assert len(activities(api, **{"$top": 1})) == 1
    assert {r["OrderId"] for r in activities(api, FromDateTime="2026-03-02T15:00:30Z")} == {second}


@pytest.mark.sim_config(activity_lag_s=0.3)
def test_fill_price_appears_in_activities_only_after_the_lag(simulator: SimServer) -> None:
    import time

    api = Api(simulator)
    freeze_at(api)
    uic = option_uic(api, SPXW_ROOT, "Call")
    order_id = api.post("/trade/v2/orders", order_body(uic, SIO, "Sell", 1)).json()["OrderId"]

    early = activities(api, OrderId=order_id, Status="FinalFill")[0]
    time.sleep(0.35)
    late = activities(api, OrderId=order_id, Status="FinalFill")[0]

    assert "AveragePrice" not in early and early["FilledAmount"] == 1
    assert late["AveragePrice"] > 0
