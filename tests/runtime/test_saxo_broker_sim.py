"""SaxoBroker against the simulator: completed daily bars only, and finding orders by reference."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from shared.broker import BrokerError
from shared.brokers.saxo_broker import SaxoBroker
from shared.domain import Side
from shared.saxo_client.orders import OrderRequest
from tests.runtime.helpers import client_for, fly_legs

NEW_YORK = ZoneInfo("America/New_York")
SPY = 36590


def _broker(sim_factory: Callable[..., Any], tmp_path: Path, start: datetime) -> SaxoBroker:
    return SaxoBroker(client_for(sim_factory(start=start), tmp_path))


def test_during_the_session_todays_forming_bar_is_left_out(
    sim_factory: Callable[..., Any], tmp_path: Path
) -> None:
    broker = _broker(sim_factory, tmp_path, datetime(2026, 3, 2, 11, 0, tzinfo=NEW_YORK))
    try:
        raw = broker.client.daily_bars(SPY, "Etf", 3)
        bars = broker.daily_bars(SPY, "Etf", 3)

        assert raw[-1].time.date() == date(2026, 3, 2)  # the server includes today's bar
        assert [b.time.date() for b in bars] == [date(2026, 2, 25), date(2026, 2, 26),
                                                 date(2026, 2, 27)]  # fmt: skip
        assert bars[-1].close == raw[-2].close
    finally:
        broker.client.close()


def test_before_the_next_open_yesterdays_bar_is_the_last_completed_one(
    sim_factory: Callable[..., Any], tmp_path: Path
) -> None:
    broker = _broker(sim_factory, tmp_path, datetime(2026, 3, 3, 9, 26, tzinfo=NEW_YORK))
    try:
        bars = broker.daily_bars(4913, "CfdOnIndex", 2)

        assert [b.time.date() for b in bars] == [date(2026, 2, 27), date(2026, 3, 2)]
        assert all(isinstance(b.close, Decimal) and b.low <= b.close <= b.high for b in bars)
    finally:
        broker.client.close()


def test_daily_bars_of_an_option_raise_a_broker_error(
    sim_factory: Callable[..., Any], tmp_path: Path
) -> None:
    server = sim_factory(start=datetime(2026, 3, 2, 11, 0, tzinfo=NEW_YORK))
    broker = SaxoBroker(client_for(server, tmp_path))
    try:
        leg = fly_legs(server)[0]
        with pytest.raises(BrokerError, match="daily bars"):
            broker.daily_bars(leg.uic, leg.asset_type, 5)
        with pytest.raises(BrokerError, match="count"):
            broker.daily_bars(SPY, "Etf", 0)
    finally:
        broker.client.close()


def test_find_order_sees_working_and_filled_orders_by_reference(
    sim_factory: Callable[..., Any], tmp_path: Path
) -> None:
    server = sim_factory(start=datetime(2026, 3, 2, 11, 0, tzinfo=NEW_YORK))
    broker = SaxoBroker(client_for(server, tmp_path))
    try:
        leg = fly_legs(server)[0]
        since = server.state.clock.now() - timedelta(minutes=1)
        filled = broker.client.place_order(OrderRequest(
            leg.uic, leg.asset_type, Side.BUY, Decimal(1), to_open=True,
            external_reference="cal-filled"))  # fmt: skip

        assert broker.find_order("cal-filled", since) == filled.order_id
        assert broker.find_order("cal-never-sent", since) is None
    finally:
        broker.client.close()
