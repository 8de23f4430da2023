"""DryRunBroker over real simulator quotes: fills at the touch, never an order at the simulator,
fills journaled as simulated.

The simulator runs at speed 0.001 with US500.I pinned, so its quotes do not move while a test
reads them and the dry-run broker fills against them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from shared.broker import OrderRefused, OrderTicket
from shared.brokers.dry_run import DryRunBroker
from shared.brokers.saxo_broker import SaxoBroker
from shared.circuit_breaker import BreakerSettings, CircuitBreaker, MemoryBreakerStore
from shared.clock import ManualClock
from shared.domain import OrderStatus, OrderType, Position, Quote, Side
from shared.execution import ExecutionSettings, Executor, Recorder
from shared.journal import Journal
from shared.strategy_contract import ClosePosition, OpenPosition
from tests.runtime.helpers import BOT, client_for, control, fly_legs

NEW_YORK = ZoneInfo("America/New_York")
START = datetime(2026, 3, 2, 10, 0, tzinfo=NEW_YORK)


@pytest.fixture
def server(sim_factory: Callable[..., Any]) -> Any:
    made = sim_factory(start=START, speed=0.001)
    spot = made.call(lambda s: s.model.spot(4913))
    control(made, "POST", "/market/pin", {"symbol": "US500.I", "level": round(spot, 2)})
    return made


@pytest.fixture
def data(server: Any, tmp_path: Path) -> Iterator[SaxoBroker]:
    broker = SaxoBroker(client_for(server, tmp_path))
    yield broker
    broker.client.close()


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(START)


@pytest.fixture
def dry(data: SaxoBroker, clock: ManualClock) -> DryRunBroker:
    return DryRunBroker(data, clock=clock, commission_per_contract_usd=Decimal("0.65"))


def _quote(data: SaxoBroker, uic: int) -> Quote:
    return data.quotes([uic], "StockIndexOption")[uic]


def _ticket(uic: int, side: Side, quantity: int = 1, **kwargs: Any) -> OrderTicket:
    return OrderTicket(uic=uic, asset_type="StockIndexOption", side=side, quantity=quantity,
                       external_reference=f"cal-test-{uic}-{side}", **kwargs)  # fmt: skip


def _order_traffic(server: Any) -> tuple[int, int]:
    """(orders the simulator's exchange saw, order requests its HTTP layer received)."""
    stats = control(server, "GET", "/stats")
    posts = sum(n for route, n in stats["routes"].items() if "/trade/v2/orders" in route)
    return stats["orders_placed"], posts


def test_market_buy_fills_at_the_ask_and_sell_at_the_bid_without_touching_the_simulator(
    server: Any, data: SaxoBroker, dry: DryRunBroker
) -> None:
    uic = fly_legs(server)[0].uic
    quote = _quote(data, uic)

    bought = dry.place_order(_ticket(uic, Side.BUY, 2, order_type=OrderType.MARKET),
                             request_id="r-1")  # fmt: skip
    sold = dry.place_order(_ticket(uic, Side.SELL, 2, order_type=OrderType.MARKET),
                           request_id="r-2")  # fmt: skip
    buy_outcome, sell_outcome = dry.verify_order(bought.order_id), dry.verify_order(sold.order_id)

    assert buy_outcome.status is OrderStatus.FILLED and sell_outcome.status is OrderStatus.FILLED
    assert buy_outcome.fill is not None and buy_outcome.fill.price == quote.ask
    assert sell_outcome.fill is not None and sell_outcome.fill.price == quote.bid
    assert buy_outcome.fill.commission == Decimal("1.30")
    assert _order_traffic(server) == (0, 0)


def test_positions_and_cash_follow_the_local_fills(
    server: Any, data: SaxoBroker, dry: DryRunBroker
) -> None:
    uic = fly_legs(server)[0].uic
    quote = _quote(data, uic)
    cash = dry.balance().cash_balance
    assert quote.ask is not None and quote.bid is not None

    dry.place_order(_ticket(uic, Side.BUY, 3, order_type=OrderType.MARKET), request_id="r-1")
    held = {p.uic: p.amount for p in dry.positions()}
    dry.place_order(_ticket(uic, Side.SELL, 3, order_type=OrderType.MARKET), request_id="r-2")

    assert held == {uic: Decimal(3)}
    assert dry.positions() == []
    assert dry.balance().cash_balance == cash - (quote.ask - quote.bid) * 3 * 100
    assert data.positions() == []


def test_a_limit_order_rests_until_marketable_and_fills_at_the_touch_not_the_limit(
    server: Any, data: SaxoBroker, dry: DryRunBroker
) -> None:
    uic = fly_legs(server)[0].uic
    quote = _quote(data, uic)
    assert quote.ask is not None and quote.bid is not None

    resting = dry.place_order(
        _ticket(uic, Side.BUY, order_type=OrderType.LIMIT, limit_price=quote.bid), request_id="r"
    )
    generous = dry.place_order(
        _ticket(uic, Side.BUY, order_type=OrderType.LIMIT, limit_price=quote.ask + 1),
        request_id="g",
    )

    assert dry.verify_order(resting.order_id).status is OrderStatus.WORKING
    assert [o.order_id for o in dry.open_orders()] == [resting.order_id]
    filled = dry.verify_order(generous.order_id)
    assert filled.fill is not None and filled.fill.price == quote.ask
    assert dry.cancel_order(resting.order_id) is True
    assert dry.verify_order(resting.order_id).status is OrderStatus.CANCELLED
    assert dry.cancel_order(resting.order_id) is False
    assert dry.find_order(f"cal-test-{uic}-{Side.BUY}", START) is not None
    assert _order_traffic(server) == (0, 0)


def test_an_unpriced_instrument_is_refused(dry: DryRunBroker) -> None:
    with pytest.raises(OrderRefused, match="no quote"):
        dry.place_order(_ticket(999_999_999, Side.BUY, order_type=OrderType.MARKET),
                        request_id="r")  # fmt: skip


def test_seeded_positions_are_what_a_restart_starts_from(dry: DryRunBroker) -> None:
    dry.seed_positions(
        [Position("p", 11, "StockIndexOption", Decimal(-2), None),
         Position("q", 12, "StockIndexOption", Decimal(0), None)]
    )  # fmt: skip

    assert [(p.uic, p.amount) for p in dry.positions()] == [(11, Decimal(-2))]


def test_executor_on_the_dry_run_broker_journals_fills_as_simulated_at_quoted_prices(
    server: Any, data: SaxoBroker, dry: DryRunBroker, clock: ManualClock, tmp_path: Path
) -> None:
    journal = Journal.open(tmp_path / "dry.sqlite", clock=clock)
    recorder = Recorder(journal, BOT, lambda: ("test", {}))
    executor = Executor(
        broker=dry, recorder=recorder, clock=clock, settings=ExecutionSettings(),
        breaker=CircuitBreaker(BOT, BreakerSettings(), clock=clock, store=MemoryBreakerStore()),
    )  # fmt: skip
    legs = fly_legs(server)
    quotes = data.quotes([leg.uic for leg in legs], "StockIndexOption")
    try:
        executor.submit(OpenPosition("dry-fly", legs, "test"))
        for _ in range(10):
            executor.step()
        reports = executor.drain_reports()
        closing = tuple(replace(leg, side=leg.side.opposite) for leg in reversed(legs))
        executor.submit(ClosePosition("dry-fly-close", closing, "test_exit"))
        for _ in range(10):
            executor.step()
        reports += executor.drain_reports()

        assert [r.status for r in reports] == ["filled", "closed"]
        trade = journal.trades()[0]
        assert trade.exit_reason == "test_exit" and trade.is_flat
        assert len(trade.fills) == 8 and all(f.simulated for f in trade.fills)
        expected = {
            (leg.uic, leg.side.value): quotes[leg.uic].ask if leg.side is Side.BUY
            else quotes[leg.uic].bid
            for leg in (*legs, *closing)
        }  # fmt: skip
        assert {(f.uic, f.side.value): f.price for f in trade.fills} == expected
        assert _order_traffic(server) == (0, 0)
    finally:
        journal.close()


def _worthless_call(server: Any, data: SaxoBroker) -> int:
    """A 0DTE SPXW call far enough out of the money that the simulator quotes it 0 bid."""
    today = START.date()
    contracts = server.call(lambda s: s.catalog.contracts(128, today, s.model.spot(4913)))
    calls = sorted((c for c in contracts if c.put_call == "Call"), key=lambda c: -c.strike)
    quotes = data.quotes([c.uic for c in calls[:10]], "StockIndexOption")
    (uic, *_) = [c.uic for c in calls[:10] if quotes[c.uic].bid == 0]
    return uic


def test_a_market_sell_at_a_zero_bid_fills_at_zero_as_on_the_simulator(
    server: Any, data: SaxoBroker, dry: DryRunBroker
) -> None:
    # A wing-touch close sells the far long wing at market; on Saxo (and the simulator) a
    # worthless wing sells for 0.00. The dry run (and so the backtest) must not refuse it, or
    # the close is stuck, re-sent all day and the breaker trips on a leg worth nothing.
    uic = _worthless_call(server, data)
    quote = _quote(data, uic)
    assert quote.bid == 0 and quote.ask is not None and quote.ask > 0

    dry.place_order(_ticket(uic, Side.BUY, order_type=OrderType.MARKET), request_id="r-1")
    sold = dry.place_order(_ticket(uic, Side.SELL, order_type=OrderType.MARKET),
                           request_id="r-2")  # fmt: skip
    outcome = dry.verify_order(sold.order_id)

    assert outcome.status is OrderStatus.FILLED and outcome.fill is not None
    assert (outcome.fill.price, outcome.fill.commission) == (Decimal(0), Decimal("0.65"))
    assert dry.positions() == []
    # The simulator's own exchange does the same with a real order (its fill price read back
    # from the portfolio, as the live client reads Saxo's).
    data.place_order(_ticket(uic, Side.BUY, order_type=OrderType.MARKET, to_open=True),
                     request_id="s-1")  # fmt: skip
    on_sim = data.place_order(_ticket(uic, Side.SELL, order_type=OrderType.MARKET),
                              request_id="s-2")  # fmt: skip
    sim_outcome = data.verify_order(on_sim.order_id)
    assert sim_outcome.status is OrderStatus.FILLED and sim_outcome.fill is not None
    assert sim_outcome.fill.price == 0

