"""An order whose placement got no answer: never sent twice (real journal; the broker is a
scripted stub at the process boundary, for states the simulator cannot produce on demand)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import cast

from shared.broker import Broker, OrderOutcomeUnknown, OrderTicket
from shared.circuit_breaker import BreakerSettings, CircuitBreaker, MemoryBreakerStore
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
from shared.execution import ExecutionSettings, Recorder
from shared.execution.leg_worker import LegWorker
from shared.execution.model import Job, JobKind, LegWork
from shared.journal import IntentStatus, Journal
from shared.strategy_contract import LegSpec, OrderStyle

START = datetime(2026, 1, 30, 15, 0, tzinfo=UTC)
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


def _rig(tmp_path: Path, held: int) -> tuple[LegWorker, UnansweredBroker, Journal, ManualClock]:
    clock = ManualClock(START)
    journal = Journal.open(tmp_path / "j.sqlite", clock=clock)
    broker = UnansweredBroker(held)
    worker = LegWorker(
        broker=cast(Broker, broker),
        recorder=Recorder(journal, "test_bot", lambda: ("test", {}), clock=clock),
        clock=clock,
        settings=ExecutionSettings(),
        breaker=CircuitBreaker(
            "test_bot", BreakerSettings(), clock=clock, store=MemoryBreakerStore()
        ),
        crash=lambda point: None,
    )
    return worker, broker, journal, clock


def _close_job() -> Job:
    # Buying back one short call.
    spec = LegSpec("short_call", UIC, "StockIndexOption", Side.BUY, 1, "SPXW")
    return Job(JobKind.CLOSE, "close-1", [LegWork(spec)], OrderStyle.MARKET, True, "stop")


def _statuses(journal: Journal) -> list[str]:
    rows = journal._conn.execute("SELECT status FROM order_intents ORDER BY rowid").fetchall()
    return [str(row[0]) for row in rows]


def test_an_unfound_close_with_the_position_unchanged_fails_and_the_leg_moves_on(
    tmp_path: Path,
) -> None:
    worker, broker, journal, clock = _rig(tmp_path, held=-1)
    job = _close_job()
    leg = job.legs[0]
    worker.send_next(job, leg, broker.positions())

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
    worker, broker, journal, clock = _rig(tmp_path, held=-1)
    job = _close_job()
    leg = job.legs[0]
    worker.send_next(job, leg, broker.positions())
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
