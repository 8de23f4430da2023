"""Control messages (saxo_api.md §3.7, §5 item 13) driven through /sim/v1/streaming/..."""

from __future__ import annotations

import copy
from typing import Any

import requests

from tests.sim.streaming.harness import StreamHarness
from tests.sim.streaming.helpers import PRICES, SPX_QUOTE, price_body, subscribe
from tests.sim.streaming.wire import Msg, StreamClient


def _control(h: StreamHarness, name: str, body: dict[str, Any] | None = None) -> requests.Response:
    return requests.post(f"{h.base_url}/sim/v1/streaming/{name}", json=body or {}, timeout=5)


def _two_subscriptions(h: StreamHarness, *, send_heartbeats: bool = False) -> StreamClient:
    h.call(lambda: h.state.set_price(4913, "CfdOnIndex", SPX_QUOTE))
    h.call(lambda: h.state.set_price(36590, "Etf", SPX_QUOTE))
    subscribe(h.base_url, h.token, PRICES, price_body("c1", "spx", 4913, "CfdOnIndex"))
    subscribe(h.base_url, h.token, PRICES, price_body("c1", "spy", 36590, "Etf"))
    if send_heartbeats:
        return StreamClient.open(h.ws_url, h.token, contextId="c1", sendHeartbeats="true")
    return StreamClient.open(h.ws_url, h.token, contextId="c1")


def _bump_both(h: StreamHarness, bid: float) -> None:
    def change() -> None:
        for uic, asset in ((4913, "CfdOnIndex"), (36590, "Etf")):
            obj = copy.deepcopy(h.state.prices[uic])
            obj["Quote"]["Bid"] = bid
            h.state.set_price(uic, asset, obj)

    h.call(change)


def _is(ref: str) -> Any:
    return lambda m: m.reference_id == ref


def _only(msgs: list[Msg], ref: str) -> Msg:
    found = [m for m in msgs if m.reference_id == ref]
    assert len(found) == 1, [m.reference_id for m in msgs]
    return found[0]


def test_idle_subscriptions_get_periodic_heartbeat_array(harness: StreamHarness) -> None:
    client = _two_subscriptions(harness)
    interval = harness.call(lambda: harness.hub.settings.heartbeat_interval_s)  # type: ignore[union-attr]

    harness.advance(interval + 0.1)
    msg = _only(client.recv_until(_is("_heartbeat")), "_heartbeat")

    assert msg.payload == [
        {
            "ReferenceId": "_heartbeat",
            "Heartbeats": [
                {"OriginatingReferenceId": "spx", "Reason": "NoNewData"},
                {"OriginatingReferenceId": "spy", "Reason": "NoNewData"},
            ],
        }
    ]
    client.close()


def test_heartbeat_interval_stays_below_inactivity_timeout(harness: StreamHarness) -> None:
    resp = _control(harness, "settings", {"heartbeat_interval_s": 45})

    assert resp.status_code == 400
    assert "inactivity_timeout_s" in resp.json()["Message"]


def test_disabled_subscription_heartbeats_with_reason_and_sends_no_data(
    harness: StreamHarness,
) -> None:
    client = _two_subscriptions(harness)
    resp = _control(
        harness,
        "disable",
        {"context_id": "c1", "reference_id": "spy", "reason": "SubscriptionTemporarilyDisabled"},
    )

    _bump_both(harness, 6000.5)
    harness.tick()
    data = client.recv_frame()
    _control(harness, "heartbeat", {"context_id": "c1"})
    beat = _only(client.recv_until(_is("_heartbeat")), "_heartbeat")

    assert resp.status_code == 200
    assert [m.reference_id for m in data] == ["spx"]
    assert {"OriginatingReferenceId": "spy", "Reason": "SubscriptionTemporarilyDisabled"} in (
        beat.payload[0]["Heartbeats"]
    )
    client.close()


def test_permanently_disabled_reason_is_reported(harness: StreamHarness) -> None:
    client = _two_subscriptions(harness)
    _control(
        harness,
        "disable",
        {"context_id": "c1", "reference_id": "spx", "reason": "SubscriptionPermanentlyDisabled"},
    )

    _control(harness, "heartbeat", {"context_id": "c1"})
    beat = _only(client.recv_until(_is("_heartbeat")), "_heartbeat")

    reasons = {h["OriginatingReferenceId"]: h["Reason"] for h in beat.payload[0]["Heartbeats"]}
    assert reasons == {"spx": "SubscriptionPermanentlyDisabled", "spy": "NoNewData"}
    client.close()


def test_reset_all_has_empty_target_list_and_stops_data(harness: StreamHarness) -> None:
    client = _two_subscriptions(harness)

    _control(harness, "reset", {"context_id": "c1"})
    reset = _only(client.recv_until(_is("_resetsubscriptions")), "_resetsubscriptions")
    _bump_both(harness, 6000.5)
    harness.tick()

    assert reset.payload[0]["ReferenceId"] == "_resetsubscriptions"
    assert reset.payload[0]["TargetReferenceIds"] == []
    assert client.quiet_for(0.2) == []
    client.close()


def test_reset_all_can_omit_the_target_list(harness: StreamHarness) -> None:
    client = _two_subscriptions(harness)

    _control(harness, "reset", {"context_id": "c1", "omit_targets": True})
    reset = _only(client.recv_until(_is("_resetsubscriptions")), "_resetsubscriptions")

    assert "TargetReferenceIds" not in reset.payload[0]
    client.close()


def test_targeted_reset_names_only_those_references(harness: StreamHarness) -> None:
    client = _two_subscriptions(harness)

    _control(harness, "reset", {"context_id": "c1", "target_reference_ids": ["spy"]})
    reset = _only(client.recv_until(_is("_resetsubscriptions")), "_resetsubscriptions")
    _bump_both(harness, 6000.5)
    harness.tick()
    after = client.recv_frame()

    assert reset.payload[0]["TargetReferenceIds"] == ["spy"]
    assert [m.reference_id for m in after] == ["spx"]
    client.close()


def test_resubscribe_with_replace_reference_id_after_reset_streams_again(
    harness: StreamHarness,
) -> None:
    client = _two_subscriptions(harness)
    _control(harness, "reset", {"context_id": "c1", "target_reference_ids": ["spy"]})
    client.recv_until(_is("_resetsubscriptions"))

    body = price_body("c1", "spy2", 36590, "Etf", ReplaceReferenceId="spy")
    created = subscribe(harness.base_url, harness.token, PRICES, body)
    _bump_both(harness, 6000.5)
    harness.tick()
    after = client.recv_frame()

    assert created.status_code == 201
    assert sorted(m.reference_id for m in after) == ["spx", "spy2"]
    client.close()


def test_disconnect_sends_control_message_then_closes_and_ends_session(
    harness: StreamHarness,
) -> None:
    client = _two_subscriptions(harness)

    _control(harness, "disconnect", {"context_id": "c1"})
    msgs = client.recv_until(_is("_disconnect"))
    code = client.wait_closed()
    rest = subscribe(
        harness.base_url, harness.token, PRICES, price_body("c1", "x", 4913, "CfdOnIndex")
    )

    assert msgs[-1].payload == [{"ReferenceId": "_disconnect"}]
    assert code == 1000
    assert rest.status_code == 401  # logged out until a new login


def test_reconnect_control_message_is_sent(harness: StreamHarness) -> None:
    client = _two_subscriptions(harness)

    _control(harness, "reconnect", {"context_id": "c1"})
    msgs = client.recv_until(_is("_reconnect"))

    assert msgs[-1].payload == [{"ReferenceId": "_reconnect"}]
    assert client.wait_closed() == 1000


def test_message_id_restart_begins_again_at_1_with_reset(harness: StreamHarness) -> None:
    client = _two_subscriptions(harness)
    _bump_both(harness, 6000.5)
    harness.tick()
    before = client.recv_frame()

    _control(harness, "restart-message-ids", {"context_id": "c1"})
    (restart,) = client.recv_frame()

    assert [m.message_id for m in before] == [1, 2]
    assert (restart.message_id, restart.reference_id) == (1, "_resetsubscriptions")
    assert restart.payload[0]["TargetReferenceIds"] == []
    client.close()


def test_connection_heartbeat_only_with_send_heartbeats_true(harness: StreamHarness) -> None:
    with_beats = _two_subscriptions(harness, send_heartbeats=True)
    plain = StreamClient.open(harness.ws_url, harness.token, contextId="c2")

    harness.advance(2.1)
    beat = with_beats.recv_until(_is("_connectionheartbeat"))

    assert beat[-1].payload == [{"ReferenceId": "_connectionheartbeat"}]
    assert plain.quiet_for(0.2) == []
    with_beats.close()
    plain.close()


def test_control_rejects_unknown_setting_by_name(harness: StreamHarness) -> None:
    resp = _control(harness, "settings", {"heartbeat_secs": 1})

    assert resp.status_code == 400
    assert "heartbeat_secs" in resp.json()["Message"]


def test_overview_lists_contexts_and_subscriptions(harness: StreamHarness) -> None:
    client = _two_subscriptions(harness)

    view = requests.get(harness.base_url + "/sim/v1/streaming", timeout=5).json()

    (ctx,) = view["contexts"]
    assert ctx["connected"] is True
    assert [s["reference_id"] for s in ctx["subscriptions"]] == ["spx", "spy"]
    assert view["stats"]["connections"] == 1
    client.close()
