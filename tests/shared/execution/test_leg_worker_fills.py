"""LegWorker journals fills only at the broker's fill price and commission (real journal; the
broker is a stub at the process boundary)."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from shared.broker import OrderTicket
from shared.clock import ManualClock
from shared.domain import Fill, OrderOutcome, OrderStatus, PlacedOrder, Quote, Side
from shared.execution import ExecutionSettings
from shared.execution.leg_worker import LegWorker
from shared.execution.model import DEFAULT_ASSUMED_COMMISSION_USD, Job, JobKind, LegWork
from shared.journal import Journal
from shared.strategy_contract import LegSpec, OrderStyle
from tests.shared.execution.worker_rig import START, leg_worker

ORDER_ID = "5012345690"


class StubBroker:
    """Accepts every order; `verify_order` answers the outcome the test sets."""

    simulated = False

    def __init__(self) -> None:
        self.outcome: OrderOutcome | None = None

    def quotes(self, uics: list[int], asset_type: str) -> dict[int, Quote]:
        return {}

    def place_order(self, ticket: OrderTicket, *, request_id: str) -> PlacedOrder:
        return PlacedOrder(ORDER_ID, request_id, ticket.external_reference)

    def verify_order(self, order_id: str) -> OrderOutcome:
        assert self.outcome is not None
        return self.outcome

    def cancel_order(self, order_id: str) -> bool:
        return True


def _rig(tmp_path: Path) -> tuple[LegWorker, StubBroker, Journal, Job, ManualClock]:
    broker = StubBroker()
    worker, journal, clock = leg_worker(tmp_path, broker)
    spec = LegSpec("short_call", 27345123, "StockIndexOption", Side.SELL, 2, "SPXW")
    job = Job(JobKind.ENTRY, "intent-1", [LegWork(spec)], OrderStyle.MARKET, True, "test")
    worker.send_next(job, job.legs[0], [])
    assert job.legs[0].order is not None and job.legs[0].order.order_id == ORDER_ID
    return worker, broker, journal, job, clock


def _fill(price: str, amount: int, commission: str) -> Fill:
    return Fill(
        order_id=ORDER_ID,
        uic=27345123,
        side=Side.SELL,
        amount=Decimal(amount),
        price=Decimal(price),
        filled_at=START,
        source="activities",
        commission=Decimal(commission),
    )


def _fills(journal: Journal) -> list[Any]:
    return [fill for trade in journal.trades() for fill in trade.fills]


def test_partial_fill_of_a_cancelled_order_is_journaled_at_its_fill(tmp_path: Path) -> None:
    worker, broker, journal, job, _ = _rig(tmp_path)
    broker.outcome = OrderOutcome(
        ORDER_ID, OrderStatus.CANCELLED, _fill("2.45", 1, "0.65"), Decimal(1), "partial"
    )

    worker.check(job, job.legs[0])

    [fill] = _fills(journal)
    assert (fill.quantity, fill.price, fill.commission_usd) == (1, Decimal("2.45"), Decimal("0.65"))
    assert job.legs[0].order is None  # the cancelled order is done with


def test_unpriced_fill_is_not_journaled_until_the_broker_prices_it(tmp_path: Path) -> None:
    worker, broker, journal, job, clock = _rig(tmp_path)
    leg = job.legs[0]
    broker.outcome = OrderOutcome(ORDER_ID, OrderStatus.FILLED, None, Decimal(2), "price unknown")

    worker.check(job, leg)
    clock.advance(timedelta(seconds=ExecutionSettings().fill_check_timeout_seconds + 1))
    worker.check(job, leg)  # past the deadline: still no made-up price
    worker.check(job, leg)

    assert _fills(journal) == [] and leg.order is not None
    assert [e.event for e in journal.safety_events()] == ["fill_price_unknown"]

    broker.outcome = OrderOutcome(ORDER_ID, OrderStatus.FILLED, _fill("0", 2, "1.30"), Decimal(2))
    worker.check(job, leg)

    [fill] = _fills(journal)
    assert (fill.quantity, fill.price, fill.commission_usd) == (2, Decimal(0), Decimal("1.30"))
    assert leg.order is None and leg.filled_qty == 2


def test_a_fill_without_a_reported_commission_records_the_configured_rate_and_says_so(
    tmp_path: Path,
) -> None:
    worker, broker, journal, job, _ = _rig(tmp_path)
    unreported = Fill(
        order_id=ORDER_ID,
        uic=27345123,
        side=Side.SELL,
        amount=Decimal(2),
        price=Decimal("2.45"),
        filled_at=START,
        source="activities",
        commission=None,
    )
    broker.outcome = OrderOutcome(ORDER_ID, OrderStatus.FILLED, unreported, Decimal(2))

    worker.check(job, job.legs[0])

    [fill] = _fills(journal)
    rate = DEFAULT_ASSUMED_COMMISSION_USD  # the Recorder's default rate
    assert (fill.quantity, fill.price, fill.commission_usd) == (2, Decimal("2.45"), rate * 2)
    assert [e.event for e in journal.safety_events()] == ["commission_assumed"]
