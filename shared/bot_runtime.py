"""The bot loop: one runtime for every strategy (start, iterate, protect, stop).

Start: reconcile (ghost fills, orphans) -> restore executor jobs -> restore the strategy ->
READY. Each iteration is isolated: `max_consecutive_errors` failures in a row exit 1 when flat;
while holding (strategy, executor or journal) the process never gives up: it retries with a
backoff, keeps the watchdog fed, counts breaker failures (no new entries) and raises
`loop_failing_in_position` once (`loop_recovered` when a pass succeeds again). Each pass: day
rollover, closed-market sleep, periodic reconciliation (and on a new day's first open pass, so
expired options are booked before the strategy decides), executor step, snapshot, decide,
execute, heartbeat and health lines, WATCHDOG after a healthy pass. Between iterations the loop
waits on the tick queue with the poll timeout, so a streamed tick wakes it at once and stop
conditions are evaluated on the tick. SIGTERM/SIGINT: finish or unwind the step in progress,
persist, exit 0 within the grace period. Times: UTC from the injected clock; New York days.
Google Sheets: rows are queued in the journal's outbox (`SheetsFeed`); the mirror's own thread
delivers them, so the loop never waits on Sheets.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import date, datetime, timedelta
from typing import Any

from shared import market_hours
from shared.alerts.hook import AlertHook
from shared.alerts.worker import AlertChannel
from shared.broker import Broker, PriceFeed
from shared.circuit_breaker import CircuitBreaker
from shared.clock import Clock, WallClock
from shared.config.envelope import LoopSection, MarketDataSection
from shared.domain import Position
from shared.event_calendar import EventCalendar
from shared.execution import ExecutionSettings, Executor, Recorder
from shared.execution.leg_worker import CrashHook
from shared.external_price_feed import PriceFallback
from shared.journal import Journal
from shared.logger_service import kv, redact
from shared.reconciliation import Reconciler
from shared.runtime import precheck
from shared.runtime.calendar_watch import CalendarWatch
from shared.runtime.health import Notifier, health_line
from shared.runtime.position_poll import PositionPoll
from shared.runtime.protection import Protector
from shared.runtime.signals import InterruptibleClock, StopFlag
from shared.runtime.snapshot import SnapshotBuilder
from shared.runtime.ticks import TickQueue
from shared.sheets.feed import SheetsFeed
from shared.sheets.mirror import MirrorControl
from shared.strategy_contract import (
    AbortEntry,
    Action,
    ClosePosition,
    ExecutionReport,
    LegSpec,
    OpenPosition,
    RecordEvent,
    Snapshot,
    Strategy,
)

logger = logging.getLogger(__name__)

EXIT_OK = 0
EXIT_ERRORS = 1
BUSY_POLL_SECONDS = 1.0  # runtime-clock seconds between passes while an order is worked
STOP_GRACE_REAL_S = 8.0
SHEETS_STOP_MAX_S = 1.5  # after the executor's grace: the whole stop stays within systemd's 10 s
PRE_OPEN_LEAD = timedelta(minutes=5)
OUTAGE_BACKOFF_MAX_S = 30.0  # runtime-clock seconds between passes at most while failing


class _Stopping(Exception):
    """Internal: a stop was requested during the closed-market sleep."""


class BotRuntime:
    """Runs one strategy against one broker until stopped."""

    def __init__(
        self,
        *,
        bot: str,
        strategy: Strategy,
        broker: Broker,
        journal: Journal,
        clock: Clock,
        breaker: CircuitBreaker,
        loop: LoopSection,
        market_data: MarketDataSection,
        execution: ExecutionSettings,
        calendar: EventCalendar,
        crash: CrashHook | None = None,
        notifier: Notifier | None = None,
        stop: StopFlag | None = None,
        clock_speed: float | Callable[[], float] = 1.0,
        use_stream: bool = True,
        mirror: MirrorControl | None = None,
        environment: str = "",
        vix_fallback: PriceFallback | None = None,
        alerts: AlertChannel | None = None,
    ) -> None:
        self.bot = bot
        self.strategy = strategy
        self.broker = broker
        self.journal = journal
        self.clock = clock
        self.breaker = breaker
        self.loop = loop
        self.market_data = market_data
        self.notifier = notifier or Notifier()
        self.ticks = TickQueue()
        self.stop = stop or StopFlag()
        self._speed = clock_speed if callable(clock_speed) else (lambda: clock_speed)
        self._use_stream = use_stream
        # Sheets: rows are queued in the journal here; the mirror's own thread delivers them.
        self.sheets = SheetsFeed(
            bot=bot, journal=journal, clock=clock, mirror=mirror, environment=environment
        )
        # Alerts: queued in the journal with the fact; the sender's own thread delivers them.
        self.alerts = AlertHook(bot=bot, clock=clock, channel=alerts)
        breaker.on_change = lambda state, why: self.alerts.breaker_changed(journal, state, why)
        self.recorder = Recorder(
            journal,
            bot,
            self._state,
            clock=clock,
            on_outbox=self.sheets.notify,
            assumed_commission_per_contract_usd=execution.assumed_commission_per_contract_usd,
            alerts=self.alerts,
        )
        self._entry_legs: dict[str, tuple[LegSpec, ...]] = {}
        self.reconciler = Reconciler(broker=broker, recorder=self.recorder, clock=clock)
        self.executor = Executor(
            broker=broker,
            recorder=self.recorder,
            clock=clock,
            settings=execution,
            breaker=breaker,
            entry_gate=self.reconciler.blocking_reason,
            crash=crash,
        )
        self.protector = Protector(
            broker=broker,
            recorder=self.recorder,
            executor=self.executor,
            clock=clock,
            no_price_close_seconds=market_data.no_price_close_seconds,
        )
        self.builder = SnapshotBuilder(
            broker=broker, calendar=calendar, stale_s=market_data.stream_stale_seconds,
            vix_fallback=vix_fallback,
        )
        self.position_poll = PositionPoll(broker=broker, journal=journal, clock=clock)
        self.calendar_watch = CalendarWatch(calendar=calendar, recorder=self.recorder,
                                            journal=journal)  # fmt: skip
        self.feed: PriceFeed | None = None
        self.errors = 0
        self._outage_reported = False
        self.iterations = 0
        self._day: date | None = None
        self._next_reconcile = 0.0
        self._next_heartbeat = 0.0
        self._next_health = 0.0
        self._positions: list[Position] = []
        self._saved_state_name: str | None = None

    @property
    def speed(self) -> float:
        """Clock seconds per real second now: 1 live, the simulator's current speed in local
        mode (read at every wait, so a speed change through the simulator takes effect)."""
        return self._speed()

    # --- state persisted with every intent ----------------------------------------------
    def _state(self) -> tuple[str, dict[str, Any]]:
        self._saved_state_name = self.strategy.state_name()  # every journal save comes here
        return self._saved_state_name, {
            "strategy": self.strategy.export_state(),
            "runtime": {"jobs": self.executor.export_jobs()},
        }

    # --- lifecycle -----------------------------------------------------------------------
    def run(self) -> int:
        """Start, loop until stopped; returns the process exit code."""
        self.stop._on_stop = self.ticks.wake
        self.start()
        code = self._loop()
        self.shutdown()
        return code

    def start(self) -> None:
        """Reconcile, restore the executor's jobs and the strategy, then signal READY."""
        now = self.clock.now()
        logger.info(kv("runtime_start", bot=self.bot, simulated=self.broker.simulated))
        self.sheets.start()  # no network call on this thread; rows queued from now on flow
        self.alerts.start()
        if self._use_stream:
            self.feed = self.broker.open_price_feed(self.ticks.put)
            self.builder.feed = self.feed
        self.reconciler.run()
        saved = self.journal.load_state(self.bot)
        payload = saved.payload if saved is not None else {}
        jobs = payload.get("runtime", {}).get("jobs", []) if isinstance(payload, dict) else []
        self.executor.restore_jobs(jobs)
        broker_positions = self.broker.positions()
        self.position_poll.seed(broker_positions)
        self._positions = self._ours(broker_positions)
        actions = self.strategy.restore(payload.get("strategy"), self._positions, now)
        self._handle(actions)
        self._deliver_reports()
        self._reconcile()
        self.recorder.save_state()
        self._day = now.astimezone(market_hours.NY).date()
        last_saved = saved.updated_at if saved is not None else None
        self.alerts.missed_summary(self.journal, last_saved, now, self.strategy.state_name())
        self.protector.price_seen()
        self.notifier.ready()
        self.notifier.status(f"{self.strategy.state_name()}: running")
        logger.info(kv("runtime_ready", bot=self.bot, state=self.strategy.state_name()))

    def shutdown(self) -> None:
        """Finish or unwind what is in progress (bounded), persist, stop the stream."""
        self.notifier.stopping()
        real = WallClock()
        deadline = real.monotonic() + STOP_GRACE_REAL_S
        aborted = False
        while self.executor.busy and real.monotonic() < deadline:
            if not aborted and real.monotonic() > deadline - STOP_GRACE_REAL_S / 2:
                self.executor.abort_entries("shutting down")
                aborted = True
            try:
                self.executor.step()
                self._deliver_reports()
            except Exception:
                logger.exception(kv("shutdown_step_failed", bot=self.bot))
            if self.executor.busy:
                real.sleep(0.1)
        if self.executor.busy:
            logger.error(kv("shutdown_with_jobs", bot=self.bot, jobs=len(self.executor.jobs)))
        self.recorder.save_state()
        if self.feed is not None:
            self.feed.stop()
        self.sheets.notify()
        left = deadline + SHEETS_STOP_MAX_S - real.monotonic()  # never past ~9.5 s in all
        self.sheets.stop(min(SHEETS_STOP_MAX_S, max(0.1, left)))
        self.alerts.stop(min(1.0, max(0.1, deadline + SHEETS_STOP_MAX_S - real.monotonic())))
        logger.info(kv("runtime_stopped", bot=self.bot, state=self.strategy.state_name()))

    # --- the loop ------------------------------------------------------------------------
    def _loop(self) -> int:
        ticked: set[int] = set()
        while not self.stop.is_set():
            try:
                if ticked and not self._due_poll():
                    self._on_ticks(ticked)
                else:
                    self.iteration()
                self._recovered()
                self.notifier.watchdog()
            except _Stopping:
                break
            except Exception as exc:
                self.errors += 1
                logger.exception(
                    kv("iteration_failed", bot=self.bot, errors=self.errors, error=exc)
                )
                if self.errors >= self.loop.max_consecutive_errors:
                    if not self._holding():
                        logger.critical(kv("too_many_errors", bot=self.bot, errors=self.errors))
                        return EXIT_ERRORS
                    self._keep_protecting(exc)
            if self.stop.is_set():
                break
            remaining = max(0.0, self._next_poll - self.clock.monotonic())
            ticked = self.ticks.wait(remaining / self.speed)
        return EXIT_OK

    # --- failing while holding -----------------------------------------------------------
    def _holding(self) -> bool:
        """True while anything is held or being worked: per the strategy, the executor or the
        journal (the journal is local, so this answers during a broker outage too)."""
        return self.strategy.in_position() or self.executor.busy or bool(self.journal.open_trades())

    def _keep_protecting(self, exc: Exception) -> None:
        """`max_consecutive_errors` failed passes in a row while holding: never exit (a
        restart needs the broker, and the position would go unwatched). The next pass comes
        after a backoff (doubling from the in-position poll up to OUTAGE_BACKOFF_MAX_S), the
        breaker counts the failure (it blocks new entries), the watchdog stays fed (the loop is
        alive and retrying) and a `loop_failing_in_position` safety event is raised once per
        outage."""
        extra = self.errors - self.loop.max_consecutive_errors
        backoff = min(OUTAGE_BACKOFF_MAX_S, self.loop.poll_seconds_in_position * 2 ** min(extra, 8))
        self._next_poll = self.clock.monotonic() + backoff
        self.breaker.record_failure(f"loop iteration failed while holding: {exc}")
        self.notifier.watchdog()
        self.notifier.status(f"{self.strategy.state_name()}: failing ({self.errors} passes), "
                             "still protecting")  # fmt: skip
        if self._outage_reported:
            return
        self._outage_reported = True
        logger.critical(kv("loop_failing_in_position", bot=self.bot, errors=self.errors,
                           backoff_s=backoff, error=exc))  # fmt: skip
        self.recorder.safety_event(
            "loop_failing_in_position",
            f"{self.errors} loop passes failed in a row while holding a position; the bot "
            f"keeps retrying (every <= {OUTAGE_BACKOFF_MAX_S:.0f} s) and enters nothing new",
            {"errors": self.errors, "error": redact(str(exc))[:200]},
        )

    def _recovered(self) -> None:
        """A pass succeeded: the error count restarts; an outage reported is over."""
        if self._outage_reported:
            logger.warning(kv("loop_recovered", bot=self.bot, failed_passes=self.errors))
            self.recorder.safety_event(
                "loop_recovered",
                f"the loop works again after {self.errors} failed passes in a row",
                {"errors": self.errors},
            )
            self._outage_reported = False
        self.errors = 0

    def _poll_seconds(self) -> float:
        busy = self.strategy.in_position() or self.executor.busy
        seconds = self.loop.poll_seconds_in_position if busy else self.loop.poll_seconds_idle
        return min(seconds, BUSY_POLL_SECONDS) if self.executor.busy else seconds

    def _poll_soon_while_busy(self, since: float) -> None:
        """An order is being worked: the next pass comes at most BUSY_POLL_SECONDS after
        `since` (monotonic), also when the work started after this pass chose its timeout."""
        if self.executor.busy:
            self._next_poll = min(self._next_poll, since + BUSY_POLL_SECONDS)

    def _due_poll(self) -> bool:
        return self.clock.monotonic() >= self._next_poll

    _next_poll = 0.0

    def iteration(self) -> None:
        """One full pass (see the module docstring)."""
        now = self.clock.now()
        self.iterations += 1
        started = self.clock.monotonic()
        self._next_poll = started + self._poll_seconds()
        self._rollover(now)
        if self._market_closed(now):
            self._sleep_until_open()
            return
        self.calendar_watch.check(now)  # a day without event data: one safety event, alerted
        if self.clock.monotonic() >= self._next_reconcile and not self.executor.busy:
            self._reconcile()
        self.executor.step()
        self._deliver_reports()
        request = self.strategy.data_request(now)
        self._positions = self._ours(
            self.position_poll.current(working=self.executor.busy, on_mismatch=self._reconcile)
        )
        self.sheets.refresh(self.strategy.state_name(), self._positions)
        snapshot = self.builder.build(
            request,
            now=now,
            positions=self._positions,
            breaker_allows_entries=self._entries_allowed(),
        )
        self.protector.guard_prices(
            self._positions, {ref.uic for ref in request.quotes}, snapshot.quotes
        )
        self._handle(self.strategy.decide(snapshot))  # a submitted action is stepped at once
        self._deliver_reports()
        self._poll_soon_while_busy(started)
        self._lines()

    def _on_ticks(self, uics: set[int]) -> None:
        """A streamed tick of a uic the strategy asked ticks of (`DataRequest.tick_uics`, the
        only uics streamed): decide on fresh stream quotes, without broker calls, flat or not
        (stops; an opening range recorded from every tick). The executor is not stepped here
        (the poll runs at least every second while it is busy), so REST traffic does not grow
        with the tick rate; an order the strategy decides on the tick is submitted, and so
        stepped, at once."""
        snapshot = self.builder.on_ticks(uics, self.clock.now())
        if snapshot is not None:
            snapshot = _with_positions(snapshot, self._positions, self._entries_allowed())
            self._handle(self.strategy.decide(snapshot))
            self._deliver_reports()
            self._poll_soon_while_busy(self.clock.monotonic())

    # --- pieces --------------------------------------------------------------------------
    def _entries_allowed(self) -> bool:
        return self.executor.entry_blocked_reason() is None

    def _handle(self, actions: Sequence[Action]) -> None:
        self._act(actions)
        self._save_state_on_change()

    def _save_state_on_change(self) -> None:
        """Persist the state when the strategy's state name moved without an order (e.g. a
        skipped day going to `done`), so `calypso status` sees it; once per change."""
        if self.strategy.state_name() != self._saved_state_name:
            self.recorder.save_state()

    def _act(self, actions: Sequence[Action]) -> None:
        for action in actions:
            if isinstance(action, OpenPosition | ClosePosition):
                if isinstance(action, OpenPosition):
                    if self._precheck_refused(action):
                        continue
                    self._entry_legs[action.intent_id] = action.legs  # strikes for the OPEN row
                self.executor.submit(action)
            elif isinstance(action, AbortEntry):
                self.executor.abort_entries(action.reason, intent_id=action.intent_id)
                self.executor.step()
            elif isinstance(action, RecordEvent):
                self._record_event(action)
            else:
                logger.error(kv("unknown_action", action=type(action).__name__))

    def _precheck_refused(self, entry: OpenPosition) -> bool:
        """The broker's margin pre-check refused a new entry (an entry already being worked is
        the executor's): safety event `entry_precheck_failed`, the entry reported `failed`,
        no order sent. True when refused."""
        if any(job.intent_id == entry.intent_id for job in self.executor.jobs):
            return False
        refusal = precheck.entry_refusal(self.broker, entry)
        if refusal is None:
            return False
        self.recorder.safety_event("entry_precheck_failed",
                                   f"entry {entry.intent_id} skipped: {refusal}",
                                   {"intent_id": entry.intent_id, "refusal": refusal})  # fmt: skip
        report = ExecutionReport(entry.intent_id, "failed", detail=f"pre-check: {refusal}")
        self._handle(self.strategy.on_execution(report, self.clock.now()))
        return True

    def _record_event(self, event: RecordEvent) -> None:
        if event.kind == "safety_event":
            name = str(event.payload.get("event", event.key))
            self.recorder.safety_event(name, str(event.payload.get("description", name)),
                                       event.payload)  # fmt: skip
            return
        self.sheets.record_event(event.kind, event.key, event.payload)

    def _deliver_reports(self) -> None:
        reports = self.executor.drain_reports()
        for report in reports:
            logger.info(kv("execution_report", intent=report.intent_id, status=report.status,
                           detail=report.detail or None))  # fmt: skip
            if report.status == "filled":
                legs = self._entry_legs.pop(report.intent_id, ())
                self.sheets.entry_filled(report.intent_id, legs)
                self.alerts.trade_opened(self.journal, report.intent_id, legs)
            elif report.status in ("failed", "unwound"):
                self._entry_legs.pop(report.intent_id, None)
            self.sheets.touch()  # Dashboard and Positions at the next refresh, not in 30 s
            self._handle(self.strategy.on_execution(report, self.clock.now()))
        if reports:
            self.recorder.save_state()

    def _ours(self, positions: list[Position]) -> list[Position]:
        """The broker positions this bot holds per its journal (plus uics being worked)."""
        mine = set(self.executor.active_uics())
        for trade in self.journal.open_trades():
            mine.update(f.uic for f in trade.fills)
        return [p for p in positions if p.uic in mine and p.amount != 0]

    def _reconcile(self) -> None:
        report = self.reconciler.run(skip_uics=self.executor.active_uics())
        self.position_poll.seed(report.broker_positions)
        self._next_reconcile = self.clock.monotonic() + self.loop.reconcile_interval_seconds
        for uic, (position, excess) in report.orphans.items():
            if uic in self.executor.active_uics():
                continue
            self.protector.adopt_orphan(position, excess)
        self.protector.close_adopted_orphans(report.broker_positions)

    def _rollover(self, now: datetime) -> None:
        today = now.astimezone(market_hours.NY).date()
        if self._day is not None and today != self._day:
            pnl = self.journal.daily_pnl(self._day)
            logger.info(kv("day_rollover", bot=self.bot, previous=self._day, new=today,
                           realized_pnl_usd=pnl.realized_pnl_usd))  # fmt: skip
            self.sheets.day_closed(self._day)
            self.alerts.day_closed(self.journal, self._day, self.strategy.state_name())
            # Options expire between sessions: reconcile (which books them) on the day's first
            # open pass, before the strategy decides on a journal that still holds them. The
            # interval alone is not enough: a simulator's clock jump leaves `monotonic` behind.
            self._next_reconcile = 0.0
        self._day = today

    def _market_closed(self, now: datetime) -> bool:
        if self.executor.busy:
            return False
        seconds = market_hours.sleep_seconds_until_open(now, PRE_OPEN_LEAD, venue="index_options")
        return seconds > 0

    def _sleep_until_open(self) -> None:
        self.recorder.save_state()
        self.notifier.status(f"{self.strategy.state_name()}: market closed, sleeping")

        def on_chunk() -> None:
            if self.stop.is_set():
                raise _Stopping
            self.notifier.watchdog()
            self._rollover(self.clock.now())  # the Daily Summary is written at midnight New York
            self._lines()
            self.sheets.refresh(self.strategy.state_name(), self._positions)

        market_hours.sleep_until_open(
            InterruptibleClock(self.clock, self.stop, self._speed),
            PRE_OPEN_LEAD,
            venue="index_options",
            max_chunk=timedelta(seconds=min(60.0, 2.0 * self.speed)),
            on_chunk=on_chunk,
        )

    def _lines(self) -> None:
        now = self.clock.monotonic()
        if now >= self._next_heartbeat:
            self._next_heartbeat = now + self.loop.heartbeat_seconds
            logger.info(
                kv(
                    "heartbeat",
                    bot=self.bot,
                    state=self.strategy.state_name(),
                    in_position=self.strategy.in_position(),
                    positions=len(self._positions),
                    jobs=len(self.executor.jobs),
                    ticks=self.ticks.received,
                    iterations=self.iterations,
                )
            )
        if now >= self._next_health:
            self._next_health = now + self.loop.health_line_seconds
            quotes = dict(self.builder.last.quotes) if self.builder.last else {}
            text = health_line(self.bot, self.broker, self.strategy.state_name(),
                               self._positions, quotes)  # fmt: skip
            self.notifier.status(text)


def _with_positions(snapshot: Snapshot, positions: list[Position], allows: bool) -> Snapshot:
    return replace(snapshot, positions=tuple(positions), breaker_allows_entries=allows)
