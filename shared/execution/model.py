"""The executor's working records: settings, jobs, legs and the order in flight.

Times named `*_at` are the executor clock's `monotonic()` seconds (simulated seconds in local
mode); `sent_utc` is a UTC instant (for broker look-ups). Jobs persist as plain JSON through
`job_to_json` / `job_from_json`, saved in the same journal transaction as every order intent.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from shared.config.envelope import ExecutionSection
from shared.domain import OrderType
from shared.strategy.codec import leg_spec_from_json as leg_from_json
from shared.strategy.codec import leg_spec_to_json as leg_to_json
from shared.strategy_contract import LegFill, LegSpec, OrderStyle

# USD per contract recorded when the broker reports no commission (config default; see
# `execution.assumed_commission_per_contract_usd`).
DEFAULT_ASSUMED_COMMISSION_USD = Decimal("0.65")


@dataclass(frozen=True)
class ExecutionSettings:
    """The config's `execution` section in plain values (seconds, USD per share)."""

    ladder_steps_percent: tuple[Decimal, ...] = (
        Decimal(0), Decimal(0), Decimal(5), Decimal(5), Decimal(10), Decimal(10),
    )  # fmt: skip
    ladder_step_seconds: float = 60.0
    market_after_ladder: bool = True
    max_market_spread_usd: Decimal = Decimal("2.00")
    fill_check_timeout_seconds: float = 30.0
    emergency_close_attempts: int = 5
    emergency_close_spacing_seconds: float = 2.0
    entry_market_attempts: int = 1
    unknown_lookup_seconds: float = 60.0
    stuck_retry_seconds: float = 30.0
    assumed_commission_per_contract_usd: Decimal = DEFAULT_ASSUMED_COMMISSION_USD

    @classmethod
    def from_section(cls, section: ExecutionSection) -> ExecutionSettings:
        return cls(
            ladder_steps_percent=tuple(section.ladder_steps_percent),
            ladder_step_seconds=section.ladder_step_seconds,
            market_after_ladder=section.market_after_ladder,
            max_market_spread_usd=section.max_market_spread_usd,
            fill_check_timeout_seconds=section.fill_check_timeout_seconds,
            emergency_close_attempts=section.emergency_close_attempts,
            emergency_close_spacing_seconds=section.emergency_close_spacing_seconds,
            assumed_commission_per_contract_usd=section.assumed_commission_per_contract_usd,
        )


class JobKind(StrEnum):
    ENTRY = "entry"
    CLOSE = "close"


class Phase(StrEnum):
    WORKING = "working"  # legs being worked in order
    UNWINDING = "unwinding"  # an entry attempt failed: its filled legs are being closed
    WAIT_RETRY = "wait_retry"  # an entry attempt was unwound: the next attempt waits
    CONFIRMING = "confirming"  # a close filled: waiting for the broker to show it flat
    STUCK = "stuck"  # a close could not complete: retried after stuck_retry_seconds
    DONE = "done"


@dataclass
class OrderWork:
    """One order of one leg: written as an intent, then sent, then verified."""

    request_id: str
    external_reference: str
    order_type: OrderType
    quantity: int
    limit_price: Decimal | None
    reference_price: Decimal | None
    sent_utc: datetime
    deadline_at: float
    order_id: str | None = None
    unknown_since_at: float | None = None
    cancel_sent: bool = False
    recorded_qty: int = 0
    held_at_send: int | None = None  # signed contracts the broker showed when it was sized
    unfound_alarmed: bool = False


@dataclass
class LegWork:
    """Progress of one leg: what is filled, the ladder step, the order in flight."""

    spec: LegSpec
    filled_qty: int = 0
    fills: list[LegFill] = field(default_factory=list)
    order: OrderWork | None = None
    step_index: int = 0
    market_attempts: int = 0
    next_try_at: float = 0.0
    failed_reason: str | None = None
    # A close leg that failed this round: the close works its other legs meanwhile (see
    # `Executor._leg_to_work`) and tries it again at the stuck retry. Not persisted.
    deferred: bool = False

    @property
    def remaining(self) -> int:
        return self.spec.quantity - self.filled_qty

    @property
    def done(self) -> bool:
        return self.remaining <= 0


@dataclass
class Job:
    """One OpenPosition or ClosePosition being carried out."""

    kind: JobKind
    intent_id: str
    legs: list[LegWork]
    style: OrderStyle
    urgent: bool
    reason: str
    max_attempts: int = 1
    attempt_spacing_s: float = 0.0
    attempt: int = 1
    trade_id: int | None = None
    phase: Phase = Phase.WORKING
    wait_until_at: float = 0.0
    unwind: Job | None = None
    ever_filled: bool = False
    all_fills: list[LegFill] = field(default_factory=list)
    report_as: str | None = None  # a close that unwinds an entry reports under its intent
    stuck_reported: bool = False
    confirm_deadline_at: float = 0.0

    @property
    def current_leg(self) -> LegWork | None:
        return next((leg for leg in self.legs if not leg.done), None)


def job_to_json(job: Job) -> dict[str, Any]:
    """What a restart needs to finish or unwind `job` (fills themselves are in the journal)."""
    return {
        "kind": job.kind.value,
        "intent_id": job.intent_id,
        "legs": [leg_to_json(leg.spec) for leg in job.legs],
        "style": job.style.value,
        "urgent": job.urgent,
        "reason": job.reason,
        "attempt": job.attempt,
        "max_attempts": job.max_attempts,
        "trade_id": job.trade_id,
        "report_as": job.report_as,
        "unwind": None if job.unwind is None else job_to_json(job.unwind),
    }


def job_from_json(raw: dict[str, Any]) -> Job:
    job = Job(
        kind=JobKind(raw["kind"]),
        intent_id=str(raw["intent_id"]),
        legs=[LegWork(leg_from_json(leg)) for leg in raw["legs"]],
        style=OrderStyle(raw["style"]),
        urgent=bool(raw["urgent"]),
        reason=str(raw["reason"]),
        attempt=int(raw["attempt"]),
        max_attempts=int(raw["max_attempts"]),
        trade_id=raw.get("trade_id"),
        report_as=raw.get("report_as"),
    )
    if raw.get("unwind"):
        job.unwind = job_from_json(raw["unwind"])
    return job
