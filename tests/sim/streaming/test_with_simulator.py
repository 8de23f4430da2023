"""Streaming wired into the full simulator (real SimState, auth middleware, market steps)."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import requests
from websockets.exceptions import InvalidStatus

from shared.saxo_sim.server import SimServer
from tests.sim.streaming.helpers import INFOPRICES, PRICES, auth, price_body, subscribe
from tests.sim.streaming.wire import StreamClient, merge

OPEN_MARKET = datetime(2026, 3, 2, 10, 0, tzinfo=ZoneInfo("America/New_York"))


def _control(sim: SimServer, path: str, body: dict[str, Any]) -> dict[str, Any]:
    resp = requests.post(f"{sim.base_url}/sim/v1/{path}", json=body, timeout=5)
    assert resp.status_code == 200, resp.text
    result: dict[str, Any] = resp.json()
    return result


@pytest.mark.sim_config(start=OPEN_MARKET)
def test_price_stream_follows_a_scripted_move(simulator: SimServer) -> None:
    token = simulator.issue_token()
    _control(simulator, "market/pin", {"symbol": "US500.I", "level": 6000})
    resp = subscribe(
        simulator.base_url, token, PRICES, price_body("ctx", "spx", 4913, "CfdOnIndex")
    )
    cache = resp.json()["Snapshot"]
    client = StreamClient.open(simulator.ws_url, token, contextId="ctx")

    _control(simulator, "market/pin", {"symbol": "US500.I", "level": 6050})
    msgs = client.recv_until(lambda m: m.reference_id == "spx", timeout=5)
    for msg in msgs:
        if msg.reference_id == "spx":
            assert "Uic" not in msg.payload
            merge(cache, msg.payload)

    assert resp.status_code == 201
    assert cache["Quote"]["Mid"] == pytest.approx(6050, abs=5)
    client.close()


@pytest.mark.sim_config(start=OPEN_MARKET)
def test_vix_infoprice_snapshot_has_last_traded_and_no_bid(simulator: SimServer) -> None:
    token = simulator.issue_token()
    body = {
        "ContextId": "ctx",
        "ReferenceId": "vix",
        "Arguments": {
            "Uics": "10606",
            "AssetType": "StockIndex",
            "FieldGroups": ["Quote", "PriceInfoDetails"],
        },
    }

    resp = subscribe(simulator.base_url, token, INFOPRICES, body)

    (row,) = resp.json()["Snapshot"]["Data"]
    assert resp.status_code == 201
    assert row["Uic"] == 10606
    assert row["PriceInfoDetails"]["LastTraded"] > 0
    assert "Bid" not in row.get("Quote", {})


def test_handshake_with_expired_token_is_401(simulator: SimServer) -> None:
    token = simulator.issue_token()
    _control(simulator, "auth/expire", {})

    with pytest.raises(InvalidStatus) as exc:
        StreamClient.open(simulator.ws_url, token, contextId="ctx")

    assert exc.value.response.status_code == 401


def test_expiring_tokens_closes_open_socket_with_1002(simulator: SimServer) -> None:
    token = simulator.issue_token()
    client = StreamClient.open(simulator.ws_url, token, contextId="ctx")

    _control(simulator, "auth/expire", {})

    assert client.wait_closed() == 1002


def test_authorize_put_goes_through_the_auth_middleware(simulator: SimServer) -> None:
    url = f"{simulator.base_url}/openapi/streamingws/authorize?contextid=ctx"

    bad = requests.put(url, headers=auth("not-a-token"), timeout=5)
    good = requests.put(url, headers=auth(simulator.issue_token()), timeout=5)

    assert (bad.status_code, bad.content) == (401, b"")
    assert good.status_code == 202


def test_sim_stats_include_streaming_counters(simulator: SimServer) -> None:
    token = simulator.issue_token()
    client = StreamClient.open(simulator.ws_url, token, contextId="ctx")

    stats = requests.get(simulator.base_url + "/sim/v1/stats", timeout=5).json()

    assert stats["streaming"]["connections"] == 1
    assert stats["streaming"]["connections_opened"] == 1
    client.close()
