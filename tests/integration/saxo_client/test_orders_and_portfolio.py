"""Orders, fills, faults and the portfolio against the simulator."""

from __future__ import annotations

import time
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from shared.domain import OptionContract, OrderStatus, OrderType, Side
from shared.options_math import round_to_tick
from shared.saxo_client.client import SaxoClient
from shared.saxo_client.errors import OrderRejected, OrderStateUnknown
from shared.saxo_client.orders import OrderRequest
from shared.saxo_client.transport import RetryPolicy, Timeouts
from tests.integration.saxo_client.conftest import (
    MARKET_OPEN_START,
    control,
    logged_in_client,
    sim_stats,
)


def atm_call(client: SaxoClient) -> OptionContract:
    spot = client.quote(4913, "CfdOnIndex").price
    assert spot is not None
    chain = client.chain("SPXW")
    contracts = client.chain("SPXW", chain.expiries[0]).for_expiry(chain.expiries[0])
    calls = [c for c in contracts if c.put_call.value == "call"]
    return min(calls, key=lambda c: abs(c.strike - spot))


def order_posts(server: Any) -> int:
    routes = sim_stats(server)["routes"]
    return sum(
        n for route, n in routes.items() if route.startswith("POST /openapi/trade/v2/orders")
    )


def buy(contract: OptionContract, **kwargs: Any) -> OrderRequest:
    return OrderRequest(
        uic=contract.uic,
        asset_type=contract.asset_type,
        side=Side.BUY,
        amount=Decimal(1),
        to_open=True,
        **kwargs,
    )


def test_market_order_fill_price_comes_from_activities(client: SaxoClient) -> None:
    contract = atm_call(client)

    placed = client.place_order(buy(contract))
    outcome = client.verify_order(placed.order_id)

    assert outcome.status is OrderStatus.FILLED
    assert outcome.fill is not None and outcome.fill.price > 0
    assert outcome.fill.source == "activities"
    assert outcome.fill.commission == Decimal("0.65")  # the simulator's default per contract


def test_filled_position_shows_strike_and_expiry(client: SaxoClient) -> None:
    contract = atm_call(client)
    placed = client.place_order(buy(contract))
    client.verify_order(placed.order_id)

    positions = [p for p in client.positions() if p.uic == contract.uic]

    assert positions and positions[0].amount == Decimal(1)
    assert positions[0].strike == contract.strike and positions[0].expiry == contract.expiry
    assert positions[0].open_price is not None and positions[0].open_price > 0


def test_fill_price_that_appears_late_is_waited_for(sim_factory: Any, tmp_path: Path) -> None:
    server = sim_factory(start=MARKET_OPEN_START, activity_lag_s=2)
    client = logged_in_client(server, tmp_path)
    contract = atm_call(client)

    placed = client.place_order(buy(contract))
    outcome = client.verify_order(placed.order_id)

    assert outcome.fill is not None and outcome.fill.price > 0
    assert outcome.fill.source == "activities"
    client.close()


def test_limit_order_below_market_works_then_cancels(client: SaxoClient) -> None:
    contract = atm_call(client)
    quote = client.quote(contract.uic, contract.asset_type)
    assert quote.bid is not None
    low = round_to_tick("SPXW", quote.bid / 2, "down")
    placed = client.place_order(buy(contract, order_type=OrderType.LIMIT, limit_price=low))

    working = client.verify_order(placed.order_id, wait_for_final=False)
    cancelled = client.cancel_order(placed.order_id)
    final = client.verify_order(placed.order_id)

    assert working.status is OrderStatus.WORKING
    assert [o.order_id for o in client.open_orders()].count(placed.order_id) == 0
    assert cancelled is True and final.status is OrderStatus.CANCELLED


def test_business_rejection_carries_the_error_code(
    client: SaxoClient, open_market_sim: Any
) -> None:
    control(open_market_sim, "POST", "/orders/reject_next", {"error_code": "WouldExceedMargin"})

    with pytest.raises(OrderRejected) as info:
        client.place_order(buy(atm_call(client)))

    assert info.value.error_code == "WouldExceedMargin"


def test_order_post_timing_out_after_the_server_acted_is_found_not_resent(
    open_market_sim: Any, tmp_path: Path
) -> None:
    client = logged_in_client(open_market_sim, tmp_path, timeouts=Timeouts(read_s=1.0))
    contract = atm_call(client)
    control(
        open_market_sim,
        "POST",
        "/faults",
        {
            "path_prefix": "/openapi/trade/v2/orders",
            "method": "POST",
            "kind": "timeout",
            "hold_s": 1.5,
            "then_process": True,
            "count": 1,
        },
    )

    since = client.clock.now() - timedelta(minutes=5)
    with pytest.raises(OrderStateUnknown) as info:
        client.place_order(buy(contract))  # no answer: unknown at once, never re-sent
    deadline = time.monotonic() + 5  # the caller's later passes: the server acts at 1.5 s
    found = client.find_order(info.value.external_reference, since=since)
    while found is None and time.monotonic() < deadline:
        time.sleep(0.1)
        found = client.find_order(info.value.external_reference, since=since)

    assert found is not None
    outcome = client.verify_order(found.order_id)
    assert outcome.status is OrderStatus.FILLED
    positions = [p for p in client.positions() if p.uic == contract.uic]
    assert sum(p.amount for p in positions) == Decimal(1)  # exactly one order reached the book
    assert order_posts(open_market_sim) == 1
    client.close()


def test_order_post_answered_503_is_not_resent_and_reported_unknown(
    client: SaxoClient, open_market_sim: Any
) -> None:
    contract = atm_call(client)
    control(
        open_market_sim,
        "POST",
        "/faults",
        {
            "path_prefix": "/openapi/trade/v2/orders",
            "method": "POST",
            "kind": "status",
            "status": 503,
            "count": 1,
        },
    )

    with pytest.raises(OrderStateUnknown):
        client.place_order(buy(contract))

    assert order_posts(open_market_sim) == 1
    assert [p for p in client.positions() if p.uic == contract.uic] == []


def test_get_survives_a_5xx_burst(client: SaxoClient, open_market_sim: Any) -> None:
    control(
        open_market_sim,
        "POST",
        "/faults",
        {"path_prefix": "/openapi/port/v1/balances", "kind": "status", "status": 503, "count": 2},
    )

    balance = client.balance()

    assert balance.total_value > 0


def test_get_survives_a_429_burst_by_waiting_for_the_reset(
    open_market_sim: Any, tmp_path: Path
) -> None:
    # The simulator's 429 names a 60 s Session reset; cap the wait so the test stays fast.
    client = logged_in_client(
        open_market_sim, tmp_path, retry=RetryPolicy(max_rate_limit_wait_s=0.5)
    )
    control(
        open_market_sim,
        "POST",
        "/faults",
        {"path_prefix": "/openapi/port/v1/balances", "kind": "rate_limit", "count": 2},
    )
    started = time.monotonic()

    client.balance()

    assert time.monotonic() - started >= 1.0  # waited (capped) after each of the two 429s
    assert sim_stats(open_market_sim)["statuses"].get("429", 0) >= 2
    client.close()


def test_expired_token_gets_one_refresh_and_the_call_succeeds(
    client: SaxoClient, open_market_sim: Any
) -> None:
    client.balance()
    control(open_market_sim, "POST", "/auth/expire", {})

    assert client.balance().currency
    assert sim_stats(open_market_sim)["refresh_grants_rejected"] == 0


def test_balance_reports_cash_and_margin(client: SaxoClient) -> None:
    balance = client.balance()

    assert balance.currency == "USD"
    assert balance.cash_balance > 0 and balance.margin_available is not None


def test_selling_a_worthless_option_at_a_zero_bid_is_a_priced_fill(client: SaxoClient) -> None:
    chain = client.chain("SPXW")
    expiry = chain.expiries[0]
    contracts = client.chain("SPXW", expiry).for_expiry(expiry)
    far_call = max((c for c in contracts if c.put_call.value == "call"), key=lambda c: c.strike)
    quote = client.quotes([far_call.uic], far_call.asset_type)[far_call.uic]
    assert quote.bid == 0  # the simulator quotes a worthless option 0 bid / 1 tick offered
    bought = client.verify_order(client.place_order(buy(far_call)).order_id)
    assert bought.status is OrderStatus.FILLED

    sell = OrderRequest(
        uic=far_call.uic,
        asset_type=far_call.asset_type,
        side=Side.SELL,
        amount=Decimal(1),
        to_open=False,
    )
    placed = client.place_order(sell)
    started = time.monotonic()
    outcome = client.verify_order(placed.order_id)

    assert outcome.status is OrderStatus.FILLED and outcome.fill is not None
    assert outcome.fill.price == Decimal(0)
    assert outcome.fill.commission == Decimal("0.65")
    assert time.monotonic() - started < 5  # not the 10 s lag wait
