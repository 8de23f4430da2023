"""Option quotes in a strategy's snapshot carry Saxo's Greeks, on the simulator: over REST
(`/trade/v1/infoprices/list` asks `Greeks` for options, with the same number of calls) and over
the price stream (the subscription asks `Greeks`; snapshot and deltas carry them). The figures
are the simulator's own model delta and theta of the contract at the quote's time; an index
(the underlying) is asked no Greeks and has none, and a stream subscription that does not ask
for Greeks gets none (snapshot or deltas)."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from shared.brokers.saxo_broker import SaxoBroker
from shared.domain import Quote
from shared.event_calendar import EventCalendar
from shared.runtime.snapshot import SnapshotBuilder
from shared.saxo_client.prices import BASE_FIELD_GROUPS
from shared.strategy_contract import DataRequest, InstrumentRef, OptionWindow, Snapshot
from tests.runtime.helpers import client_for, control

NEW_YORK = ZoneInfo("America/New_York")
START = datetime(2026, 3, 2, 11, 0, tzinfo=NEW_YORK)  # a Monday, mid-session
SPY = InstrumentRef(36590, "Etf")
LIST_ROUTE = "GET /openapi/trade/v1/infoprices/list"
STALE_S = 30.0


def _route_count(server: Any, route: str) -> int:
    return int(control(server, "GET", "/stats")["routes"].get(route, 0))


def _sim_greeks(server: Any, quote: Quote) -> tuple[float, float]:
    """(delta, theta per share per day) of the simulator's model for the quote's contract at
    the quote's own time."""
    assert quote.updated_at is not None

    def model(state: Any) -> tuple[float, float]:
        option = state.quote(state.resolve(quote.uic, quote.asset_type), quote.updated_at)
        return option.delta, option.theta_per_day

    return server.call(model)  # type: ignore[no-any-return]


def _assert_simulator_greeks(server: Any, snapshot: Snapshot, uics: list[int]) -> None:
    for uic in uics:
        quote = snapshot.quotes[uic]
        assert quote.greeks is not None, f"uic {uic}: no Greeks"
        delta, theta = _sim_greeks(server, quote)
        assert quote.greeks.delta is not None and abs(quote.greeks.delta - delta) < 1e-6
        assert quote.greeks.theta is not None and abs(quote.greeks.theta - theta) < 1e-6
        assert theta < 0  # a long option decays: theta per share per day is negative


def _window(broker: SaxoBroker) -> OptionWindow:
    expiry: date = min(broker.client.chain("SPY").expiries)
    return OptionWindow(root="SPY", expiry=expiry, spot_uic=SPY.uic, strikes_each_side=2)


def test_rest_option_quotes_in_a_snapshot_carry_the_simulators_greeks(
    sim_factory: Callable[..., Any], tmp_path: Path
) -> None:
    server = sim_factory(start=START)
    broker = SaxoBroker(client_for(server, tmp_path))
    builder = SnapshotBuilder(broker=broker, calendar=EventCalendar(), stale_s=STALE_S)
    try:
        window = _window(broker)
        calls_before = _route_count(server, LIST_ROUTE)
        snapshot = builder.build(DataRequest(quotes=(SPY,), option_windows=(window,)),
                                 now=server.state.clock.now(), positions=(),
                                 breaker_allows_entries=True)  # fmt: skip
        options = [c.uic for c in snapshot.chains[(window.root, window.expiry)]]
        assert len(options) == 10  # 5 strikes, call and put
        _assert_simulator_greeks(server, snapshot, options)
        assert snapshot.quotes[SPY.uic].greeks is None  # the ETF is asked none
        # One list call per asset type, as before: the Greeks ride on the same calls.
        assert _route_count(server, LIST_ROUTE) - calls_before == 2
    finally:
        broker.client.close()


def test_streamed_option_quotes_carry_the_simulators_greeks_in_snapshot_and_deltas(
    sim_factory: Callable[..., Any], tmp_path: Path
) -> None:
    server = sim_factory(start=START, speed=60.0)
    broker = SaxoBroker(client_for(server, tmp_path))
    feed = broker.open_price_feed(lambda uic: None)
    assert feed is not None
    builder = SnapshotBuilder(broker=broker, calendar=EventCalendar(), stale_s=STALE_S,
                              feed=feed)  # fmt: skip
    try:
        window = _window(broker)
        contracts = broker.chain(window.root, window.expiry).contracts
        spot = broker.quotes([SPY.uic], SPY.asset_type)[SPY.uic].price
        assert spot is not None
        near = sorted(contracts, key=lambda c: abs(c.strike - spot))[:4]
        refs = tuple(InstrumentRef(c.uic, c.asset_type) for c in near)
        request = DataRequest(quotes=(SPY, *refs))
        builder.build(request, now=server.state.clock.now(), positions=(),
                      breaker_allows_entries=True)  # fmt: skip
        first = {ref.uic: feed.latest(ref.uic) for ref in refs}
        assert all(q is not None and q.greeks is not None for q in first.values())
        # Let the stream send deltas (the simulator's clock runs 60x): each quote is newer.
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            latest = {ref.uic: feed.latest(ref.uic) for ref in refs}
            if all(q is not None and q.updated_at is not None and f is not None
                   and f.updated_at is not None and q.updated_at > f.updated_at
                   for q, f in zip(latest.values(), first.values(), strict=True)):  # fmt: skip
                break
            time.sleep(0.05)
        else:
            raise AssertionError("no stream delta for the options within 20 s")
        lists_before = _route_count(server, LIST_ROUTE)
        now = max(q.updated_at for q in latest.values() if q is not None and q.updated_at)
        snapshot = builder.build(request, now=now + timedelta(seconds=1), positions=(),
                                 breaker_allows_entries=True)  # fmt: skip
        assert _route_count(server, LIST_ROUTE) == lists_before  # all from the stream
        _assert_simulator_greeks(server, snapshot, [ref.uic for ref in refs])
    finally:
        feed.stop()
        broker.client.close()


def test_the_simulators_stream_sends_greeks_only_to_a_subscription_that_asks(
    sim_factory: Callable[..., Any], tmp_path: Path
) -> None:
    server = sim_factory(start=START, speed=60.0)
    broker = SaxoBroker(client_for(server, tmp_path))
    stream = broker.client.price_stream()
    try:
        assert stream.start(wait_s=10)
        window = _window(broker)
        contracts = broker.chain(window.root, window.expiry).contracts
        spot = broker.quotes([SPY.uic], SPY.asset_type)[SPY.uic].price
        assert spot is not None
        plain, asking = sorted(contracts, key=lambda c: abs(c.strike - spot))[:2]
        snapshot = stream.subscribe(plain.uic, plain.asset_type, BASE_FIELD_GROUPS)
        assert snapshot is not None and snapshot.greeks is None
        snapshot = stream.subscribe(asking.uic, asking.asset_type)  # the default asks Greeks
        assert snapshot is not None and snapshot.greeks is not None
        first = stream.latest(plain.uic)
        assert first is not None and first.updated_at is not None
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:  # deltas of the plain subscription: still none
            latest = stream.latest(plain.uic)
            if latest is not None and latest.updated_at and latest.updated_at > first.updated_at:
                assert latest.greeks is None
                break
            time.sleep(0.05)
        else:
            raise AssertionError("no stream delta for the plain subscription within 20 s")
    finally:
        stream.stop()
        broker.client.close()
