"""Transport behaviour over `responses`: retries, 401 refresh, 429 waits, typed errors."""

from __future__ import annotations

import pytest
import requests
import responses

from shared.saxo_client.errors import (
    SaxoBadRequest,
    SaxoServerError,
    SaxoTransportError,
    SaxoUnauthorized,
)
from shared.saxo_client.transport import rate_limit_wait_s
from tests.shared.saxo_client.fakes import REST, make_transport
from tests.shared.saxo_client.recorded import load

URL = f"{REST}/port/v1/positions/me"


@responses.activate
def test_get_retries_5xx_with_backoff_then_succeeds() -> None:
    transport, clock, _ = make_transport()
    responses.get(URL, status=503)
    responses.get(URL, status=502)
    responses.get(URL, json={"Data": []})
    before = clock.monotonic()

    answer = transport.get("/port/v1/positions/me")

    assert answer.body == {"Data": []}
    assert len(responses.calls) == 3
    waited = clock.monotonic() - before
    assert 0.5 + 1.0 <= waited <= 1.5 * (0.5 + 1.0)  # 0.5 s then 1.0 s, plus up to 50% jitter


@responses.activate
def test_get_gives_up_after_its_attempts() -> None:
    transport, _, _ = make_transport()
    responses.get(URL, status=500, json={"ErrorCode": "InternalServerError", "Message": "x"})

    with pytest.raises(SaxoServerError) as info:
        transport.get("/port/v1/positions/me")

    assert info.value.error_code == "InternalServerError"
    assert len(responses.calls) == 3


@responses.activate
def test_get_retries_connection_errors() -> None:
    transport, _, _ = make_transport()
    responses.get(URL, body=requests.ConnectionError("refused"))
    responses.get(URL, json={"Data": [1]})

    assert transport.get("/port/v1/positions/me").body == {"Data": [1]}


@responses.activate
def test_order_post_is_not_retried_on_5xx() -> None:
    transport, _, _ = make_transport()
    responses.post(f"{REST}/trade/v2/orders", status=503)

    with pytest.raises(SaxoServerError):
        transport.send("POST", "/trade/v2/orders", json_body={}, is_order=True)

    assert len(responses.calls) == 1


@responses.activate
def test_order_post_timeout_is_a_transport_error_sent_once() -> None:
    transport, _, _ = make_transport()
    responses.post(f"{REST}/trade/v2/orders", body=requests.ReadTimeout("slow"))

    with pytest.raises(SaxoTransportError, match="timed out"):
        transport.send("POST", "/trade/v2/orders", json_body={}, is_order=True)

    assert len(responses.calls) == 1


@responses.activate
def test_every_call_has_connect_and_read_timeouts() -> None:
    transport, _, _ = make_transport()
    responses.get(URL, json={})

    transport.get("/port/v1/positions/me")

    assert responses.calls[0].request.req_kwargs["timeout"] == (3.05, 10.0)


@responses.activate
def test_401_forces_one_refresh_and_retries_with_the_new_token() -> None:
    transport, _, tokens = make_transport()
    responses.get(URL, status=401)
    responses.get(URL, json={"Data": []})

    transport.get("/port/v1/positions/me")

    assert tokens.forced == ["token-1"]
    assert responses.calls[1].request.headers["Authorization"] == "Bearer token-2"


@responses.activate
def test_second_401_raises_unauthorized() -> None:
    transport, _, tokens = make_transport()
    responses.get(URL, status=401)

    with pytest.raises(SaxoUnauthorized):
        transport.get("/port/v1/positions/me")

    assert len(tokens.forced) == 1
    assert len(responses.calls) == 2


@responses.activate
def test_429_waits_for_the_exhausted_dimensions_reset() -> None:
    transport, clock, _ = make_transport()
    responses.get(
        URL,
        status=429,
        headers={
            "X-RateLimit-Session-Limit": "120",
            "X-RateLimit-Session-Remaining": "0",
            "X-RateLimit-Session-Reset": "7",
            "X-RateLimit-AppDay-Remaining": "9999",
            "X-RateLimit-AppDay-Reset": "80000",
        },
    )
    responses.get(URL, json={"Data": []})
    before = clock.monotonic()

    transport.get("/port/v1/positions/me")

    assert clock.monotonic() - before == pytest.approx(7.0)


def test_rate_limit_wait_prefers_retry_after() -> None:
    assert rate_limit_wait_s({"Retry-After": "2", "X-RateLimit-Session-Reset": "9"}) == 2.0
    assert rate_limit_wait_s({}) is None


@responses.activate
def test_orders_carry_unique_request_ids() -> None:
    transport, _, _ = make_transport()
    responses.post(f"{REST}/trade/v2/orders", json={"OrderId": "1"})

    transport.send("POST", "/trade/v2/orders", json_body={}, is_order=True)
    transport.send("POST", "/trade/v2/orders", json_body={}, is_order=True)

    ids = [call.request.headers.get("X-Request-ID") for call in responses.calls]
    assert all(ids) and ids[0] != ids[1]


@responses.activate
def test_error_payload_becomes_typed_exception_with_error_code() -> None:
    transport, _, _ = make_transport()
    responses.get(
        URL, status=400, json=load("error_model_state.json"), headers={"X-Correlation": "c-1"}
    )

    with pytest.raises(SaxoBadRequest) as info:
        transport.get("/port/v1/positions/me")

    assert info.value.error_code == "InvalidModelState"
    assert info.value.model_state == {"$skip": ["Invalid $skip query parameter value: 2s"]}
    assert "correlation=c-1" in str(info.value)


@responses.activate
def test_error_messages_never_contain_the_bearer_token() -> None:
    transport, _, _ = make_transport()
    responses.get(URL, status=403, body="")

    with pytest.raises(Exception) as info:
        transport.get("/port/v1/positions/me")

    assert "token-1" not in str(info.value)
