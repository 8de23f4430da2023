"""WebSocket connect rules (saxo_api.md §3.2, §3.9, §5 items 12 and 14)."""

from __future__ import annotations

import pytest
import requests
from websockets.exceptions import InvalidStatus

from tests.sim.streaming.harness import StreamHarness
from tests.sim.streaming.helpers import PRICES, SPX_QUOTE, auth, price_body, subscribe
from tests.sim.streaming.wire import StreamClient

NEW_URL_PATH = "/oapi/streaming/ws/connect"


def _status(exc: pytest.ExceptionInfo[InvalidStatus]) -> int:
    return exc.value.response.status_code


def test_unknown_token_is_rejected_at_handshake_with_401(harness: StreamHarness) -> None:
    with pytest.raises(InvalidStatus) as exc:
        StreamClient.open(harness.ws_url, "bad-token", contextId="c1")

    assert _status(exc) == 401


def test_expired_token_is_rejected_at_handshake_with_401(harness: StreamHarness) -> None:
    short = harness.call(lambda: harness.state.auth.issue("short", lifetime_s=1.0))
    harness.advance(1.5)

    with pytest.raises(InvalidStatus) as exc:
        StreamClient.open(harness.ws_url, short, contextId="c1")

    assert _status(exc) == 401


def test_missing_context_id_is_400(harness: StreamHarness) -> None:
    with pytest.raises(InvalidStatus) as exc:
        StreamClient.open(harness.ws_url, harness.token)

    assert _status(exc) == 400


def test_token_in_authorization_query_parameter_is_accepted_on_new_path(
    harness: StreamHarness,
) -> None:
    url = f"ws://127.0.0.1:{harness.port}{NEW_URL_PATH}"

    client = StreamClient.open(url, harness.token, query_auth=True, contextId="c1")

    assert harness.call(lambda: harness.hub.contexts["c1"].connection is not None)  # type: ignore[union-attr]
    client.close()


def test_reusing_a_live_context_id_is_409(harness: StreamHarness) -> None:
    first = StreamClient.open(harness.ws_url, harness.token, contextId="c1")

    with pytest.raises(InvalidStatus) as exc:
        StreamClient.open(harness.ws_url, harness.token, contextId="c1")

    assert _status(exc) == 409
    first.close()


def test_token_expiry_without_reauthorize_closes_with_1002(harness: StreamHarness) -> None:
    short = harness.call(lambda: harness.state.auth.issue("short", lifetime_s=2.0))
    client = StreamClient.open(harness.ws_url, short, contextId="c1")

    harness.advance(2.5)

    assert client.wait_closed() == 1002


def test_put_authorize_with_fresh_token_keeps_socket_open_past_old_expiry(
    harness: StreamHarness,
) -> None:
    short = harness.call(lambda: harness.state.auth.issue("short", lifetime_s=2.0))
    fresh = harness.call(lambda: harness.state.auth.issue("fresh", lifetime_s=600.0))
    client = StreamClient.open(harness.ws_url, short, contextId="c1")

    resp = requests.put(
        harness.base_url + "/openapi/streamingws/authorize?contextid=c1",
        headers=auth(fresh),
        timeout=5,
    )
    harness.advance(3.0)

    assert resp.status_code == 202
    assert client.quiet_for(0.3) == []  # still open: no close frame, no error
    assert harness.call(lambda: harness.hub.contexts["c1"].connection is not None)  # type: ignore[union-attr]
    client.close()


def test_put_authorize_for_unknown_context_is_still_202(harness: StreamHarness) -> None:
    resp = requests.put(
        harness.base_url + "/oapi/streaming/ws/authorize?contextid=ghost",
        headers=auth(harness.token),
        timeout=5,
    )

    assert resp.status_code == 202


def test_clean_client_close_removes_the_context_subscriptions(harness: StreamHarness) -> None:
    harness.call(lambda: harness.state.set_price(4913, "CfdOnIndex", SPX_QUOTE))
    subscribe(harness.base_url, harness.token, PRICES, price_body("c1", "r1", 4913, "CfdOnIndex"))
    client = StreamClient.open(harness.ws_url, harness.token, contextId="c1")

    client.close()  # close frame 1000

    again = subscribe(
        harness.base_url, harness.token, PRICES, price_body("c1", "r1", 4913, "CfdOnIndex")
    )
    assert again.status_code == 201  # the old r1 is gone, so no 409


def test_server_shutdown_closes_sockets_with_going_away() -> None:
    h = StreamHarness()
    client = StreamClient.open(h.ws_url, h.token, contextId="c1")

    h.stop()

    assert client.wait_closed() == 1001
