"""Reference data (saxo_api.md §2.3, §5.10): UIC mapping, details, option spaces."""

from __future__ import annotations

import pytest

from shared.saxo_sim.server import SimServer
from tests.sim.server.helpers import SPXW_ROOT, Api, freeze_at

# CALYPSO's working mapping from saxo_api.md §2.4
UNDERLYINGS = [(4913, "CfdOnIndex"), (10606, "StockIndex"), (36590, "Etf"), (4328771, "Etf")]


@pytest.fixture
def api(simulator: SimServer) -> Api:
    client = Api(simulator)
    freeze_at(client)
    return client


@pytest.mark.parametrize(("uic", "asset_type"), UNDERLYINGS)
def test_underlying_details_single_and_list(api: Api, uic: int, asset_type: str) -> None:
    single = api.get(f"/ref/v1/instruments/details/{uic}/{asset_type}")
    listed = api.get("/ref/v1/instruments/details", Uics=uic, AssetTypes=asset_type)

    assert single.status_code == 200
    assert (single.json()["Uic"], single.json()["AssetType"]) == (uic, asset_type)
    assert [row["Uic"] for row in listed.json()["Data"]] == [uic]


def test_details_with_the_wrong_asset_type_is_404(api: Api) -> None:
    assert api.get("/ref/v1/instruments/details/10606/Etf").status_code == 404


def test_search_returns_identifier_not_uic(api: Api) -> None:
    rows = api.get("/ref/v1/instruments", Keywords="VIX", AssetTypes="StockIndex").json()["Data"]
    assert [(r["Identifier"], r["SummaryType"]) for r in rows] == [(10606, "Instrument")]
    assert "Uic" not in rows[0]


def test_spy_details_name_its_stock_option_root(api: Api) -> None:
    details = api.get("/ref/v1/instruments/details/36590/Etf").json()
    [root] = details["RelatedOptionRootsEnhanced"]
    assert root["AssetType"] == "StockOption"
    space = api.get(f"/ref/v1/instruments/contractoptionspaces/{root['OptionRootId']}").json()
    assert (space["AssetType"], space["ContractSize"]) == ("StockOption", 100)


def test_spxw_option_space_shape(api: Api) -> None:
    space = api.get(f"/ref/v1/instruments/contractoptionspaces/{SPXW_ROOT}").json()

    assert space["AssetType"] == "StockIndexOption"
    assert space["OptionRootId"] == SPXW_ROOT
    assert "Data" not in space
    entries = space["OptionSpace"]
    assert entries[0]["Expiry"] == "2026-03-02"  # a 0DTE expiry is listed on the day
    with_options = [e for e in entries if "SpecificOptions" in e]
    assert len(with_options) == 1 < len(entries)  # default segment: only the default expiry
    options = with_options[0]["SpecificOptions"]
    strikes = [o["StrikePrice"] for o in options]
    assert strikes != sorted(strikes)  # unsorted, as Saxo sends them
    assert {o["PutCall"] for o in options[:10]} == {"Call", "Put"}  # interleaved
    assert len({o["Uic"] for o in options}) == len(options)
    assert all(o["UnderlyingUic"] == 4913 for o in options)


def test_specific_dates_populate_the_requested_expiry(api: Api) -> None:
    space = api.get(
        f"/ref/v1/instruments/contractoptionspaces/{SPXW_ROOT}",
        OptionSpaceSegment="SpecificDates",
        ExpiryDates="2026-03-06",
    ).json()
    populated = [e["Expiry"] for e in space["OptionSpace"] if "SpecificOptions" in e]
    assert populated == ["2026-03-06"]


def test_option_uics_from_the_space_price_with_their_asset_type(api: Api) -> None:
    space = api.get(f"/ref/v1/instruments/contractoptionspaces/{SPXW_ROOT}").json()
    uic = space["DefaultOption"]["Uic"]

    good = api.get("/trade/v1/infoprices", Uic=uic, AssetType="StockIndexOption")
    wrong = api.get("/trade/v1/infoprices", Uic=uic, AssetType="StockOption")

    assert good.status_code == 200
    assert wrong.status_code == 400
    assert wrong.json()["ErrorCode"] == "IllegalInstrumentId"


def test_unknown_option_root_is_404(api: Api) -> None:
    assert api.get("/ref/v1/instruments/contractoptionspaces/99999").status_code == 404
