"""The toolkit's broker-book reading and stuck-close re-issue, on shapes of every bot: a long
put and a short put of two expiries (the Put Diagonal), a straddle and a strangle (Delta
Neutral)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from shared.domain import Position, PutCall, Side
from shared.strategy.closing import CloseTracker, reissue_due
from shared.strategy.recovery import close_all_legs, read_book

NOW = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)
TODAY = date(2026, 3, 2)
RETRY = timedelta(seconds=30)


def put(uic: int, amount: int, strike: str, expiry: date) -> Position:
    return Position(position_id=f"p{uic}", uic=uic, asset_type="StockOption",
                    amount=Decimal(amount), open_price=Decimal("1.00"), strike=Decimal(strike),
                    expiry=expiry, put_call=PutCall.PUT)


def diagonal() -> list[Position]:
    return [put(1, 1, "480", date(2026, 3, 16)), put(2, -1, "490", TODAY),
            put(2, 0, "490", TODAY), put(3, -1, "470", date(2026, 2, 27))]


def test_legs_are_netted_and_classified_by_side_right_and_expiry() -> None:
    book = read_book(diagonal())

    (long_put,) = book.select(put_call=PutCall.PUT, short=False)
    assert (long_put.uic, long_put.role, long_put.expiry) == (1, "long_put", date(2026, 3, 16))
    assert [leg.uic for leg in book.select(short=True, expiry=TODAY)] == [2]
    assert [leg.uic for leg in book.unexpired(TODAY).legs] == [1, 2]  # uic 3 expired


def test_a_position_without_strike_is_reported_never_guessed() -> None:
    stock = Position(position_id="s", uic=9, asset_type="Stock", amount=Decimal(100),
                     open_price=Decimal("450"))

    book = read_book([*diagonal(), stock])

    assert book.unreadable == ("Stock uic 9 amount 100",)


def test_close_all_legs_buys_back_the_shorts_first_at_the_brokers_asset_type() -> None:
    legs = close_all_legs(read_book(diagonal()).unexpired(TODAY), "QQQ")

    assert [(leg.uic, leg.side) for leg in legs] == [(2, Side.BUY), (1, Side.SELL)]
    assert {(leg.root, leg.asset_type) for leg in legs} == {("QQQ", "StockOption")}


def _close() -> CloseTracker:
    legs = close_all_legs(read_book(diagonal()).unexpired(TODAY), "QQQ")
    return CloseTracker(intent_id="rpd:close:1", reason="campaign_close", sent_at=NOW,
                        legs=legs, next_retry_at=NOW + RETRY)


def test_a_reissue_waits_for_its_time_then_sends_the_open_legs_under_the_same_intent() -> None:
    close = _close()
    held = [put(1, 1, "480", date(2026, 3, 16))]  # the short was bought back

    assert reissue_due(close, held, NOW, RETRY) is None

    due = reissue_due(close, held, NOW + RETRY, RETRY)
    assert due is not None and due.order is not None
    assert due.order.intent_id == "rpd:close:1" and due.order.urgent
    assert [(leg.uic, leg.quantity) for leg in due.order.legs] == [(1, 1)]
    assert close.reissues == 1 and close.next_retry_at == NOW + 2 * RETRY


def test_a_flat_or_flipped_book_is_reported_not_closed_again() -> None:
    close = _close()
    flipped = [put(2, 1, "490", TODAY)]  # the short was over-closed into a long

    due = reissue_due(close, flipped, NOW + RETRY, RETRY)

    assert due is not None and due.order is None and due.over_closed == (2,)
