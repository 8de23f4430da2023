"""SaxoBroker: the Broker port over `SaxoClient` (Saxo LIVE, Saxo SIM or the local simulator).

Translates client exceptions into broker ones: a refusal (Saxo answered no) is `OrderRefused`;
no answer that the client could not resolve is `OrderOutcomeUnknown`; every other client error
is `BrokerError`. Nothing here waits: the client never looks an unanswered placement up (the
executor, the one owner of that look-up, finds it on later passes with `find_order`) and
verification takes one look (`wait_for_final=False`), so the loop and every stop-loss keep
running.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import date, datetime, timedelta
from decimal import Decimal

from shared import market_hours
from shared.broker import (
    BrokerError,
    DailyBar,
    OrderOutcomeUnknown,
    OrderRefused,
    OrderTicket,
    TickCallback,
)
from shared.domain import (
    Balance,
    OptionChain,
    Order,
    OrderOutcome,
    PlacedOrder,
    Position,
    PriceUpdate,
    Quote,
)
from shared.logger_service import kv
from shared.saxo_client.charts import MAX_COUNT as MAX_CHART_COUNT
from shared.saxo_client.client import SaxoClient
from shared.saxo_client.errors import (
    OrderRejected,
    OrderStateUnknown,
    SaxoApiError,
    SaxoError,
)
from shared.saxo_client.orders import OrderRequest
from shared.saxo_client.prices import VIX_ASSET_TYPE, VIX_UIC
from shared.saxo_client.streaming.client import PriceStream, StreamSettings

logger = logging.getLogger(__name__)

STREAM_CONNECT_WAIT_S = 10.0
# A daily bar's trading day is the New York date 12 hours after its stamp: Saxo stamps daily
# bars at 00:00 UTC of the trading day, other conventions (New York midnight, or the evening
# before in UTC) land on the same day.
BAR_DAY_OFFSET = timedelta(hours=12)


class SaxoPriceFeed:
    """The client's PriceStream behind the PriceFeed port (option subscriptions ask for Greeks,
    so streamed option quotes carry them as REST ones do)."""

    def __init__(self, stream: PriceStream) -> None:
        self._stream = stream

    def subscribe(self, uic: int, asset_type: str) -> None:
        try:
            self._stream.subscribe(uic, asset_type)
        except SaxoError as exc:
            raise BrokerError(f"subscribe uic={uic} failed: {exc}") from exc

    def latest(self, uic: int) -> Quote | None:
        return self._stream.latest(uic)

    def is_fresh(self, uic: int, max_silence_s: float) -> bool:
        return self._stream.is_fresh(uic, max_silence_s)

    def stop(self) -> None:
        self._stream.stop()


class SaxoBroker:
    """Broker over one SaxoClient; real orders (`simulated` False)."""

    simulated = False

    def __init__(self, client: SaxoClient, *, stream_settings: StreamSettings | None = None):
        self.client = client
        self._stream_settings = stream_settings

    def quotes(self, uics: Sequence[int], asset_type: str) -> dict[int, Quote]:
        """REST snapshots; option quotes carry Saxo's Greeks (asked with the same calls)."""
        if not uics:
            return {}
        try:
            return self.client.quotes(list(uics), asset_type, greeks=True)
        except SaxoError as exc:
            raise BrokerError(f"quotes failed: {exc}") from exc

    def vix(self) -> Decimal | None:
        try:
            return self.client.vix()
        except SaxoError as exc:
            raise BrokerError(f"vix failed: {exc}") from exc

    def vix_instrument(self) -> tuple[int, str] | None:
        return VIX_UIC, VIX_ASSET_TYPE

    def chain(self, root: str, expiry: date) -> OptionChain:
        try:
            return self.client.chain(root, expiry)
        except SaxoError as exc:
            raise BrokerError(f"chain {root} {expiry} failed: {exc}") from exc

    def daily_bars(self, uic: int, asset_type: str, count: int) -> tuple[DailyBar, ...]:
        """`count` completed daily bars, oldest first; today's bar is left out until the index
        options session (16:15 New York, the latest US close) has closed."""
        if not 1 <= count < MAX_CHART_COUNT:
            raise BrokerError(f"daily bars count must be within 1..{MAX_CHART_COUNT - 1}")
        try:
            rows = self.client.daily_bars(uic, asset_type, count + 1)
        except (SaxoError, ValueError) as exc:
            raise BrokerError(f"daily bars uic={uic} failed: {exc}") from exc
        now = self.client.clock.now()
        done = [row for row in rows if not _still_forming(row.time, now)]
        return tuple(
            DailyBar(row.time, row.open, row.high, row.low, row.close) for row in done[-count:]
        )

    def positions(self) -> list[Position]:
        try:
            return self.client.positions()
        except SaxoError as exc:
            raise BrokerError(f"positions failed: {exc}") from exc

    def balance(self) -> Balance:
        try:
            return self.client.balance()
        except SaxoError as exc:
            raise BrokerError(f"balance failed: {exc}") from exc

    def precheck(self, ticket: OrderTicket) -> str | None:
        try:
            answer = self.client.precheck_order(_order_request(ticket))
        except SaxoError as exc:
            raise BrokerError(f"precheck uic={ticket.uic} failed: {exc}") from exc
        return None if answer.ok else f"{answer.error_code}: {answer.message}"

    def place_order(self, ticket: OrderTicket, *, request_id: str) -> PlacedOrder:
        request = _order_request(ticket)
        try:
            return self.client.place_order(request, request_id=request_id)
        except OrderRejected as exc:
            raise OrderRefused(exc.error_code, exc.message) from exc
        except OrderStateUnknown as exc:
            raise OrderOutcomeUnknown(str(exc)) from exc
        except SaxoApiError as exc:
            if 400 <= exc.status < 500:
                # Saxo answered (auth, permission, rate limit): the order was not executed.
                raise OrderRefused(exc.error_code or str(exc.status), exc.message) from exc
            raise OrderOutcomeUnknown(str(exc)) from exc
        except SaxoError as exc:
            raise OrderOutcomeUnknown(str(exc)) from exc

    def cancel_order(self, order_id: str) -> bool:
        try:
            return self.client.cancel_order(order_id)
        except SaxoError as exc:
            raise BrokerError(f"cancel {order_id} failed: {exc}") from exc

    def verify_order(self, order_id: str) -> OrderOutcome:
        try:
            return self.client.verify_order(order_id, wait_for_final=False)
        except SaxoError as exc:
            raise BrokerError(f"verify {order_id} failed: {exc}") from exc

    def open_orders(self) -> list[Order]:
        try:
            return self.client.open_orders()
        except SaxoError as exc:
            raise BrokerError(f"open orders failed: {exc}") from exc

    def find_order(self, external_reference: str, since: datetime) -> str | None:
        try:
            found = self.client.find_order(external_reference, since=since)
        except SaxoError as exc:
            raise BrokerError(f"order lookup {external_reference} failed: {exc}") from exc
        return None if found is None else found.order_id

    def open_price_feed(self, on_tick: TickCallback) -> SaxoPriceFeed | None:
        def on_price(update: PriceUpdate) -> None:
            on_tick(update.uic)

        stream = self.client.price_stream(on_price, self._stream_settings)
        try:
            connected = stream.start(wait_s=STREAM_CONNECT_WAIT_S)
        except (SaxoError, OSError) as exc:
            logger.warning(kv("price_stream_unavailable", error=exc))
            return None
        if not connected:
            logger.warning(kv("price_stream_not_connected", wait_s=STREAM_CONNECT_WAIT_S))
        return SaxoPriceFeed(stream)


def _order_request(ticket: OrderTicket) -> OrderRequest:
    return OrderRequest(
        uic=ticket.uic,
        asset_type=ticket.asset_type,
        side=ticket.side,
        amount=Decimal(ticket.quantity),
        order_type=ticket.order_type,
        limit_price=ticket.limit_price,
        to_open=ticket.to_open,
        external_reference=ticket.external_reference,
    )


def _still_forming(bar_time: datetime, now: datetime) -> bool:
    """True when the daily bar stamped `bar_time` is today's (or later) and not closed yet."""
    day = (bar_time + BAR_DAY_OFFSET).astimezone(market_hours.NY).date()
    today = now.astimezone(market_hours.NY).date()
    if day < today:
        return False
    if day > today:
        return True
    found = market_hours.session(day, "index_options")
    return found is not None and now < found.close
