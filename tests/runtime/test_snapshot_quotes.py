"""SnapshotBuilder: a streamed quote is used only while it is itself fresh; a quiet stream's
old quote (the price stopped changing, heartbeats keep the subscription alive) is replaced by
a REST quote, so strategies do not read the old quote as "no price"."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from shared.domain import Quote
from shared.event_calendar import EventCalendar
from shared.runtime.snapshot import SnapshotBuilder
from shared.strategy_contract import DataRequest, InstrumentRef

NOW = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)
SPX = 4913


def _quote(source: str, age_s: float) -> Quote:
    level = Decimal("6000") if source == "stream" else Decimal("6001")
    return Quote(SPX, "CfdOnIndex", level - 1, level + 1, level, level,
                 NOW - timedelta(seconds=age_s))


class AliveFeed:
    """A connected stream whose subscription had a heartbeat just now."""

    def __init__(self, quote: Quote) -> None:
        self.quote = quote

    def subscribe(self, uic: int, asset_type: str) -> None:
        pass

    def latest(self, uic: int) -> Quote | None:
        return self.quote

    def is_fresh(self, uic: int, max_silence_s: float) -> bool:
        return True

    def stop(self) -> None:
        pass


class RestBroker:
    """Answers REST quotes (a fresh one) and counts the calls."""

    def __init__(self) -> None:
        self.asked: list[list[int]] = []

    def quotes(self, uics: Sequence[int], asset_type: str) -> dict[int, Quote]:
        self.asked.append(list(uics))
        return {uic: _quote("rest", 0.0) for uic in uics}


def _build(stream_age_s: float) -> tuple[Quote, RestBroker]:
    broker = RestBroker()
    builder = SnapshotBuilder(broker=broker, calendar=EventCalendar(), stale_s=10.0,  # type: ignore[arg-type]
                              feed=AliveFeed(_quote("stream", stream_age_s)))
    request = DataRequest(quotes=(InstrumentRef(SPX, "CfdOnIndex"),))
    snapshot = builder.build(request, now=NOW, positions=(), breaker_allows_entries=True)
    return snapshot.quotes[SPX], broker


def test_fresh_stream_quote_is_used_without_rest() -> None:
    quote, broker = _build(stream_age_s=2.0)

    assert quote.mid == Decimal("6000") and broker.asked == []


def test_old_stream_quote_of_a_live_subscription_is_replaced_by_rest() -> None:
    quote, broker = _build(stream_age_s=30.0)

    assert quote.mid == Decimal("6001") and broker.asked == [[SPX]]
