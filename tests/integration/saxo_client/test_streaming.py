"""The price stream against the simulator: updates, reconnects, token expiry, control messages."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from shared.domain import PriceUpdate
from shared.saxo_client.client import SaxoClient
from shared.saxo_client.streaming.client import PriceStream, StreamSettings
from tests.integration.saxo_client.conftest import (
    MARKET_OPEN_START,
    control,
    logged_in_client,
    sim_stats,
)

SPX = (4913, "CfdOnIndex")
VIX = (10606, "StockIndex")


class Recorder:
    def __init__(self) -> None:
        self.updates: list[PriceUpdate] = []
        self._lock = threading.Lock()

    def __call__(self, update: PriceUpdate) -> None:
        with self._lock:
            self.updates.append(update)

    def count(self, uic: int | None = None) -> int:
        with self._lock:
            return sum(1 for u in self.updates if uic is None or u.uic == uic)


def wait_for(predicate: Callable[[], bool], timeout_s: float) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return predicate()


def more_updates(recorder: Recorder, uic: int, extra: int, timeout_s: float = 8.0) -> bool:
    start = recorder.count(uic)
    return wait_for(lambda: recorder.count(uic) >= start + extra, timeout_s)


@pytest.fixture
def streaming(client: SaxoClient) -> Iterator[tuple[PriceStream, Recorder]]:
    recorder = Recorder()
    stream = client.price_stream(recorder, StreamSettings(refresh_rate_ms=250))
    assert stream.start(wait_s=5)
    yield stream, recorder
    stream.stop()


def test_updates_reach_the_callback_with_timestamps(
    streaming: tuple[PriceStream, Recorder],
) -> None:
    stream, recorder = streaming

    snapshot = stream.subscribe(*SPX)

    assert snapshot is not None and snapshot.bid is not None and snapshot.ask is not None
    assert more_updates(recorder, SPX[0], 3)
    update = recorder.updates[-1]
    assert update.quote.uic == SPX[0] and update.quote.updated_at is not None
    assert update.received_at.tzinfo is not None and update.message_id > 0
    assert stream.is_fresh(SPX[0], max_silence_s=5)


def test_vix_streams_its_level_without_bid_or_ask(streaming: tuple[PriceStream, Recorder]) -> None:
    stream, _ = streaming

    snapshot = stream.subscribe(*VIX)

    assert snapshot is not None
    assert snapshot.bid is None and snapshot.ask is None
    assert snapshot.last is not None and snapshot.last > 5


def test_dropped_socket_resumes_the_same_context(
    streaming: tuple[PriceStream, Recorder], open_market_sim: Any
) -> None:
    stream, recorder = streaming
    stream.subscribe(*SPX)
    context = stream.context_id

    control(open_market_sim, "POST", "/streaming/drop", {})

    assert wait_for(lambda: stream.counters["connects"] >= 2, 5)
    assert more_updates(recorder, SPX[0], 3)
    assert stream.context_id == context


def test_reset_subscriptions_resubscribes_and_data_keeps_flowing(
    streaming: tuple[PriceStream, Recorder], open_market_sim: Any
) -> None:
    stream, recorder = streaming
    stream.subscribe(*SPX)
    old_ref = stream.stats()["subscriptions"][SPX[0]]["ref"]  # type: ignore[index]

    control(open_market_sim, "POST", "/streaming/reset", {})

    assert wait_for(lambda: stream.counters["resets"] >= 1, 5)
    assert wait_for(
        lambda: stream.stats()["subscriptions"][SPX[0]]["ref"] != old_ref,  # type: ignore[index]
        5,
    )
    assert more_updates(recorder, SPX[0], 2)


def test_disconnect_opens_a_new_context_and_resubscribes(
    streaming: tuple[PriceStream, Recorder], open_market_sim: Any
) -> None:
    stream, recorder = streaming
    stream.subscribe(*SPX)
    context = stream.context_id

    control(open_market_sim, "POST", "/streaming/disconnect", {"end_session": False})

    assert wait_for(lambda: stream.context_id != context and stream.connected, 8)
    assert more_updates(recorder, SPX[0], 2)


def test_token_expiry_during_a_stream_is_handled_by_reauthorizing(
    sim_factory: Callable[..., Any], tmp_path: Path
) -> None:
    server = sim_factory(start=MARKET_OPEN_START, token_lifetime_s=2)
    client = logged_in_client(server, tmp_path)
    recorder = Recorder()
    stream = client.price_stream(recorder, StreamSettings(refresh_rate_ms=250))
    try:
        assert stream.start(wait_s=5)
        stream.subscribe(*SPX)

        # The second re-authorization (at 3.2 s, 20% before the second token's expiry) comes
        # after the first token expired: the socket outlived it.
        assert wait_for(lambda: stream.counters["reauthorizations"] >= 2, 15)
        assert stream.counters["connects"] == 1  # never closed for an expired token
        assert more_updates(recorder, SPX[0], 2, timeout_s=4)
        assert sim_stats(server)["refresh_grants_rejected"] == 0
    finally:
        stream.stop()
        client.close()


def test_expired_socket_token_reconnects_with_a_fresh_token(
    streaming: tuple[PriceStream, Recorder], open_market_sim: Any
) -> None:
    stream, recorder = streaming
    stream.subscribe(*SPX)

    control(open_market_sim, "POST", "/auth/expire", {})

    assert wait_for(lambda: stream.counters["connects"] >= 2, 10)
    assert more_updates(recorder, SPX[0], 2)


def test_a_failed_socket_reauthorization_reconnects_instead_of_retrying_the_put(
    sim_factory: Callable[..., Any], tmp_path: Path
) -> None:
    server = sim_factory(start=MARKET_OPEN_START, token_lifetime_s=3)
    client = logged_in_client(server, tmp_path)
    recorder = Recorder()
    stream = client.price_stream(recorder, StreamSettings(refresh_rate_ms=250))
    try:
        assert stream.start(wait_s=5)
        stream.subscribe(*SPX)
        fault = {"path_prefix": "/openapi/streamingws/authorize", "kind": "status",
                 "status": 503, "count": 1000}  # fmt: skip
        control(server, "POST", "/faults", fault)

        # The refresh comes 0.6 s before expiry (20% of 3 s); the PUT fails, the stream
        # reconnects. Then a second of housekeeping ticks (every 0.25 s) with no PUT of their
        # own; the next refresh is due 2.4 s after the reconnect.
        assert wait_for(lambda: stream.counters["reconnects"] >= 1, 15)
        time.sleep(1.0)

        (rule,) = control(server, "GET", "/faults")["faults"]
        authorize_puts = 1000 - int(rule["remaining"])  # each failed PUT consumed one
        assert authorize_puts >= 1  # the socket did try to re-authorize
        assert stream.counters["reconnects"] >= 1
        assert authorize_puts <= 2  # not one PUT per 0.25 s housekeeping tick
        assert more_updates(recorder, SPX[0], 2, timeout_s=4)
    finally:
        stream.stop()
        client.close()
