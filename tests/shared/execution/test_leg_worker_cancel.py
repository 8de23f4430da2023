"""An order that does not fill in time is cancelled, and a cancel that fails is retried, with
never a second order for the leg while the first may still fill (catalogue ORDER-002,
ORDER-003). Real journal; the broker is a stub at the process boundary."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from shared.broker import BrokerError, OrderTicket
from shared.clock import ManualClock
from shared.domain import OrderOutcome, OrderStatus, PlacedOrder, Quote, Side
from shared.execution import ExecutionSettings
from shared.execution.leg_worker import LegWorker
from shared.execution.model import Job, JobKind, LegWork
from shared.journal import IntentStatus, Journal
from shared.strategy_contract import LegSpec, OrderStyle
from tests.shared.execution.worker_rig import leg_worker

ORDER_ID = "5012345777"
TIMEOUT_S = ExecutionSettings().fill_check_timeout_seconds


class WorkingBroker:
    """Accepts every order, which stays working until cancelled; `cancel_fails` cancels
    raise as Saxo's 5xx would (the client's BrokerError)."""

    simulated = False

    def __init__(self) -> None:
        self.placed = 0
        self.cancels = 0
        self.cancel_fails = 0
        self.cancelled = False

    def quotes(self, uics: list[int], asset_type: str) -> dict[int, Quote]:
        return {}

    def place_order(self, ticket: OrderTicket, *, request_id: str) -> PlacedOrder:
        self.placed += 1
        return PlacedOrder(ORDER_ID, request_id, ticket.external_reference)

    def verify_order(self, order_id: str) -> OrderOutcome:
        status = OrderStatus.CANCELLED if self.cancelled else OrderStatus.WORKING
        return OrderOutcome(order_id, status, None, Decimal(0))

    def cancel_order(self, order_id: str) -> bool:
        self.cancels += 1
        if self.cancel_fails > 0:
            self.cancel_fails -= 1
            raise BrokerError(f"cancel {order_id} failed: 503")
        self.cancelled = True
        return True


def _rig(tmp_path: Path) -> tuple[LegWorker, WorkingBroker, Journal, Job, ManualClock]:
    broker = WorkingBroker()
    worker, journal, clock = leg_worker(tmp_path, broker)
    spec = LegSpec("long_call", 27345124, "StockIndexOption", Side.BUY, 1, "SPXW")
    job = Job(JobKind.ENTRY, "intent-1", [LegWork(spec)], OrderStyle.MARKET, True, "test")
    worker.send_next(job, job.legs[0], [])
    return worker, broker, journal, job, clock


def test_an_order_not_filled_by_its_deadline_is_cancelled_and_the_leg_moves_on(
    tmp_path: Path,
) -> None:
    worker, broker, journal, job, clock = _rig(tmp_path)
    leg = job.legs[0]

    clock.advance(timedelta(seconds=TIMEOUT_S - 1))
    worker.check(job, leg)
    assert broker.cancels == 0 and leg.order is not None  # not due yet

    clock.advance(timedelta(seconds=2))
    worker.check(job, leg)  # past fill_check_timeout_seconds: cancelled
    worker.check(job, leg)  # the broker shows it cancelled

    assert broker.cancels == 1 and broker.placed == 1
    assert leg.order is None and leg.failed_reason == "1 market attempts failed"
    [intent] = journal.intents()
    assert intent.status is IntentStatus.FAILED


def test_a_failed_cancel_is_retried_and_no_second_order_is_sent_meanwhile(
    tmp_path: Path,
) -> None:
    worker, broker, journal, job, clock = _rig(tmp_path)
    leg = job.legs[0]
    broker.cancel_fails = 2

    clock.advance(timedelta(seconds=TIMEOUT_S + 1))
    for _ in range(2):
        with pytest.raises(BrokerError):  # Executor.step logs it and goes on
            worker.check(job, leg)
        assert leg.order is not None and not leg.order.cancel_sent
    worker.check(job, leg)  # the third cancel goes through
    worker.check(job, leg)

    assert broker.cancels == 3 and broker.placed == 1
    assert leg.order is None
    [intent] = journal.intents()
    assert intent.status is IntentStatus.FAILED
