"""SnapshotBuilder's account margin on the simulator: read from `/port/v1/balances` only when a
strategy asks (`DataRequest.account_margin`), as a positive USD figure, at most once a minute,
and a failed read gives None instead of failing the iteration."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from shared.brokers.saxo_broker import SaxoBroker
from shared.event_calendar import EventCalendar
from shared.runtime.snapshot import MARGIN_REST_SECONDS, SnapshotBuilder
from shared.saxo_sim.orders import OrderRequest
from shared.saxo_sim.saxo_shapes import ACCOUNT_KEY
from shared.strategy_contract import DataRequest
from tests.runtime.helpers import client_for, control, fly_legs

START = datetime(2026, 3, 2, 11, 0, tzinfo=ZoneInfo("America/New_York"))
ASK = DataRequest(account_margin=True)


def _sell_by_hand(server: Any, uic: int) -> None:
    """A naked short put at the simulator (a manual market order): margin becomes due."""

    def sell(state: Any) -> None:
        state.exchange.place(OrderRequest(
            account_key=ACCOUNT_KEY, uic=uic, asset_type="StockIndexOption", buy_sell="Sell",
            amount=Decimal(1), order_type="Market", price=None, duration="DayOrder",
            to_open_close=None, external_reference=None, manual_order=True))
        state.step()

    server.call(sell)


def test_margin_is_read_when_asked_positive_and_at_most_once_a_minute(
    sim_factory: Callable[..., Any], tmp_path: Path
) -> None:
    server = sim_factory(start=START)
    broker = SaxoBroker(client_for(server, tmp_path))
    builder = SnapshotBuilder(broker=broker, calendar=EventCalendar(), stale_s=10.0)

    def margin(at: datetime, request: DataRequest = ASK) -> Decimal | None:
        return builder.build(request, now=at, positions=(),
                             breaker_allows_entries=True).margin_used_usd  # fmt: skip

    try:
        assert margin(START) == Decimal(0)
        _sell_by_hand(server, fly_legs(server)[3].uic)  # the ATM short put
        due = Decimal(server.call(lambda s: s.exchange.margin_required()))
        assert due > 0
        assert margin(START + timedelta(seconds=30)) == Decimal(0)  # read less than 60 s ago
        assert margin(START + timedelta(seconds=MARGIN_REST_SECONDS)) == due  # Saxo: negative
        assert margin(START + timedelta(seconds=200), DataRequest()) is None  # not asked
    finally:
        broker.client.close()


def test_a_failed_balance_read_gives_no_figure(
    sim_factory: Callable[..., Any], tmp_path: Path
) -> None:
    server = sim_factory(start=START)
    broker = SaxoBroker(client_for(server, tmp_path))
    builder = SnapshotBuilder(broker=broker, calendar=EventCalendar(), stale_s=10.0)
    control(server, "POST", "/faults", {"path_prefix": "/openapi/port/v1/balances",
                                        "kind": "status", "status": 400, "count": 5})  # fmt: skip
    try:
        snapshot = builder.build(ASK, now=START, positions=(), breaker_allows_entries=True)
        assert snapshot.margin_used_usd is None
    finally:
        broker.client.close()
