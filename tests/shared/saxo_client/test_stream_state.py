"""Snapshot + delta merging and control-message payload helpers."""

from __future__ import annotations

from decimal import Decimal

from shared.saxo_client.streaming.state import (
    PriceSubscription,
    deep_merge,
    heartbeat_entries,
    reset_targets,
)

SNAPSHOT = {
    "Uic": 4913,
    "AssetType": "CfdOnIndex",
    "LastUpdated": "2026-03-02T15:00:00.000000Z",
    "Quote": {"Bid": 6000.0, "Ask": 6000.5, "Mid": 6000.25, "PriceTypeBid": "Tradable"},
}


def test_partial_nested_delta_keeps_untouched_fields() -> None:
    state = deep_merge({}, SNAPSHOT)

    deep_merge(state, {"Quote": {"Ask": 6001.0, "Mid": 6000.5}})

    assert state["Quote"] == {
        "Bid": 6000.0,
        "Ask": 6001.0,
        "Mid": 6000.5,
        "PriceTypeBid": "Tradable",
    }


def test_null_in_delta_clears_the_field() -> None:
    state = deep_merge({}, SNAPSHOT)

    deep_merge(state, {"Quote": {"Bid": None}})

    assert "Bid" not in state["Quote"]


def test_merge_does_not_alias_the_delta() -> None:
    delta = {"Quote": {"Ask": 1.0}}
    state = deep_merge({}, delta)

    delta["Quote"]["Ask"] = 2.0

    assert state["Quote"]["Ask"] == 1.0


def test_delta_before_snapshot_is_queued_then_applied() -> None:
    sub = PriceSubscription("p4913_1", 4913, "CfdOnIndex", ("Quote",))

    early = sub.apply_delta({"Quote": {"Bid": 6002.0}}, now=1.0)
    quote = sub.apply_snapshot(SNAPSHOT, now=2.0)

    assert early is None
    assert quote.bid == Decimal("6002.0") and quote.ask == Decimal("6000.5")


def test_price_delta_without_uic_is_attributed_to_the_subscription() -> None:
    sub = PriceSubscription("p4913_1", 4913, "CfdOnIndex", ("Quote",))
    sub.apply_snapshot({"Quote": {"Bid": 1.0, "Ask": 2.0}}, now=0.0)

    quote = sub.apply_delta({"Quote": {"Ask": 1.5}}, now=1.0)

    assert quote is not None and quote.uic == 4913 and quote.ask == Decimal("1.5")


def test_orphaned_after_inactivity_timeout_without_data_or_heartbeat() -> None:
    sub = PriceSubscription("r", 1, "Etf", ("Quote",), inactivity_timeout_s=30, last_activity=0)

    assert not sub.orphaned(now=29.0)
    assert sub.orphaned(now=31.0)


def test_heartbeat_payload_forms_are_all_accepted() -> None:
    array_form = [
        {
            "ReferenceId": "_heartbeat",
            "Heartbeats": [
                {"OriginatingReferenceId": "a", "Reason": "NoNewData"},
                {"OriginatingReferenceId": "b", "Reason": "SubscriptionPermanentlyDisabled"},
            ],
        }
    ]
    object_form = {"Heartbeats": [{"OriginatingReferenceId": "c", "Reason": "NoNewData"}]}

    assert heartbeat_entries(array_form) == [
        ("a", "NoNewData"),
        ("b", "SubscriptionPermanentlyDisabled"),
    ]
    assert heartbeat_entries(object_form) == [("c", "NoNewData")]
    assert heartbeat_entries({"Data": array_form})[0] == ("a", "NoNewData")


def test_reset_without_targets_means_all() -> None:
    assert reset_targets([{"ReferenceId": "_resetsubscriptions"}]) is None
    assert reset_targets({"TargetReferenceIds": []}) is None
    assert reset_targets([{"TargetReferenceIds": ["x", "y"]}]) == ["x", "y"]
