"""Parsing recorded Saxo payloads into domain types."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from shared.domain import ActivityKind, OrderStatus, OrderType, PutCall, Side
from shared.saxo_client import parsing, trading_parsing
from shared.saxo_client.errors import SaxoPayloadError
from tests.shared.saxo_client.recorded import load


def test_info_price_reads_bid_ask_and_update_time() -> None:
    quote = parsing.parse_quote(load("infoprice_fx.json"))

    assert (quote.uic, quote.bid, quote.ask) == (22, Decimal("1.74858"), Decimal("1.74948"))
    assert quote.updated_at == datetime(2019, 3, 11, 21, 14, 0, 578000, tzinfo=UTC)
    assert quote.delayed_minutes == 15
    assert quote.market_open is True


def test_info_price_last_traded_zero_means_no_trade() -> None:
    quote = parsing.parse_quote(load("infoprice_fx.json"))

    assert quote.last is None


def test_vix_level_comes_from_price_info_details_without_bid_ask() -> None:
    quote = parsing.parse_quote(load("infoprice_vix.json"))

    assert quote.bid is None and quote.ask is None
    assert quote.last == Decimal("16.42")
    assert quote.price == Decimal("16.42")


def test_vix_without_price_info_details_has_no_price() -> None:
    quote = parsing.parse_quote(load("infoprice_vix_no_details.json"))

    assert quote.price is None


def test_no_access_price_type_hides_the_numbers() -> None:
    quote = parsing.parse_quote(load("infoprice_noaccess.json"))

    assert quote.bid is None and quote.ask is None


def test_info_price_list_keeps_every_row_and_reads_instrument_greeks_first() -> None:
    quotes = parsing.parse_info_price_list(load("infoprices_list_options.json"))

    assert [q.uic for q in quotes] == [27345123, 27345124]
    greeks = quotes[0].greeks
    assert greeks is not None
    assert greeks.delta == pytest.approx(-0.12)  # InstrumentDelta, not the position Delta
    assert greeks.mid_vol == pytest.approx(0.17)
    assert quotes[1].bid == Decimal("0") and quotes[1].greeks is None


def test_seven_digit_fractions_are_accepted() -> None:
    quotes = parsing.parse_info_price_list(load("infoprices_list_options.json"))

    assert quotes[0].updated_at == datetime(2026, 1, 30, 15, 0, 1, 123456, tzinfo=UTC)


def test_option_space_collects_contracts_and_all_expiries() -> None:
    chain = parsing.parse_option_space(load("option_space.json"), "RDSA")

    assert chain.root_id == 231 and chain.asset_type == "StockOption"
    assert chain.expiries == (date(2019, 3, 15), date(2019, 4, 18))
    assert chain.underlying_uic == 16350
    assert chain.contract_size == 100
    assert chain.for_expiry(date(2019, 3, 15)) == ()


def test_option_space_contracts_sorted_by_strike_on_request() -> None:
    chain = parsing.parse_option_space(load("option_space.json"), "RDSA")

    rows = chain.for_expiry(date(2019, 4, 18))
    assert [(c.strike, c.put_call) for c in rows] == [
        (Decimal("24"), PutCall.CALL),
        (Decimal("24.5"), PutCall.PUT),
        (Decimal("25"), PutCall.CALL),
        (Decimal("25"), PutCall.PUT),
    ]
    put = chain.find(date(2019, 4, 18), Decimal("25"), PutCall.PUT)
    assert put is not None and put.uic == 11897721


def test_option_space_without_root_id_is_rejected_with_the_field_name() -> None:
    payload = load("option_space.json")
    del payload["OptionRootId"]

    with pytest.raises(SaxoPayloadError, match="OptionRootId"):
        parsing.parse_option_space(payload, "RDSA")


def test_position_reads_nested_base_and_options_data() -> None:
    positions = trading_parsing.parse_positions(load("positions_options.json"))

    short_call = positions[0]
    assert short_call.position_id == "5023456789"
    assert short_call.amount == Decimal("-1") and short_call.is_short
    assert short_call.open_price == Decimal("2.45")
    assert short_call.strike == Decimal("5900.0")
    assert short_call.expiry == date(2026, 1, 30)
    assert short_call.put_call is PutCall.CALL
    assert short_call.source_order_id == "5012345678"


def test_position_without_options_data_takes_strike_and_expiry_from_symbol() -> None:
    positions = trading_parsing.parse_positions(load("positions_options.json"))

    spy = positions[1]
    assert (spy.strike, spy.expiry, spy.put_call) == (
        Decimal("587"),
        date(2025, 7, 11),
        PutCall.CALL,
    )
    assert spy.current_price is None


def test_non_option_position_has_no_option_fields() -> None:
    fx = trading_parsing.parse_positions(load("positions_options.json"))[2]

    assert fx.strike is None and fx.expiry is None and fx.put_call is None


@pytest.mark.parametrize(
    ("symbol", "expected"),
    [
        ("SPXW/30Jan26C5900:xcbf", ("SPXW", date(2026, 1, 30), PutCall.CALL, Decimal("5900"))),
        ("SPY/11N25C587:xcbf", ("SPY", date(2025, 7, 11), PutCall.CALL, Decimal("587"))),
        ("QQQ/17Mar26P480.5", ("QQQ", date(2026, 3, 17), PutCall.PUT, Decimal("480.5"))),
        ("EURUSD", None),
        ("SPY/31Feb26C500", None),
    ],
)
def test_option_symbols(symbol: str, expected: object) -> None:
    assert trading_parsing.parse_option_symbol(symbol) == expected


def test_single_order_feed_empty_means_no_longer_working() -> None:
    assert trading_parsing.parse_single_order(load("single_order_gone.json")) is None


def test_single_order_reads_data_zero_with_open_order_names() -> None:
    order = trading_parsing.parse_single_order(load("single_order_working.json"))

    assert order is not None
    assert order.order_id == "76332324"
    assert order.status is OrderStatus.WORKING
    assert order.order_type is OrderType.LIMIT
    assert order.limit_price == Decimal("2.6")
    assert order.side is Side.SELL


def test_activities_fill_price_from_average_price() -> None:
    rows = trading_parsing.parse_activities(load("activities_final_fill.json"))

    assert [r.kind for r in rows] == [ActivityKind.PLACED, ActivityKind.FINAL_FILL]
    assert rows[1].average_price == Decimal("2.45")
    assert rows[1].limit_price == Decimal("2.4")
    assert rows[1].position_id == "5023456789"


def test_activity_reported_zero_price_is_kept_and_absent_price_is_none() -> None:
    # A 0 may be the lag or a real 0.00 fill: the parser keeps it for orders.py to decide.
    rows = trading_parsing.parse_activities(load("activities_final_fill_lagging.json"))

    assert rows[1].kind is ActivityKind.FINAL_FILL
    assert rows[1].average_price == Decimal(0) and rows[1].execution_price is None


def test_balance_reads_totals_and_margin() -> None:
    balance = trading_parsing.parse_balance(load("balance.json"))

    assert balance.currency == "EUR"
    assert balance.total_value == Decimal("996386.01")
    assert balance.margin_available == Decimal("978723.61")
    assert balance.open_positions == 3


def test_closed_position_uses_buy_or_sell_spelling() -> None:
    rows = load("closed_positions.json")["Data"]
    closed = trading_parsing.parse_closed_position(rows[0])

    assert closed.side is Side.BUY
    assert closed.closing_price == Decimal("1.75612")
    assert closed.closing_position_id == "212702774"


def test_prices_keep_their_decimal_text() -> None:
    assert parsing.to_decimal(2.55, "x") == Decimal("2.55")


def test_number_field_with_text_is_rejected_naming_the_field() -> None:
    with pytest.raises(SaxoPayloadError, match=r"Quote\.Bid"):
        parsing.parse_quote({"Uic": 1, "Quote": {"Bid": "abc"}})


def test_order_body_has_the_placement_field_names() -> None:
    body = trading_parsing.order_body(
        account_key="acc",
        uic=11,
        asset_type="StockIndexOption",
        side=Side.SELL,
        amount=Decimal(2),
        order_type=OrderType.LIMIT,
        limit_price=Decimal("2.55"),
        to_open=True,
        duration="day",
        external_reference="ref-1",
        manual=False,
    )

    assert body["OrderPrice"] == 2.55 and body["Amount"] == 2
    assert body["BuySell"] == "Sell" and body["ToOpenClose"] == "ToOpen"
    assert body["OrderDuration"] == {"DurationType": "DayOrder"}
    assert body["ManualOrder"] is False
