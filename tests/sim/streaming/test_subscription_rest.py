"""Subscription create/delete over REST (saxo_api.md §3.6, §5 items 12 and 16, V3)."""

from __future__ import annotations

import time
from typing import Any

import requests

from tests.sim.streaming.harness import StreamHarness
from tests.sim.streaming.helpers import (
    INFOPRICES,
    PRICES,
    SPX_QUOTE,
    VIX_QUOTE,
    auth,
    price_body,
    subscribe,
)


def _setup_prices(h: StreamHarness) -> None:
    h.call(lambda: h.state.set_price(4913, "CfdOnIndex", SPX_QUOTE))
    h.call(lambda: h.state.set_price(10606, "StockIndex", VIX_QUOTE))


def test_price_subscription_answers_201_with_snapshot_envelope_and_location(
    harness: StreamHarness,
) -> None:
    _setup_prices(harness)

    resp = subscribe(
        harness.base_url, harness.token, PRICES, price_body("ctx1", "r1", 4913, "CfdOnIndex")
    )

    assert resp.status_code == 201
    body = resp.json()
    assert body["ContextId"] == "ctx1" and body["ReferenceId"] == "r1"
    assert body["State"] == "Active"
    assert isinstance(body["InactivityTimeout"], int) and body["InactivityTimeout"] > 0
    assert body["RefreshRate"] == 0
    assert body["Snapshot"]["Uic"] == 4913
    assert body["Snapshot"]["Quote"]["Bid"] == 6000.25
    assert "PriceInfoDetails" not in body["Snapshot"]  # not requested
    assert resp.headers["Location"].endswith(PRICES + "/ctx1/r1")


def test_infoprice_subscription_snapshot_is_data_list_per_uic(harness: StreamHarness) -> None:
    _setup_prices(harness)
    body = {
        "ContextId": "ctx1",
        "ReferenceId": "list1",
        "Arguments": {
            "Uics": "4913,10606",
            "AssetType": "StockIndex",
            "FieldGroups": ["PriceInfoDetails"],
        },
    }
    harness.call(lambda: harness.state.set_price(4913, "StockIndex", SPX_QUOTE))

    resp = subscribe(harness.base_url, harness.token, INFOPRICES, body)

    assert resp.status_code == 201
    data = resp.json()["Snapshot"]["Data"]
    assert [row["Uic"] for row in data] == [4913, 10606]
    assert data[1]["PriceInfoDetails"]["LastTraded"] == 16.42


def test_infoprice_refresh_rate_defaults_to_1000_and_is_clamped(harness: StreamHarness) -> None:
    _setup_prices(harness)
    body = {
        "ContextId": "c",
        "ReferenceId": "r",
        "RefreshRate": 5,
        "Arguments": {"Uics": "10606", "AssetType": "StockIndex"},
    }

    resp = subscribe(harness.base_url, harness.token, INFOPRICES, body)

    assert resp.json()["RefreshRate"] == 1000


def test_duplicate_reference_id_is_409_with_saxo_message(harness: StreamHarness) -> None:
    _setup_prices(harness)
    body = price_body("ctx1", "r1", 4913, "CfdOnIndex")
    subscribe(harness.base_url, harness.token, PRICES, body)

    resp = subscribe(harness.base_url, harness.token, PRICES, body)

    assert resp.status_code == 409
    assert (
        resp.json()["Message"]
        == "Subscription Key (Streaming Session, Reference Id) already in use"
    )


def test_replace_reference_id_swaps_the_old_subscription(harness: StreamHarness) -> None:
    _setup_prices(harness)
    subscribe(harness.base_url, harness.token, PRICES, price_body("c", "old", 4913, "CfdOnIndex"))

    resp = subscribe(
        harness.base_url,
        harness.token,
        PRICES,
        price_body("c", "new", 4913, "CfdOnIndex", ReplaceReferenceId="old"),
    )

    assert resp.status_code == 201
    refs = harness.call(lambda: list(harness.hub.contexts["c"].subscriptions))  # type: ignore[union-attr]
    assert refs == ["new"]


def test_reference_id_starting_with_underscore_is_rejected(harness: StreamHarness) -> None:
    _setup_prices(harness)

    resp = subscribe(
        harness.base_url, harness.token, PRICES, price_body("c", "_mine", 4913, "CfdOnIndex")
    )

    assert resp.status_code == 400
    assert resp.json()["ErrorCode"] == "InvalidModelState"
    assert "ReferenceId" in resp.json()["ModelState"]


def test_missing_arguments_names_each_field(harness: StreamHarness) -> None:
    resp = subscribe(harness.base_url, harness.token, PRICES, {"ReferenceId": "r", "Arguments": {}})

    problems = resp.json()["ModelState"]
    assert resp.status_code == 400
    assert {"ContextId", "Arguments.AssetType", "Arguments.Uic"} <= set(problems)


def test_protobuf_format_is_unsupported(harness: StreamHarness) -> None:
    _setup_prices(harness)
    body = price_body("c", "r", 4913, "CfdOnIndex", Format="application/x-protobuf")

    resp = subscribe(harness.base_url, harness.token, PRICES, body)

    assert resp.status_code == 400
    assert resp.json()["ErrorCode"] == "UnsupportedSubscriptionFormat"


def test_unknown_uic_is_rejected_by_the_state(harness: StreamHarness) -> None:
    resp = subscribe(harness.base_url, harness.token, PRICES, price_body("c", "r", 999, "Etf"))

    assert resp.status_code == 400
    assert resp.json()["ErrorCode"] == "IllegalInstrumentId"


def test_subscribe_without_valid_token_is_401_with_empty_body(harness: StreamHarness) -> None:
    resp = subscribe(harness.base_url, "nope", PRICES, price_body("c", "r", 4913, "CfdOnIndex"))

    assert resp.status_code == 401
    assert resp.content == b""


def test_deletes_answer_202_even_for_unknown_ids(harness: StreamHarness) -> None:
    base, headers = harness.base_url, auth(harness.token)
    urls = [
        PRICES + "/nope/nothing",
        PRICES + "/nope",
        INFOPRICES + "/nope/?Tag=x",
        "/openapi/root/v1/subscriptions/nope",
        "/openapi/root/v1/subscriptions/nope?Tag=x",
    ]

    statuses = [requests.delete(base + u, headers=headers, timeout=5).status_code for u in urls]

    assert statuses == [202] * len(urls)


def test_delete_by_tag_removes_only_tagged_subscriptions(harness: StreamHarness) -> None:
    _setup_prices(harness)
    for ref, tag in (("a", "legs"), ("b", "legs"), ("c", "spot")):
        body = price_body("ctx", ref, 4913, "CfdOnIndex", Tag=tag)
        assert subscribe(harness.base_url, harness.token, PRICES, body).status_code == 201

    resp = requests.delete(
        harness.base_url + PRICES + "/ctx?Tag=legs", headers=auth(harness.token), timeout=5
    )

    assert resp.status_code == 202
    refs = harness.call(lambda: list(harness.hub.contexts["ctx"].subscriptions))  # type: ignore[union-attr]
    assert refs == ["c"]


def test_root_delete_removes_every_service_of_the_context(harness: StreamHarness) -> None:
    _setup_prices(harness)
    subscribe(harness.base_url, harness.token, PRICES, price_body("ctx", "p", 4913, "CfdOnIndex"))
    info = {
        "ContextId": "ctx",
        "ReferenceId": "i",
        "Arguments": {"Uics": "10606", "AssetType": "StockIndex"},
    }
    subscribe(harness.base_url, harness.token, INFOPRICES, info)

    resp = requests.delete(
        harness.base_url + "/openapi/root/v1/subscriptions/ctx",
        headers=auth(harness.token),
        timeout=5,
    )

    assert resp.status_code == 202
    assert harness.call(lambda: len(harness.hub.contexts["ctx"].subscriptions)) == 0  # type: ignore[union-attr]


def test_subscription_limit_is_409_subscription_limit_exceeded(harness: StreamHarness) -> None:
    _setup_prices(harness)
    requests.post(
        harness.base_url + "/sim/v1/streaming/settings",
        json={"max_subscriptions_per_context": 1},
        timeout=5,
    )
    subscribe(harness.base_url, harness.token, PRICES, price_body("c", "one", 4913, "CfdOnIndex"))

    resp = subscribe(
        harness.base_url, harness.token, PRICES, price_body("c", "two", 4913, "CfdOnIndex")
    )

    assert resp.status_code == 409
    assert resp.json()["ErrorCode"] == "SubscriptionLimitExceeded"


def test_context_without_socket_is_forgotten_after_retention(harness: StreamHarness) -> None:
    _setup_prices(harness)
    subscribe(harness.base_url, harness.token, PRICES, price_body("c", "r", 4913, "CfdOnIndex"))
    retention = harness.call(lambda: harness.hub.settings.context_retention_s)  # type: ignore[union-attr]

    harness.advance(retention + 1)
    _wait_until(lambda: harness.call(lambda: "c" not in harness.hub.contexts))  # type: ignore[union-attr]

    again = subscribe(
        harness.base_url, harness.token, PRICES, price_body("c", "r", 4913, "CfdOnIndex")
    )
    assert again.status_code == 201


def _wait_until(predicate: Any, timeout: float = 2.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "condition not reached"
        time.sleep(0.01)
