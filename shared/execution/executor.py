"""The executor: carries out OpenPosition / ClosePosition as non-blocking state machines.

`submit()` starts a job; `step()` (each loop pass and on ticks) advances every job as far as
it can without waiting: it sends at most what is due, verifies without waiting, and leaves
timers (ladder steps, attempt spacing, stuck retries) to later passes. Entries are legs in the
given order; a failed leg unwinds the filled ones (newest first) and the entry is retried up to
`max_attempts` times `attempt_spacing_s` apart; each unwound attempt is closed in the journal as a
trade of its own (`entry_unwound`, its realized P&L) and the next attempt opens a new trade, so
the final report carries only the successful attempt's fills. Closes never ask the circuit
breaker and never give up: a close that cannot complete reports `stuck` and is retried. A close
leg that fails does not hold back the legs after it that only reduce risk: buy-to-close legs
(shorts) always, sell-to-close legs (longs) once no short of the close is left; the failed leg
is tried again at the stuck retry. At most
one job works an instrument: a job sends nothing on a uic while an earlier job that has it is
not done (so two closes never over-close while the broker's positions lag a fill). Reports for
the strategy queue up in `drain_reports()`. Job progress persists with every intent, so a
restart finishes a close and unwinds an interrupted entry (`restore_jobs`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import Any

from shared.broker import Broker, BrokerError
from shared.circuit_breaker import CircuitBreaker
from shared.clock import Clock
from shared.domain import Position, Side
from shared.execution.leg_worker import CrashHook, LegWorker
from shared.execution.model import (
    ExecutionSettings,
    Job,
    JobKind,
    LegWork,
    Phase,
    job_from_json,
    job_to_json,
)
from shared.execution.recorder import Recorder, net_by_leg, net_by_uic
from shared.execution.unwind import (
    entry_complete,
    replanned_close,
    restored_entry_unwind,
    unwind_job,
)
from shared.journal import Fill, JournalError, TradeRecord
from shared.logger_service import kv
from shared.strategy_contract import (
    ClosePosition,
    ExecutionReport,
    ExecutionStatus,
    LegFill,
    OpenPosition,
    OrderStyle,
)

logger = logging.getLogger(__name__)

EntryGate = Callable[[], str | None]  # why new entries are blocked now, or None


def _no_crash(point: str) -> None:
    return None


class Executor:
    """Runs jobs for one bot; used from the loop thread only."""

    def __init__(
        self,
        *,
        broker: Broker,
        recorder: Recorder,
        clock: Clock,
        settings: ExecutionSettings,
        breaker: CircuitBreaker,
        entry_gate: EntryGate | None = None,
        crash: CrashHook | None = None,
    ) -> None:
        self._broker = broker
        self._recorder = recorder
        self._clock = clock
        self._settings = settings
        self._breaker = breaker
        self._gate = entry_gate or (lambda: None)
        self._crash = crash or _no_crash
        self._worker = LegWorker(
            broker=broker,
            recorder=recorder,
            clock=clock,
            settings=settings,
            breaker=breaker,
            crash=self._crash,
        )
        self.jobs: list[Job] = []
        self._reports: list[ExecutionReport] = []

    # --- public --------------------------------------------------------------------------
    @property
    def busy(self) -> bool:
        return bool(self.jobs)

    @property
    def closing(self) -> bool:
        """True while any close (or unwind) is being worked: no new entries meanwhile."""
        return self._closing_besides(None)

    def _closing_besides(self, own: Job | None) -> bool:
        return any(
            j is not own and (j.kind is JobKind.CLOSE or j.phase is Phase.UNWINDING)
            for j in self.jobs
        )

    def active_uics(self) -> set[int]:
        return {leg.spec.uic for job in self.jobs for leg in job.legs}

    def drain_reports(self) -> list[ExecutionReport]:
        reports, self._reports = self._reports, []
        return reports

    def export_jobs(self) -> list[dict[str, Any]]:
        return [job_to_json(job) for job in self.jobs if job.phase is not Phase.DONE]

    def submit(self, action: OpenPosition | ClosePosition, *, trade_id: int | None = None) -> None:
        """Start carrying out `action` (reports come through `drain_reports`).

        `trade_id` (closes only) names the journal trade the close belongs to (e.g. an adopted
        orphan); without it a close is journaled into the open trade holding its uics."""
        if any(job.intent_id == action.intent_id for job in self.jobs):
            logger.info(kv("intent_already_active", intent=action.intent_id))
            return
        if isinstance(action, OpenPosition):
            self._submit_entry(action)
        else:
            self._submit_close(action, trade_id)
        self.step()

    def step(self) -> None:
        """Advance every job as far as possible without waiting."""
        for job in list(self.jobs):
            try:
                self._advance(job)
            except BrokerError as exc:
                logger.warning(kv("executor_broker_error", intent=job.intent_id, error=exc))
            if job.phase is Phase.DONE:
                self.jobs.remove(job)
                self._recorder.save_state()

    def abort_entries(self, why: str, *, intent_id: str | None = None) -> None:
        """Stop building entries (only `intent_id` when given): the order in flight is
        cancelled at once, filled legs are unwound, and no further attempt starts."""
        for job in self.jobs:
            if intent_id is not None and job.intent_id != intent_id:
                continue
            if job.kind is JobKind.ENTRY and job.phase in (Phase.WORKING, Phase.WAIT_RETRY):
                logger.warning(kv("entry_aborted", intent=job.intent_id, reason=why))
                job.max_attempts = job.attempt
                job.reason = why
                leg = job.current_leg
                if job.phase is Phase.WAIT_RETRY:
                    self._finish_entry(job, why)
                elif leg is not None:
                    leg.failed_reason = why
                    if leg.order is not None:
                        leg.order.deadline_at = 0.0

    # --- submission ----------------------------------------------------------------------
    def _submit_entry(self, action: OpenPosition) -> None:
        blocked = self._entry_blocked(action.intent_id)
        if blocked is not None:
            logger.warning(kv("entry_refused", intent=action.intent_id, reason=blocked))
            self._report(action.intent_id, "failed", detail=blocked)
            return
        self.jobs.append(
            Job(
                kind=JobKind.ENTRY,
                intent_id=action.intent_id,
                legs=[LegWork(spec) for spec in action.legs],
                style=action.order_style,
                urgent=False,
                reason=action.reason,
                max_attempts=max(1, action.max_attempts),
                attempt_spacing_s=max(0.0, action.attempt_spacing_s),
            )
        )
        logger.info(kv("entry_started", intent=action.intent_id, legs=len(action.legs)))

    def entry_blocked_reason(self, retrying: Job | None = None) -> str | None:
        """Why a new entry (or a retry of the entry `retrying`, whose own unwind does not
        count) may not start now, or None: the circuit breaker, another close in progress, then
        the runtime's gate (reconciliation). The one place this rule lives."""
        if not self._breaker.allows_new_entries():
            return "circuit breaker does not allow new entries"
        if self._closing_besides(retrying):
            return "a close is in progress"
        return self._gate()

    def _entry_blocked(self, intent_id: str) -> str | None:
        if self._recorder.journal.has_trade_labelled(intent_id):
            return f"intent {intent_id} was already entered (journal has its trade)"
        return self.entry_blocked_reason()

    def _submit_close(self, action: ClosePosition, trade_id: int | None) -> None:
        uics = {leg.uic for leg in action.legs}
        for job in self.jobs:
            if job.kind is JobKind.ENTRY and uics & {leg.spec.uic for leg in job.legs}:
                logger.warning(
                    kv("close_aborts_entry", close=action.intent_id, entry=job.intent_id)
                )
                self.abort_entries(f"close {action.intent_id} requested")
        if trade_id is None:
            trade = self._trade_holding(uics)
            trade_id = None if trade is None else trade.trade_id
        self.jobs.append(
            Job(
                kind=JobKind.CLOSE,
                intent_id=action.intent_id,
                legs=[LegWork(spec) for spec in action.legs],
                style=action_style(action),
                urgent=action.urgent,
                reason=action.exit_reason,
                trade_id=trade_id,
            )
        )
        logger.info(kv("close_started", intent=action.intent_id, reason=action.exit_reason,
                       trade_id=trade_id))  # fmt: skip

    def _trade_holding(self, uics: set[int]) -> TradeRecord | None:
        for trade in self._recorder.journal.open_trades():
            if uics & set(net_by_uic(trade)):
                return trade
        return None

    # --- advancing -----------------------------------------------------------------------
    def _advance(self, job: Job) -> None:
        now = self._clock.monotonic()
        if job.phase is Phase.WAIT_RETRY:
            if now >= job.wait_until_at:
                self._next_attempt(job)
            return
        if job.phase is Phase.UNWINDING:
            self._advance_unwind(job)
            return
        if job.phase is Phase.STUCK:
            if now < job.wait_until_at:
                return
            job.phase = Phase.WORKING
            for waiting in job.legs:
                waiting.deferred = False
        if job.phase is Phase.CONFIRMING:
            self._confirm_close(job)
            return
        positions: list[Position] | None = None
        while job.phase is Phase.WORKING:
            leg = _leg_to_work(job)
            if leg is None:
                if any(not left.done for left in job.legs):  # only failed close legs are left
                    job.phase = Phase.STUCK  # until the retry, which works them all again
                    job.wait_until_at = (
                        self._clock.monotonic() + self._settings.stuck_retry_seconds
                    )
                else:
                    self._all_filled(job)
                return
            if leg.order is None and leg.failed_reason is None:
                if self._clock.monotonic() < leg.next_try_at and leg.market_attempts > 0:
                    return
                if self._worked_before(job, leg.spec.uic):
                    return
                positions = self._broker.positions() if positions is None else positions
                self._worker.send_next(job, leg, positions)
                positions = None  # a send changes what is held: read again next time
            if leg.order is not None:
                self._worker.check(job, leg)
            if leg.failed_reason is not None and leg.order is None:
                self._leg_failed(job, leg)  # an entry leaves WORKING; a close moves on
                continue
            if not leg.done:
                return

    def _all_filled(self, job: Job) -> None:
        if job.kind is JobKind.ENTRY:
            job.phase = Phase.DONE
            self._report(job.intent_id, "filled", fills=job.all_fills, attempt=job.attempt)
            logger.info(kv("entry_filled", intent=job.intent_id, trade_id=job.trade_id))
            return
        job.phase = Phase.CONFIRMING
        job.confirm_deadline_at = (
            self._clock.monotonic() + self._settings.fill_check_timeout_seconds
        )
        self._confirm_close(job)

    def _confirm_close(self, job: Job) -> None:
        positions = self._broker.positions()
        uics = {leg.spec.uic for leg in job.legs}
        trade = self._journal_trade(job.trade_id)
        still = net_by_uic(trade) if trade is not None else {}
        # Held on purpose: by this trade or another open one (an orphan's close leaves the
        # bot's own contracts on the same uic).
        kept = set(still).union(*(net_by_uic(t) for t in self._recorder.journal.open_trades()))
        left = [p for p in positions if p.uic in uics and p.amount != 0 and p.uic not in kept]
        if left and self._clock.monotonic() < job.confirm_deadline_at:
            return
        if left:
            if not job.stuck_reported:
                job.stuck_reported = True
                self._recorder.safety_event(
                    "close_not_flat",
                    f"close {job.intent_id} filled but the broker still shows positions",
                    {"uics": sorted(p.uic for p in left)},
                )
                self._report(job.report_as or job.intent_id, "stuck", detail="broker not flat")
            job.confirm_deadline_at = self._clock.monotonic() + self._settings.stuck_retry_seconds
            return
        job.phase = Phase.DONE
        if trade is not None and trade.is_open and not still and job.report_as is None:
            self._recorder.close_trade(trade.trade_id, job.reason, self._clock.now())
        if job.report_as is None:
            self._report(job.intent_id, "closed", fills=job.all_fills)
        logger.info(kv("close_done", intent=job.intent_id, trade_id=job.trade_id))

    def _leg_failed(self, job: Job, leg: LegWork) -> None:
        reason = leg.failed_reason or "leg failed"
        if job.kind is JobKind.CLOSE:
            leg.failed_reason = None
            leg.market_attempts = 0
            leg.step_index = 0
            leg.deferred = True  # the loop works the next leg, or waits for the retry
            if not job.stuck_reported:
                job.stuck_reported = True
                self._recorder.safety_event(
                    "close_stuck",
                    f"close {job.intent_id} leg {leg.spec.leg} failed: {reason}; retrying",
                    {"leg": leg.spec.leg, "uic": leg.spec.uic},
                )
                self._report(job.report_as or job.intent_id, "stuck", detail=reason)
            return
        logger.warning(kv("entry_attempt_failed", intent=job.intent_id, leg=leg.spec.leg,
                          attempt=job.attempt, reason=reason))  # fmt: skip
        self._breaker.record_failure(f"entry {job.intent_id} leg {leg.spec.leg}: {reason}")
        job.reason = reason
        job.unwind = unwind_job(job, "entry_unwound")
        if job.unwind is None:
            self._attempt_over(job)
        else:
            job.phase = Phase.UNWINDING
            self._advance_unwind(job)

    def _advance_unwind(self, job: Job) -> None:
        unwind = job.unwind
        assert unwind is not None
        self._advance(unwind)
        if unwind.phase is Phase.DONE:
            job.unwind = None
            self._attempt_over(job)
        elif unwind.phase is Phase.STUCK and not job.stuck_reported:
            job.stuck_reported = True

    def _attempt_over(self, job: Job) -> None:
        """An entry attempt failed and nothing of it is open any more."""
        if job.attempt < job.max_attempts:
            blocked = self.entry_blocked_reason(retrying=job)
            if blocked is None:
                self._close_attempt_trade(job)
                job.phase = Phase.WAIT_RETRY
                job.wait_until_at = self._clock.monotonic() + job.attempt_spacing_s
                self._report(job.intent_id, "in_progress", detail=f"attempt failed: {job.reason}",
                             attempt=job.attempt)  # fmt: skip
                return
            job.reason = f"{job.reason}; no retry: {blocked}"
        self._finish_entry(job, job.reason)

    def _close_attempt_trade(self, job: Job) -> None:
        """An unwound attempt stays in the journal as a trade of its own (closed, with its own
        realized P&L); the next attempt opens a new trade and reports only its own fills. An
        attempt that filled nothing leaves its trade (intents only) to the next attempt."""
        job.all_fills = []
        trade = self._journal_trade(job.trade_id)
        if trade is None or not trade.fills:
            return
        if trade.is_open:
            self._recorder.close_trade(trade.trade_id, "entry_unwound", self._clock.now())
        job.trade_id = None

    def _next_attempt(self, job: Job) -> None:
        blocked = self.entry_blocked_reason(retrying=job)
        if blocked is not None:
            self._finish_entry(job, f"{job.reason}; no retry: {blocked}")
            return
        job.attempt += 1
        job.legs = [LegWork(leg.spec) for leg in job.legs]
        job.phase = Phase.WORKING
        logger.info(kv("entry_retry", intent=job.intent_id, attempt=job.attempt))

    def _finish_entry(self, job: Job, detail: str) -> None:
        job.phase = Phase.DONE
        status: ExecutionStatus = "unwound" if job.ever_filled else "failed"
        trade = self._journal_trade(job.trade_id)
        if trade is not None and trade.is_open:
            self._recorder.close_trade(trade.trade_id, "entry_failed", self._clock.now())
        self._report(job.intent_id, status, fills=job.all_fills, detail=detail,
                     attempt=job.attempt)  # fmt: skip
        logger.warning(kv("entry_failed", intent=job.intent_id, status=status, detail=detail))

    # --- restart -------------------------------------------------------------------------
    def restore_jobs(self, saved: Sequence[dict[str, Any]]) -> None:
        """Re-plan the jobs saved before a restart (after reconciliation recorded ghost fills):
        a complete entry is reported filled, an incomplete one is unwound, a close resumes."""
        for raw in saved:
            try:
                job = job_from_json(raw)
            except (KeyError, TypeError, ValueError) as exc:
                self._recorder.safety_event("job_unreadable", f"saved job unreadable: {exc}")
                continue
            if job.trade_id is None:
                label = job.report_as or job.intent_id
                found = self._recorder.journal.trades_labelled(label)
                job.trade_id = found[-1].trade_id if found else None
            trade = self._journal_trade(job.trade_id)
            if job.kind is JobKind.ENTRY:
                self._restore_entry(job, trade)
            else:
                replanned = replanned_close(job, net_by_uic(trade) if trade else None)
                self.jobs.append(replanned)
                logger.warning(kv("close_resumed", intent=job.intent_id,
                                  legs=len(replanned.legs)))  # fmt: skip
        self.step()

    def _restore_entry(self, job: Job, trade: TradeRecord | None) -> None:
        by_leg = net_by_leg(trade) if trade is not None else {}
        if trade is not None and job.unwind is None and entry_complete(job, by_leg):
            fills = tuple(_leg_fill(f) for f in trade.fills)
            self._report(job.intent_id, "filled", fills=list(fills), attempt=job.attempt,
                         detail="completed before the restart")  # fmt: skip
            return
        job.max_attempts = job.attempt  # never re-enter an interrupted entry
        job.ever_filled = bool(by_leg)
        job.reason = "entry interrupted by a restart"
        job.unwind = restored_entry_unwind(job, by_leg)
        if job.unwind is None:
            job.phase = Phase.DONE
            self._finish_entry(job, job.reason)
            return
        job.phase = Phase.UNWINDING
        self.jobs.append(job)
        logger.warning(kv("entry_unwinding_after_restart", intent=job.intent_id))

    # --- helpers -------------------------------------------------------------------------
    def _worked_before(self, job: Job, uic: int) -> bool:
        """True while a job submitted before `job` (its unwind included) is not done and has
        `uic` among its legs: at most one job works an instrument, so a second close never
        sends an order sized on positions that do not show the first one's fill yet."""
        root = next((j for j in self.jobs if j is job or j.unwind is job), job)
        for other in self.jobs:
            if other is root:
                return False
            if other.phase is not Phase.DONE and uic in _job_uics(other):
                logger.debug(kv("uic_worked_by_other_job", intent=job.intent_id, uic=uic,
                               by=other.intent_id))  # fmt: skip
                return True
        return False

    def _journal_trade(self, trade_id: int | None) -> TradeRecord | None:
        if trade_id is None:
            return None
        try:
            return self._recorder.journal.trade(trade_id)
        except JournalError:
            return None

    def _report(
        self,
        intent_id: str,
        status: ExecutionStatus,
        *,
        fills: Sequence[LegFill] = (),
        detail: str = "",
        attempt: int = 1,
    ) -> None:
        self._reports.append(ExecutionReport(intent_id, status, tuple(fills), detail, attempt))


def _job_uics(job: Job) -> set[int]:
    uics = {leg.spec.uic for leg in job.legs}
    return uics if job.unwind is None else uics | _job_uics(job.unwind)


def action_style(action: ClosePosition) -> OrderStyle:
    """Closes use the ladder unless urgent (market at once)."""
    return OrderStyle.MARKET if action.urgent else OrderStyle.LIMIT_LADDER


def _leg_fill(fill: Fill) -> LegFill:
    return LegFill(
        leg=fill.leg,
        uic=fill.uic,
        side=Side(fill.side.value),
        quantity=fill.quantity,
        price=fill.price,
        commission_usd=fill.commission_usd,
        filled_at=fill.filled_at,
        multiplier=fill.multiplier,
        simulated=fill.simulated,
    )


def _leg_to_work(job: Job) -> LegWork | None:
    """The leg `job` works next: the first leg not done, in the given order. Once a close leg
    has failed (deferred until the stuck retry), the first later leg that only reduces risk:
    a buy to close (a short) always, a sell to close (a long) only when no short of the close is
    left, so longs never go before the shorts they cover."""
    if not any(leg.deferred for leg in job.legs):
        return job.current_leg
    shorts_left = any(leg.spec.side is Side.BUY and not leg.done for leg in job.legs)
    for leg in job.legs:
        if leg.done or leg.deferred:
            continue
        if leg.spec.side is Side.BUY or not shorts_left:
            return leg
    return None
