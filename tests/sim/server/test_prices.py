"""Info prices and charts (saxo_api.md §2.4, §2.12, §5.9)."""

from __future__ import annotations

import pytest

from shared.saxo_sim.server import SimServer
from tests.sim.server.helpers import SPXW_ROOT, Api, freeze_at, option_uic

VIX, US500, SPY = 10606, 4913, 36590


@pytest.fixture
def api(simulator: SimServer) -> Api:
    client = Api(simulator)
    freeze_at(client)
    return client


def test_vix_has_no_bid_ask_only_last_traded_in_price_info_details(api: Api) -> None:
    quote_only = api.get(
        "/trade/v1/infoprices", Uic=VIX, AssetType="StockIndex", FieldGroups="Quote"
    )
    details = api.get(
        "/trade/v1/infoprices",
        Uic=VIX,
        AssetType="StockIndex",
        FieldGroups="Quote,PriceInfoDetails",
    ).json()

    assert "Bid" not in quote_only.json()["Quote"] and "Ask" not in quote_only.json()["Quote"]
    assert "PriceInfoDetails" not in quote_only.json()
    assert details["PriceInfoDetails"]["LastTraded"] > 0


def test_field_groups_gate_the_sub_objects(api: Api) -> None:
    body = api.get("/trade/v1/infoprices", Uic=SPY, AssetType="Etf", FieldGroups="PriceInfo").json()
    assert "PriceInfo" in body
    assert not {"Quote", "PriceInfoDetails", "Greeks", "DisplayAndFormat"} & set(body)


def test_greeks_only_for_options_and_only_when_asked(api: Api) -> None:
    uic = option_uic(api, SPXW_ROOT, "Call")
    asked = api.get(
        "/trade/v1/infoprices", Uic=uic, AssetType="StockIndexOption", FieldGroups="Quote,Greeks"
    )
    not_asked = api.get(
        "/trade/v1/infoprices", Uic=uic, AssetType="StockIndexOption", FieldGroups="Quote"
    )
    underlying = api.get(
        "/trade/v1/infoprices", Uic=SPY, AssetType="Etf", FieldGroups="Quote,Greeks"
    )

    greeks = asked.json()["Greeks"]
    assert 0 < greeks["InstrumentDelta"] < 1
    assert {"MidVol", "TheoreticalPrice"} <= set(greeks)
    assert "Greeks" not in not_asked.json()
    assert "Greeks" not in underlying.json()


def test_quote_is_a_valid_two_sided_market_while_open(api: Api) -> None:
    quote = api.get(
        "/trade/v1/infoprices", Uic=US500, AssetType="CfdOnIndex", FieldGroups="Quote"
    ).json()["Quote"]
    assert quote["Bid"] < quote["Ask"]
    assert quote["Mid"] == pytest.approx((quote["Bid"] + quote["Ask"]) / 2)
    assert quote["MarketState"] == "Open"


def test_info_price_list_returns_data_per_uic(api: Api) -> None:
    body = api.get(
        "/trade/v1/infoprices/list", Uics=f"{SPY},4328771", AssetType="Etf", FieldGroups="Quote"
    ).json()
    assert [row["Uic"] for row in body["Data"]] == [SPY, 4328771]


def test_query_parameter_names_are_case_insensitive(api: Api) -> None:
    response = api.get("/trade/v1/infoprices", uic=SPY, assettype="Etf")
    assert response.status_code == 200


def test_missing_uic_names_the_field(api: Api) -> None:
    response = api.get("/trade/v1/infoprices", AssetType="Etf")
    assert response.status_code == 400
    assert "Uic" in response.json()["ModelState"]


def test_daily_chart_bars_for_an_etf_have_last_traded_ohlc(api: Api) -> None:
    body = api.get("/chart/v3/charts", Uic=SPY, AssetType="Etf", Horizon=1440, Count=5).json()
    bars = body["Data"]
    assert len(bars) == 5
    assert {"Time", "Open", "High", "Low", "Close", "Volume"} <= set(bars[0])
    assert all(b["Low"] <= b["Close"] <= b["High"] for b in bars)
    times = [b["Time"] for b in bars]
    assert times == sorted(times)


def test_minute_chart_for_cfd_index_has_bid_ask_ohlc(api: Api) -> None:
    bars = api.get(
        "/chart/v3/charts", Uic=US500, AssetType="CfdOnIndex", Horizon=1, Count=10
    ).json()["Data"]
    assert len(bars) == 10
    assert {"OpenBid", "OpenAsk", "CloseBid", "CloseAsk"} <= set(bars[-1])
    assert "Close" not in bars[-1]


def test_chart_v1_is_gone(api: Api) -> None:
    assert api.get("/chart/v1/charts", Uic=SPY, AssetType="Etf", Horizon=1440).status_code == 404
