"""Daily bars (`/chart/v3/charts`) and account activities since a time, against the simulator."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest

from shared.domain import Side
from shared.saxo_client.client import SaxoClient
from shared.saxo_client.errors import SaxoApiError
from shared.saxo_client.orders import OrderRequest
from tests.integration.saxo_client.conftest import sim_stats
from tests.integration.saxo_client.test_orders_and_portfolio import atm_call

SPY, US500 = 36590, 4913


def _model_bars(server: Any, uic: int, count: int) -> list[Any]:
    return list(server.call(lambda s: s.model.bars(uic, 1440, count, s.clock.now())))


def test_daily_bars_of_an_etf_match_the_simulators_market_model(
    client: SaxoClient, open_market_sim: Any
) -> None:
    bars = client.daily_bars(SPY, "Etf", 10)
    model = _model_bars(open_market_sim, SPY, 10)

    assert [b.time for b in bars] == [m.time for m in model]
    assert [b.close for b in bars] == [Decimal(repr(round(m.close, 2))) for m in model]
    assert all(b.low <= min(b.open, b.close) and b.high >= max(b.open, b.close) for b in bars)
    assert all(b.volume is not None for b in bars)


def test_daily_bars_of_a_cfd_index_are_the_bid_ask_mid(
    client: SaxoClient, open_market_sim: Any
) -> None:
    bars = client.daily_bars(US500, "CfdOnIndex", 5)
    model = _model_bars(open_market_sim, US500, 5)

    assert len(bars) == 5
    for bar, truth in zip(bars, model, strict=True):
        assert abs(float(bar.close) - truth.close) <= 0.01
        assert bar.volume is None


def test_chart_bars_from_a_time_start_at_that_time(client: SaxoClient) -> None:
    recent = client.daily_bars(SPY, "Etf", 6)
    start = recent[1].time

    bars = client.chart_bars(SPY, "Etf", count=3, mode="From", time=start)

    assert [b.time for b in bars] == [r.time for r in recent[1:4]]


def test_bad_chart_arguments_are_refused_before_any_request(
    client: SaxoClient, open_market_sim: Any
) -> None:
    def chart_calls() -> int:
        return sum(n for r, n in sim_stats(open_market_sim)["routes"].items() if "chart" in r)

    before = chart_calls()
    with pytest.raises(ValueError, match="horizon 7"):
        client.chart_bars(SPY, "Etf", horizon_minutes=7)
    with pytest.raises(ValueError, match="count"):
        client.daily_bars(SPY, "Etf", 0)
    with pytest.raises(ValueError, match="needs a time"):
        client.chart_bars(SPY, "Etf", mode="From")
    assert chart_calls() == before


def test_charts_of_an_option_are_refused_by_the_server(client: SaxoClient) -> None:
    contract = atm_call(client)
    with pytest.raises(SaxoApiError):
        client.daily_bars(contract.uic, contract.asset_type, 5)


def test_activities_since_a_time_find_an_order_by_its_reference(
    client: SaxoClient, open_market_sim: Any
) -> None:
    contract = atm_call(client)
    before = open_market_sim.state.clock.now() - timedelta(seconds=1)
    request = OrderRequest(contract.uic, contract.asset_type, Side.BUY, Decimal(1),
                           to_open=True, external_reference="cal-activities-test")  # fmt: skip
    placed = client.place_order(request)

    found = client.activities(since=before)
    later = client.activities(since=open_market_sim.state.clock.now() + timedelta(hours=1))
    own = client.activities(order_id=placed.order_id)

    reference = request.external_reference
    assert placed.order_id in {a.order_id for a in found if a.external_reference == reference}
    assert later == []
    assert own and {a.order_id for a in own} == {placed.order_id}


def test_activities_refuse_both_an_order_and_a_time(client: SaxoClient) -> None:
    with pytest.raises(ValueError, match="not both"):
        client.activities(since=client.clock.now(), order_id="1")
