"""Reconnect with `messageid` (saxo_api.md §3.8, §5 item 15): replay from a bounded buffer,
or accept and reset at once when the id is too old."""

from __future__ import annotations

import contextlib
import copy

import requests
from websockets.exceptions import ConnectionClosed

from tests.sim.streaming.harness import StreamHarness
from tests.sim.streaming.helpers import PRICES, SPX_QUOTE, price_body, subscribe
from tests.sim.streaming.wire import StreamClient


def _bid(h: StreamHarness, bid: float) -> None:
    def change() -> None:
        obj = copy.deepcopy(h.state.prices[4913])
        obj["Quote"]["Bid"] = bid
        h.state.set_price(4913, "CfdOnIndex", obj)
        h.state.tick()

    h.call(change)


def _drop(h: StreamHarness, client: StreamClient) -> None:
    requests.post(h.base_url + "/sim/v1/streaming/drop", json={"context_id": "c1"}, timeout=5)
    with contextlib.suppress(ConnectionClosed):
        client.wait_closed(timeout=2)


def _start(h: StreamHarness) -> StreamClient:
    h.call(lambda: h.state.set_price(4913, "CfdOnIndex", SPX_QUOTE))
    subscribe(h.base_url, h.token, PRICES, price_body("c1", "spx", 4913, "CfdOnIndex"))
    return StreamClient.open(h.ws_url, h.token, contextId="c1")


def test_dropped_socket_gets_no_close_frame_and_keeps_subscriptions(harness: StreamHarness) -> None:
    client = _start(harness)

    requests.post(harness.base_url + "/sim/v1/streaming/drop", json={}, timeout=5)
    code = client.wait_closed()

    assert code is None  # abrupt: no close frame received
    assert harness.call(lambda: list(harness.hub.contexts["c1"].subscriptions)) == ["spx"]  # type: ignore[union-attr]


def test_reconnect_with_message_id_replays_missed_messages_in_order(harness: StreamHarness) -> None:
    client = _start(harness)
    _bid(harness, 6000.5)
    (seen,) = client.recv_frame()
    _drop(harness, client)
    _bid(harness, 6000.75)  # id 2, sent while disconnected
    _bid(harness, 6001.0)  # id 3

    again = StreamClient.open(
        harness.ws_url, harness.token, contextId="c1", messageid=str(seen.message_id)
    )
    replayed = again.recv_frame()

    assert [(m.message_id, m.payload["Quote"]["Bid"]) for m in replayed] == [
        (2, 6000.75),
        (3, 6001.0),
    ]
    again.close()


def test_reconnect_with_latest_id_replays_nothing(harness: StreamHarness) -> None:
    client = _start(harness)
    _bid(harness, 6000.5)
    (seen,) = client.recv_frame()
    _drop(harness, client)

    again = StreamClient.open(
        harness.ws_url, harness.token, contextId="c1", messageid=str(seen.message_id)
    )

    assert again.quiet_for(0.2) == []
    again.close()


def test_reconnect_with_too_old_message_id_is_accepted_then_reset(harness: StreamHarness) -> None:
    requests.post(
        harness.base_url + "/sim/v1/streaming/settings", json={"replay_buffer_size": 2}, timeout=5
    )
    client = _start(harness)
    _bid(harness, 6000.5)
    (seen,) = client.recv_frame()
    _drop(harness, client)
    for bid in (6000.75, 6001.0, 6001.25):  # ids 2..4; the buffer keeps only 3 and 4
        _bid(harness, bid)

    again = StreamClient.open(
        harness.ws_url, harness.token, contextId="c1", messageid=str(seen.message_id)
    )
    (first,) = again.recv_frame()

    assert first.reference_id == "_resetsubscriptions"
    assert first.payload[0]["TargetReferenceIds"] == []
    again.close()
