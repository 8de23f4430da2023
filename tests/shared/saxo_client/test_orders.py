"""Order placement and fill verification over `responses` (recorded-shape payloads)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal

import pytest
import requests
import responses

from shared.clock import ManualClock
from shared.domain import OrderStatus, OrderType, Side
from shared.saxo_client.errors import OrderRejected, OrderStateUnknown
from shared.saxo_client.orders import OrderRequest, OrderService, VerifyTiming
from shared.saxo_client.portfolio import AccountRef
from tests.shared.saxo_client.fakes import REST, make_transport
from tests.shared.saxo_client.recorded import load

ACCOUNT = AccountRef("acc-key", "client-key", "9226397", "USD")
ORDERS = f"{REST}/trade/v2/orders"
ACTIVITIES = f"{REST}/cs/v1/audit/orderactivities"
OPEN_ORDERS = f"{REST}/port/v1/orders"
POSITIONS = f"{REST}/port/v1/positions"


def service() -> tuple[OrderService, ManualClock]:
    transport, clock, _ = make_transport()
    orders = OrderService(
        transport=transport,
        account=lambda: ACCOUNT,
        wall_clock=clock,
        market_clock=clock,
        timing=VerifyTiming(status_wait_s=1, price_wait_s=3, poll_interval_s=0.5),
    )
    return orders, clock


def lagging_fill_position(open_price: float, **base: object) -> dict[str, object]:
    """The recorded positions with the lagging fill's position (5023456791) opened at
    `open_price`; `base` overrides more PositionBase fields."""
    positions: dict[str, object] = load("positions_options.json")
    first = positions["Data"][0]  # type: ignore[index]
    first["PositionId"] = "5023456791"
    first["PositionBase"].update(OpenPrice=open_price, **base)
    return positions


def activities_lagging_then_settled(lagging_reads: int) -> None:
    """Register the lagging fill's activities `lagging_reads` times, then settled at 2.55."""
    lagging = load("activities_final_fill_lagging.json")
    settled = json.loads(json.dumps(lagging))
    settled["Data"][1]["AveragePrice"] = 2.55
    for _ in range(lagging_reads):
        responses.get(ACTIVITIES, json=lagging)
    responses.get(ACTIVITIES, json=settled)


def limit_sell() -> OrderRequest:
    return OrderRequest(
        uic=27345123,
        asset_type="StockIndexOption",
        side=Side.SELL,
        amount=Decimal(1),
        order_type=OrderType.LIMIT,
        limit_price=Decimal("2.40"),
        to_open=True,
        external_reference="ic-1-sc",
    )


@responses.activate
def test_place_sends_the_placement_body_and_returns_the_order_id() -> None:
    orders, _ = service()
    responses.post(ORDERS, json={"OrderId": "5012345678", "ExternalReference": "ic-1-sc"})

    placed = orders.place(limit_sell(), request_id="req-1")

    assert placed.order_id == "5012345678"
    request = responses.calls[0].request
    assert request.headers["X-Request-ID"] == "req-1"
    body = json.loads(request.body or b"{}")
    assert body["AccountKey"] == "acc-key" and body["OrderPrice"] == 2.4
    assert body["OrderType"] == "Limit" and body["ExternalReference"] == "ic-1-sc"


@responses.activate
def test_business_rejection_raises_with_the_error_code() -> None:
    orders, _ = service()
    responses.post(ORDERS, status=400, json=load("error_order_rejected.json"))

    with pytest.raises(OrderRejected) as info:
        orders.place(limit_sell())

    assert info.value.error_code == "WouldExceedMargin"
    assert len(responses.calls) == 1


@responses.activate
def test_timeout_is_unknown_at_once_and_one_look_finds_the_order_not_a_resend() -> None:
    orders, clock = service()
    responses.post(ORDERS, body=requests.ReadTimeout("slow"))
    responses.get(OPEN_ORDERS, json=load("single_order_working.json"))
    started = clock.monotonic()

    with pytest.raises(OrderStateUnknown) as info:
        orders.place(limit_sell())
    found = orders.find_by_reference(info.value.external_reference,
                                     since=datetime(2026, 1, 1, tzinfo=UTC))

    assert clock.monotonic() == started  # the client never waits for a look-up
    assert found is not None and found.order_id == "76332324"
    posts = [c for c in responses.calls if c.request.method == "POST"]
    assert len(posts) == 1


@responses.activate
def test_unfindable_order_after_timeout_is_unknown_not_resent() -> None:
    orders, _ = service()
    responses.post(ORDERS, body=requests.ConnectionError("reset"))
    responses.get(OPEN_ORDERS, json={"__count": 0, "Data": []})
    responses.get(ACTIVITIES, json={"Data": []})

    with pytest.raises(OrderStateUnknown):
        orders.place(limit_sell())

    assert [c.request.method for c in responses.calls] == ["POST"]  # no look-up, no re-send


@responses.activate
def test_verify_reads_fill_price_from_average_price() -> None:
    orders, _ = service()
    responses.get(f"{OPEN_ORDERS}/client-key/5012345678", json=load("single_order_gone.json"))
    responses.get(ACTIVITIES, json=load("activities_final_fill.json"))

    outcome = orders.verify("5012345678")

    assert outcome.status is OrderStatus.FILLED
    assert outcome.fill is not None and outcome.fill.price == Decimal("2.45")
    assert outcome.fill.source == "activities"


@responses.activate
def test_verify_waits_for_a_lagging_average_price() -> None:
    orders, _ = service()
    responses.get(f"{OPEN_ORDERS}/client-key/5012345679", json=load("single_order_gone.json"))
    activities_lagging_then_settled(2)

    outcome = orders.verify("5012345679")

    assert outcome.fill is not None and outcome.fill.price == Decimal("2.55")


@responses.activate
def test_verify_falls_back_to_the_position_open_price_after_the_wait() -> None:
    orders, _ = service()
    responses.get(f"{OPEN_ORDERS}/client-key/5012345679", json=load("single_order_gone.json"))
    responses.get(ACTIVITIES, json=load("activities_final_fill_lagging.json"))
    responses.get(POSITIONS, json=lagging_fill_position(2.6))

    outcome = orders.verify("5012345679")

    assert outcome.fill is not None
    assert (outcome.fill.price, outcome.fill.source) == (Decimal("2.6"), "position")


@responses.activate
def test_verify_reports_a_working_limit_order() -> None:
    orders, _ = service()
    responses.get(f"{OPEN_ORDERS}/client-key/76332324", json=load("single_order_working.json"))

    outcome = orders.verify("76332324")

    assert outcome.status is OrderStatus.WORKING and outcome.fill is None


@responses.activate
def test_verify_reports_a_rejection_found_in_activities() -> None:
    orders, _ = service()
    responses.get(f"{OPEN_ORDERS}/client-key/5012345680", json=load("single_order_gone.json"))
    responses.get(ACTIVITIES, json=load("activities_rejected.json"))

    assert orders.verify("5012345680").status is OrderStatus.REJECTED


@responses.activate
def test_cancel_of_a_vanished_order_returns_false() -> None:
    orders, _ = service()
    responses.delete(f"{ORDERS}/5012345678", status=404, json=load("error_cancel_not_found.json"))

    assert orders.cancel("5012345678") is False


def test_limit_order_without_price_is_refused_before_sending() -> None:
    with pytest.raises(ValueError, match="limit_price"):
        OrderRequest(1, "StockOption", Side.BUY, Decimal(1), OrderType.LIMIT)


@responses.activate
def test_verify_adds_the_commission_booked_on_the_opened_position() -> None:
    orders, _ = service()
    responses.get(f"{OPEN_ORDERS}/client-key/5012345678", json=load("single_order_gone.json"))
    responses.get(ACTIVITIES, json=load("activities_final_fill.json"))
    responses.get(POSITIONS, json=load("positions_options.json"))

    outcome = orders.verify("5012345678")

    assert outcome.fill is not None and outcome.fill.commission == Decimal("1.3")


CLOSED = f"{REST}/port/v1/closedpositions"
NO_POSITIONS = {"__count": 0, "Data": []}


@responses.activate
def test_partial_fill_before_a_cancel_carries_its_price_and_commission() -> None:
    orders, _ = service()
    responses.get(f"{OPEN_ORDERS}/client-key/5012345690", json=load("single_order_gone.json"))
    responses.get(ACTIVITIES, json=load("activities_partial_then_cancelled.json"))
    positions = load("positions_options.json")
    positions["Data"][0]["PositionBase"]["SourceOrderId"] = "5012345690"  # the filled part
    responses.get(POSITIONS, json=positions)

    outcome = orders.verify("5012345690")

    assert outcome.status is OrderStatus.CANCELLED
    assert outcome.filled_amount == Decimal(1)
    assert outcome.fill is not None
    assert (outcome.fill.price, outcome.fill.amount) == (Decimal("2.45"), Decimal(1))
    assert outcome.fill.commission == Decimal("1.3")


@responses.activate
def test_zero_fill_confirmed_by_the_closed_position_is_accepted_without_waiting() -> None:
    orders, clock = service()
    responses.get(f"{OPEN_ORDERS}/client-key/5012345691", json=load("single_order_gone.json"))
    responses.get(ACTIVITIES, json=load("activities_final_fill_zero.json"))
    responses.get(POSITIONS, json=NO_POSITIONS)
    responses.get(CLOSED, json=load("closed_positions_option_zero.json"))
    started = clock.monotonic()

    outcome = orders.verify("5012345691")

    assert outcome.status is OrderStatus.FILLED and outcome.fill is not None
    assert (outcome.fill.price, outcome.fill.source) == (Decimal(0), "closed_position")
    assert outcome.fill.commission == Decimal("0.65")
    assert clock.monotonic() == started  # no lag wait for a confirmed 0.00 fill


@responses.activate
def test_zero_in_activities_with_a_priced_position_is_the_lag() -> None:
    orders, _ = service()
    responses.get(f"{OPEN_ORDERS}/client-key/5012345679", json=load("single_order_gone.json"))
    responses.get(ACTIVITIES, json=load("activities_final_fill_lagging.json"))
    responses.get(POSITIONS, json=lagging_fill_position(2.6))

    outcome = orders.verify("5012345679")

    assert outcome.fill is not None and outcome.fill.price == Decimal("2.6")


@responses.activate
def test_unconfirmed_zero_is_never_taken_as_the_fill_price() -> None:
    orders, clock = service()
    responses.get(f"{OPEN_ORDERS}/client-key/5012345691", json=load("single_order_gone.json"))
    responses.get(ACTIVITIES, json=load("activities_final_fill_zero.json"))
    responses.get(POSITIONS, json=NO_POSITIONS)
    responses.get(CLOSED, json=NO_POSITIONS)
    started = clock.monotonic()

    outcome = orders.verify("5012345691")

    assert outcome.status is OrderStatus.FILLED and outcome.fill is None
    assert "price unknown" in outcome.detail
    assert clock.monotonic() - started >= 3  # waited out price_wait_s for the lag


@responses.activate
def test_a_zero_from_the_portfolio_alone_does_not_price_a_lagging_fill() -> None:
    orders, _ = service()
    responses.get(f"{OPEN_ORDERS}/client-key/5012345679", json=load("single_order_gone.json"))
    lagging = load("activities_final_fill_lagging.json")
    del lagging["Data"][1]["AveragePrice"]  # absent (the simulator's lag), not a reported 0
    responses.get(ACTIVITIES, json=lagging)
    responses.get(POSITIONS, json=lagging_fill_position(0))
    responses.get(CLOSED, json=NO_POSITIONS)

    outcome = orders.verify("5012345679")

    assert outcome.fill is None


@responses.activate
def test_an_opening_fill_found_in_closed_positions_takes_the_opening_side() -> None:
    # The order opened a position that has since been closed: its fill is the open price and the
    # opening cost, never the closing trade's price.
    orders, _ = service()
    responses.get(f"{OPEN_ORDERS}/client-key/5012345679", json=load("single_order_gone.json"))
    activities = load("activities_final_fill_lagging.json")
    for row in activities["Data"]:
        if row.get("PositionId"):
            row["PositionId"] = "5023456770"
    responses.get(ACTIVITIES, json=activities)
    responses.get(POSITIONS, json=NO_POSITIONS)
    closed = load("closed_positions_option_zero.json")
    closed["Data"][0]["ClosedPosition"]["CostOpening"] = -0.7
    responses.get(CLOSED, json=closed)

    outcome = orders.verify("5012345679")

    assert outcome.fill is not None
    assert (outcome.fill.price, outcome.fill.source) == (Decimal("0.05"), "closed_position")
    assert outcome.fill.commission == Decimal("0.7")


# --- the trading loop's non-blocking calls -------------------------------------------------


@responses.activate
def test_one_look_finds_an_order_by_its_reference_or_reports_its_rejection() -> None:
    orders, _ = service()
    responses.get(OPEN_ORDERS, json={"__count": 0, "Data": []})
    responses.get(ACTIVITIES, json=load("activities_final_fill.json"))
    since = datetime(2026, 1, 1, tzinfo=UTC)
    reference = load("activities_final_fill.json")["Data"][0]["ExternalReference"]

    found = orders.find_by_reference(reference, since=since)
    missing = orders.find_by_reference("cal-not-sent", since=since)

    assert found is not None and (found.order_id, found.rejected) == ("5012345678", False)
    assert missing is None


@responses.activate
def test_verify_without_waiting_returns_a_lagging_fill_unpriced_then_priced() -> None:
    orders, clock = service()
    responses.get(f"{OPEN_ORDERS}/client-key/5012345679", json=load("single_order_gone.json"))
    activities_lagging_then_settled(1)
    responses.get(POSITIONS, json=NO_POSITIONS)
    responses.get(CLOSED, json={"Data": []})
    started = clock.monotonic()

    first = orders.verify("5012345679", wait_for_final=False)
    second = orders.verify("5012345679", wait_for_final=False)

    assert clock.monotonic() == started  # neither call slept
    assert first.status is OrderStatus.FILLED and first.fill is None
    assert second.fill is not None and second.fill.price == Decimal("2.55")


@responses.activate
def test_a_portfolio_priced_fill_reads_the_positions_once_for_price_and_commission() -> None:
    orders, _ = service()
    responses.get(f"{OPEN_ORDERS}/client-key/5012345679", json=load("single_order_gone.json"))
    responses.get(ACTIVITIES, json=load("activities_final_fill_lagging.json"))
    responses.get(POSITIONS, json=lagging_fill_position(2.6, SourceOrderId="5012345679"))

    outcome = orders.verify("5012345679", wait_for_final=False)

    assert outcome.fill is not None
    assert (outcome.fill.price, outcome.fill.commission) == (Decimal("2.6"), Decimal("1.3"))
    assert sum(1 for c in responses.calls if c.request.url.startswith(POSITIONS)) == 1
