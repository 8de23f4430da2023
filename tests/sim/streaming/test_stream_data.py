"""Snapshot then deep-partial deltas, message ids and multi-message frames (§3.3-§3.5, §5.11-12)."""

from __future__ import annotations

import copy

import pytest

from tests.sim.streaming.harness import StreamHarness
from tests.sim.streaming.helpers import (
    INFOPRICES,
    PRICES,
    SPX_QUOTE,
    VIX_QUOTE,
    price_body,
    subscribe,
)
from tests.sim.streaming.wire import StreamClient, merge


def _move(h: StreamHarness, uic: int, asset_type: str, **quote: float) -> None:
    def change() -> None:
        obj = copy.deepcopy(h.state.prices[uic])
        obj["Quote"].update(quote)
        obj["LastUpdated"] = "2026-03-02T15:00:01.000000Z"
        h.state.set_price(uic, asset_type, obj)

    h.call(change)


def _connect_with_spx(h: StreamHarness) -> tuple[StreamClient, dict]:
    h.call(lambda: h.state.set_price(4913, "CfdOnIndex", SPX_QUOTE))
    resp = subscribe(h.base_url, h.token, PRICES, price_body("c1", "spx", 4913, "CfdOnIndex"))
    client = StreamClient.open(h.ws_url, h.token, contextId="c1")
    return client, resp.json()["Snapshot"]


def test_price_delta_carries_only_changed_fields_and_no_uic(harness: StreamHarness) -> None:
    client, _ = _connect_with_spx(harness)

    _move(harness, 4913, "CfdOnIndex", Ask=6001.0, Mid=6000.625)
    harness.tick()
    (msg,) = client.recv_frame()

    assert msg.reference_id == "spx"
    assert msg.payload_format == 0
    assert msg.payload == {
        "LastUpdated": "2026-03-02T15:00:01.000000Z",
        "Quote": {"Ask": 6001.0, "Mid": 6000.625},
    }
    client.close()


def test_snapshot_merged_with_deltas_equals_current_price(harness: StreamHarness) -> None:
    client, snapshot = _connect_with_spx(harness)
    cache = copy.deepcopy(snapshot)

    for bid in (6000.5, 6000.75, 6001.0):
        _move(harness, 4913, "CfdOnIndex", Bid=bid)
        harness.tick()
        for msg in client.recv_frame():
            merge(cache, msg.payload)

    current = harness.call(lambda: harness.state.trade_price(4913, "CfdOnIndex", ["Quote"]))
    assert cache == current
    client.close()


def test_no_message_when_nothing_changed(harness: StreamHarness) -> None:
    client, _ = _connect_with_spx(harness)

    harness.tick()
    harness.tick()

    assert client.quiet_for(0.2) == []
    client.close()


def test_message_ids_start_at_1_and_increase_per_message(harness: StreamHarness) -> None:
    client, _ = _connect_with_spx(harness)
    ids = []

    for bid in (6000.5, 6000.75, 6001.0):
        _move(harness, 4913, "CfdOnIndex", Bid=bid)
        harness.tick()
        ids += [m.message_id for m in client.recv_frame()]

    assert ids == [1, 2, 3]
    client.close()


def test_updates_of_one_tick_arrive_as_one_multi_message_frame(harness: StreamHarness) -> None:
    client, _ = _connect_with_spx(harness)
    harness.call(lambda: harness.state.set_price(36590, "Etf", SPX_QUOTE))
    subscribe(harness.base_url, harness.token, PRICES, price_body("c1", "spy", 36590, "Etf"))

    _move(harness, 4913, "CfdOnIndex", Bid=6000.5)
    _move(harness, 36590, "Etf", Bid=6000.5)
    harness.tick()
    frame = client.recv_frame()

    assert [m.reference_id for m in frame] == ["spx", "spy"]
    assert [m.message_id for m in frame] == [1, 2]
    client.close()


def test_infoprice_delta_is_array_of_partials_each_with_uic(harness: StreamHarness) -> None:
    harness.call(lambda: harness.state.set_price(10606, "StockIndex", VIX_QUOTE))
    harness.call(lambda: harness.state.set_price(10607, "StockIndex", VIX_QUOTE))
    body = {
        "ContextId": "c1",
        "ReferenceId": "vix",
        "Arguments": {
            "Uics": "10606,10607",
            "AssetType": "StockIndex",
            "FieldGroups": ["PriceInfoDetails"],
        },
    }
    subscribe(harness.base_url, harness.token, INFOPRICES, body)
    client = StreamClient.open(harness.ws_url, harness.token, contextId="c1")

    def bump() -> None:
        obj = copy.deepcopy(harness.state.prices[10606])
        obj["PriceInfoDetails"]["LastTraded"] = 17.0
        harness.state.set_price(10606, "StockIndex", obj)

    harness.call(bump)
    harness.advance(1.0)  # infoprice RefreshRate is 1000 ms
    harness.tick()
    (msg,) = client.recv_frame()

    assert msg.payload == [{"PriceInfoDetails": {"LastTraded": 17.0}, "Uic": 10606}]
    client.close()


def test_refresh_rate_throttles_deltas(harness: StreamHarness) -> None:
    harness.call(lambda: harness.state.set_price(4913, "CfdOnIndex", SPX_QUOTE))
    body = price_body("c1", "slow", 4913, "CfdOnIndex", RefreshRate=1000)
    subscribe(harness.base_url, harness.token, PRICES, body)
    client = StreamClient.open(harness.ws_url, harness.token, contextId="c1")

    _move(harness, 4913, "CfdOnIndex", Bid=6000.5)
    harness.tick()  # 0 s after the snapshot: not due yet
    early = client.quiet_for(0.15)
    harness.advance(1.0)
    _move(harness, 4913, "CfdOnIndex", Bid=6000.75)
    harness.tick()
    (late,) = client.recv_frame()

    assert early == []
    assert late.payload["Quote"] == {"Bid": 6000.75}  # coalesced: only the latest value
    client.close()


def test_messages_queued_before_connect_are_delivered_on_connect(harness: StreamHarness) -> None:
    harness.call(lambda: harness.state.set_price(4913, "CfdOnIndex", SPX_QUOTE))
    subscribe(harness.base_url, harness.token, PRICES, price_body("c1", "spx", 4913, "CfdOnIndex"))
    _move(harness, 4913, "CfdOnIndex", Bid=6000.5)
    harness.tick()

    client = StreamClient.open(harness.ws_url, harness.token, contextId="c1")
    (msg,) = client.recv_frame()

    assert (msg.message_id, msg.payload["Quote"]) == (1, {"Bid": 6000.5})
    client.close()


def test_deleted_subscription_stops_streaming(harness: StreamHarness) -> None:
    import requests

    from tests.sim.streaming.helpers import auth

    client, _ = _connect_with_spx(harness)
    requests.delete(harness.base_url + PRICES + "/c1/spx", headers=auth(harness.token), timeout=5)

    _move(harness, 4913, "CfdOnIndex", Bid=6000.5)
    harness.tick()

    assert client.quiet_for(0.2) == []
    client.close()


def test_benchmark_mode_changes_every_subscription_on_every_tick(harness: StreamHarness) -> None:
    import requests

    client, snapshot = _connect_with_spx(harness)
    requests.post(
        harness.base_url + "/sim/v1/streaming/benchmark", json={"synthetic_prices": True}, timeout=5
    )
    cache = copy.deepcopy(snapshot)

    bids = []
    for _ in range(3):
        harness.tick()
        (msg,) = client.recv_frame()
        merge(cache, msg.payload)
        bids.append(cache["Quote"]["Bid"])

    assert len(set(bids)) == 2 and bids[0] != bids[1] and bids[0] == bids[2]  # alternates
    spread = SPX_QUOTE["Quote"]["Ask"] - SPX_QUOTE["Quote"]["Bid"]  # type: ignore[index]
    assert cache["Quote"]["Ask"] - cache["Quote"]["Bid"] == pytest.approx(spread)
    client.close()
