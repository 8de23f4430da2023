"""An order whose placement got no answer: never sent twice (real journal; the broker is a
scripted stub at the process boundary, for states the simulator cannot produce on demand)."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path

from shared.broker import OrderOutcomeUnknown, OrderTicket
from shared.clock import ManualClock
from shared.domain import (
    Fill,
    OrderOutcome,
    OrderStatus,
    PlacedOrder,
    Position,
    Quote,
    Side,
)
from shared.execution import ExecutionSettings
from shared.execution.leg_worker import LegWorker
from shared.execution.model import Job, JobKind, LegWork
from shared.journal import IntentStatus, Journal
from shared.strategy_contract import LegSpec, OrderStyle
from tests.shared.execution.worker_rig import START, leg_worker

UIC = 27345123
LOOKUP_S = ExecutionSettings().unknown_lookup_seconds


class UnansweredBroker:
    """Every placement goes unanswered; lookups, positions and verification are scripted."""

    simulated = False

    def __init__(self, held: int) -> None:
        self.held = held
        self.sent: list[OrderTicket] = []
        self.found: str | None = None
        self.outcome: OrderOutcome | None = None

    def quotes(self, uics: list[int], asset_type: str) -> dict[int, Quote]:
        return {}

    def positions(self) -> list[Position]:
        if self.held == 0:
            return []
        return [
            Position(
                position_id="p-1",
                uic=UIC,
                asset_type="StockIndexOption",
                amount=Decimal(self.held),
                open_price=Decimal("2.40"),
                current_price=None,
            )
        ]

    def place_order(self, ticket: OrderTicket, *, request_id: str) -> PlacedOrder:
        self.sent.append(ticket)
        raise OrderOutcomeUnknown("503 Service Unavailable")

    def find_order(self, external_reference: str, since: datetime) -> str | None:
        return self.found

    def verify_order(self, order_id: str) -> OrderOutcome:
        assert self.outcome is not None
        return self.outcome

    def cancel_order(self, order_id: str) -> bool:
        return True


def _sent_close(tmp_path: Path) -> tuple[LegWorker, UnansweredBroker, Journal, ManualClock, Job]:
    """A close buying back one short call whose order went unanswered."""
    broker = UnansweredBroker(held=-1)
    worker, journal, clock = leg_worker(tmp_path, broker)
    spec = LegSpec("short_call", UIC, "StockIndexOption", Side.BUY, 1, "SPXW")
    job = Job(JobKind.CLOSE, "close-1", [LegWork(spec)], OrderStyle.MARKET, True, "stop")
    worker.send_next(job, job.legs[0], broker.positions())
    return worker, broker, journal, clock, job


def _statuses(journal: Journal) -> list[str]:
    rows = journal._conn.execute("SELECT status FROM order_intents ORDER BY rowid").fetchall()
    return [str(row[0]) for row in rows]


def test_an_unfound_close_with_the_position_unchanged_fails_and_the_leg_moves_on(
    tmp_path: Path,
) -> None:
    worker, _, journal, clock, job = _sent_close(tmp_path)
    leg = job.legs[0]

    worker.check(job, leg)  # looked up, not found, still inside the window
    assert leg.order is not None and _statuses(journal) == [IntentStatus.UNKNOWN.value]

    clock.advance(timedelta(seconds=LOOKUP_S + 1))
    worker.check(job, leg)

    assert leg.order is None and leg.market_attempts == 1  # the next order may be sent
    assert _statuses(journal) == [IntentStatus.FAILED.value]
    assert [e.event for e in journal.safety_events()] == ["order_not_found"]


def test_an_unfound_close_whose_position_moved_is_never_followed_by_a_second_order(
    tmp_path: Path,
) -> None:
    worker, broker, journal, clock, job = _sent_close(tmp_path)
    leg = job.legs[0]
    broker.held = 0  # the unanswered order did reach the broker and filled, unseen so far

    for _ in range(3):
        clock.advance(timedelta(seconds=LOOKUP_S))
        worker.check(job, leg)

    assert len(broker.sent) == 1 and leg.order is not None  # still the first order, unknown
    assert _statuses(journal) == [IntentStatus.UNKNOWN.value]
    assert [e.event for e in journal.safety_events()] == ["order_unfound_position_moved"]

    broker.found = "5012345690"
    broker.outcome = OrderOutcome(
        "5012345690",
        OrderStatus.FILLED,
        Fill(
            order_id="5012345690",
            uic=UIC,
            side=Side.BUY,
            amount=Decimal(1),
            price=Decimal("1.10"),
            filled_at=START,
            source="activities",
            commission=Decimal("0.65"),
        ),
        Decimal(1),
    )
    worker.check(job, leg)

    assert leg.done and leg.order is None and len(broker.sent) == 1
    assert [(f.price, f.commission_usd) for f in leg.fills] == [(Decimal("1.10"), Decimal("0.65"))]
    assert _statuses(journal) == [IntentStatus.FILLED.value]
