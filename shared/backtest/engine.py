"""The backtest engine: one strategy, the shared executor and journal, a clock that jumps.

Per trading day: load the day's ticks, then step through the session. While the strategy
asks for ticks (`DataRequest.tick_uics`), holds or builds a position, or the executor works an
order, every tick is a pass (15 s apart: a minute's open, extremes and close); otherwise one
pass per minute (`IDLE_STEP`: the live loop polls more often, but an idle strategy only needs
to see the clock reach its next time rule, and minute bars are the data's resolution); and
none once the strategy is done for the day (`RESTING_STATES`), flat and with no order worked.
A pass is what the live loop does, minus I/O: step the executor, deliver its reports, build the
snapshot the strategy asked for (`LazySnapshotBuilder` over the in-process market: quotes priced
when read), `decide`, hand the actions to the executor. Orders fill through
`DryRunBroker` at the modelled bid/ask (less `slippage_ticks`) with the configured commission;
fills, trades and P&L go to the bot's journal schema, a SQLite file in a private temporary
folder (on tmpfs when there is one), copied out by `save_journal` and removed by `close`.
"""

from __future__ import annotations

import logging
import os
import shutil
import sqlite3
import tempfile
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from shared import market_hours
from shared.backtest.events import BacktestCalendar, MissingEvents
from shared.backtest.history import DailyBar
from shared.backtest.levels import HistoricalModel
from shared.backtest.market import SERVED, BacktestUnsupported, MarketData, SlippedMarketData
from shared.backtest.paths import TICK_SECONDS, DayTicks
from shared.backtest.snapshots import LazySnapshotBuilder
from shared.backtest.wake import first_exit
from shared.brokers.dry_run import DryRunBroker
from shared.circuit_breaker import CircuitBreaker
from shared.clock import ManualClock
from shared.domain import Position
from shared.execution import ExecutionSettings, Executor, Recorder
from shared.journal import Journal, TradeRecord
from shared.logger_service import kv
from shared.runtime.snapshot import SnapshotBuilder
from shared.strategy.wake import WakeHint, WakeHinting
from shared.strategy_contract import (
    AbortEntry,
    Action,
    ClosePosition,
    OpenPosition,
    RecordEvent,
    Strategy,
)

logger = logging.getLogger(__name__)

IDLE_STEP = timedelta(minutes=1)
# Strategy states (`state_name()`) in which a bot is done for the day: once flat (no position,
# no order worked) nothing before the next session can change what it does, so the rest of the
# day's passes are skipped. The Iron Fly's `done` leaves only on the next day's first decide
# (NEW_DAY) or on an entry filled after it gave up (a report, which needs an order worked); its
# decide there reads the price only for the flash window, which the new day clears.
# `tests/backtest/test_speedups.py` shows the trades are the same, byte for byte, without this.
RESTING_STATES: dict[str, frozenset[str]] = {"iron_fly_0dte": frozenset({"done"})}
_TMPFS = Path("/dev/shm")  # fsyncs of the journal's durable commits cost nothing there


@dataclass(frozen=True)
class MarketDay:
    """One day to trade: the S&P 500's ticks, the VIX level known at its open, the S&P 500's
    completed daily bars before it (oldest first; what `daily_bars` requests are served), and
    the same two for the NASDAQ Composite when the history has it."""

    ticks: DayTicks
    vix_open: float
    previous: tuple[DailyBar, ...] = ()
    nasdaq: DayTicks | None = None  # the NASDAQ Composite's ticks (QQQ), when there are
    nasdaq_previous: tuple[DailyBar, ...] = ()


@dataclass(frozen=True)
class BacktestResult:
    """What a run produced: closed trades (journal order), days traded and skipped."""

    trades: tuple[TradeRecord, ...]
    days: int
    skipped: dict[str, int]


Progress = Callable[[date], None]


class BacktestEngine:
    """Runs `strategy` over market days; see the module docstring."""

    def __init__(
        self,
        *,
        strategy: Strategy,
        config: Any,
        seed: int,
        missing_events: MissingEvents = "skip-days",
        slippage_ticks: int = 0,
        reference: bool = False,
        wake_hints: bool = True,
    ) -> None:
        """`reference=True`: no shortcut (every pass of every day, every quote priced eagerly
        by the runtime's `SnapshotBuilder`, no quote cache): what the speed-ups must equal.
        `wake_hints=False`: the strategy's wake hints are not asked (every tick is a pass)."""
        self.strategy = strategy
        self.bot = strategy.bot
        self.calendar = BacktestCalendar(missing_events)
        self.model = HistoricalModel(seed)
        self.market = MarketData(self.model, cache=not reference)
        self.clock = ManualClock(datetime(1990, 1, 1, tzinfo=market_hours.NY))
        base = _TMPFS if _TMPFS.is_dir() and os.access(_TMPFS, os.W_OK) else None
        self._folder = Path(tempfile.mkdtemp(prefix="calypso-backtest-", dir=base))
        self.journal = Journal.open(self._folder / f"{self.bot}.sqlite", clock=self.clock)
        self.broker = DryRunBroker(
            SlippedMarketData(self.market, slippage_ticks),
            clock=self.clock,
            commission_per_contract_usd=config.execution.assumed_commission_per_contract_usd,
        )
        settings = ExecutionSettings.from_section(config.execution)
        self.recorder = Recorder(self.journal, self.bot, self._state, clock=self.clock,
                                 assumed_commission_per_contract_usd=settings.
                                 assumed_commission_per_contract_usd)  # fmt: skip
        breaker = CircuitBreaker(self.bot, config.circuit_breaker.breaker_settings(),
                                 clock=self.clock, store=self.journal)  # fmt: skip
        self.executor = Executor(broker=self.broker, recorder=self.recorder, clock=self.clock,
                                 settings=settings, breaker=breaker)  # fmt: skip
        stale_s = config.market_data.stream_stale_seconds
        self.builder: SnapshotBuilder = (
            SnapshotBuilder(broker=self.market, calendar=self.calendar, stale_s=stale_s)
            if reference
            else LazySnapshotBuilder(market=self.market, calendar=self.calendar, stale_s=stale_s)
        )
        self._resting = frozenset() if reference else RESTING_STATES.get(self.bot, frozenset())
        hinting = wake_hints and not reference and isinstance(strategy, WakeHinting)
        self._hinting: WakeHinting | None = strategy if hinting else None  # type: ignore[assignment]
        self._hint: WakeHint | None = None  # the last pass's, until the engine reads it
        self.skipped: dict[str, int] = {}
        self.expired_legs = 0
        self.days = 0
        self.passes = 0  # decides run (what the shortcuts cut)

    def _state(self) -> tuple[str, dict[str, Any]]:
        return self.strategy.state_name(), {"strategy": self.strategy.export_state()}

    def run(self, days: Iterable[MarketDay], progress: Progress | None = None) -> BacktestResult:
        """Trade every day in order; returns the closed trades. The journal stays open."""
        for market_day in days:
            self.run_day(market_day)
            if progress is not None:
                progress(market_day.ticks.day)
        trades = tuple(t for t in self.journal.trades() if not t.is_open)
        return BacktestResult(trades, self.days, dict(self.skipped))

    def save_journal(self, target: Path) -> None:
        """Copy the journal (a consistent SQLite backup) to `target`."""
        target.unlink(missing_ok=True)
        source = sqlite3.connect(str(self._folder / f"{self.bot}.sqlite"))
        dest = sqlite3.connect(str(target))
        try:
            source.backup(dest)
        finally:
            dest.close()
            source.close()

    def close(self) -> None:
        """Close the journal and remove the temporary folder."""
        self.journal.close()
        shutil.rmtree(self._folder, ignore_errors=True)

    def run_day(self, market_day: MarketDay) -> None:
        """One session, open to close (index options hours)."""
        day = market_day.ticks.day
        session = market_hours.session(day, "index_options")
        if session is None:
            self._skip("not a trading day")
            return
        self.days += 1
        self.model.load_day(market_day.ticks, session.open, market_day.vix_open,
                            market_day.nasdaq)  # fmt: skip
        held = self._drop_expired(day)
        self.market.new_day(day, keep_listings=bool(held))
        self.market.set_previous_bars(market_day.previous, market_day.nasdaq_previous)
        at = session.open
        while at < session.close:
            self.clock.set(at)
            self.model.now_at = at
            self._pass(at)
            if self._done_for_the_day():
                break
            busy = self.executor.busy or self.strategy.in_position()
            wants_ticks = busy or bool(self.strategy.data_request(at).tick_uics)
            step = timedelta(seconds=TICK_SECONDS) if wants_ticks else IDLE_STEP
            at = max(at + step, self._woken_at(at, step, session))

    def _woken_at(self, at: datetime, step: timedelta,
                  session: market_hours.TradingSession) -> datetime:  # fmt: skip
        """When the strategy's wake hint at `at` says the next pass that can matter is (see
        `shared.strategy.wake`): on the grid `at + n x step`, the first pass at which a level
        leaves its band, or `until`, less the hint's `lookback`; the close when neither comes
        today. `at` itself when the pass gave no hint (or an order is worked)."""
        hint, self._hint = self._hint, None
        if hint is None:
            return at
        tick = timedelta(seconds=TICK_SECONDS)
        now_index, stride = (at - session.open) // tick, max(1, step // tick)
        size = self.model.tick_count
        stop = min(size, -(-(hint.until - session.open) // tick))
        wake_index = stop
        for band in hint.bands:
            exit_index = first_exit(self.model.tick_levels(band.uic), band,
                                    now_index + stride, stop, stride)  # fmt: skip
            wake_index = min(wake_index, stop if exit_index is None else exit_index)
        if wake_index >= size:
            return session.close  # nothing before the close: no pass to replay prices for
        resume_index = wake_index - hint.lookback // tick
        passes_ahead = -(-(resume_index - now_index) // stride)
        return at + max(0, passes_ahead) * step

    def _done_for_the_day(self) -> bool:
        """True in a resting state (see RESTING_STATES), flat and with no order worked."""
        return (
            self.strategy.state_name() in self._resting
            and not self.executor.busy
            and not self.broker.positions()
        )

    def _drop_expired(self, day: date) -> list[Position]:
        """Options that expired before `day` leave the broker's positions, as at a real broker
        (cash settlement). One that is still held then is a leg the strategy could not close
        (e.g. a long wing with no bid): counted in `expired_legs`, its trade stays open in the
        journal and out of the report's closed trades."""
        held = self.broker.positions()
        kept = [p for p in held if (self.market.expiry_of(p.uic) or day) >= day]
        if len(kept) != len(held):
            expired = len(held) - len(kept)
            self.expired_legs += expired
            logger.info(kv("backtest_legs_expired", day=day, legs=expired))
            self.broker.seed_positions(kept)
        return kept

    def _skip(self, why: str) -> None:
        self.skipped[why] = self.skipped.get(why, 0) + 1

    def _pass(self, now: datetime) -> None:
        self.passes += 1
        self.executor.step()
        self._deliver()
        request = self.strategy.data_request(now)
        unserved = self.market.unserved(request)
        if unserved:
            raise BacktestUnsupported(
                f"the backtest cannot serve {self.bot} yet: it asks for {'; '.join(unserved)} "
                f"(served: {SERVED})"
            )
        snapshot = self.builder.build(
            request,
            now=now,
            positions=self.market.described(self.broker.positions()),
            breaker_allows_entries=self.executor.entry_blocked_reason() is None,
        )
        if now.second % 60:
            snapshot = replace(snapshot, triggered_by_tick=True)
        self._act(self.strategy.decide(snapshot))
        self._deliver()
        if self._hinting is not None and not self.executor.busy:
            self._hint = self._hinting.wake_hint(snapshot)
        if isinstance(self.builder, LazySnapshotBuilder):
            self.builder.seal_last()

    def _act(self, actions: Sequence[Action]) -> None:
        for action in actions:
            if isinstance(action, OpenPosition | ClosePosition):
                self.executor.submit(action)
            elif isinstance(action, AbortEntry):
                self.executor.abort_entries(action.reason, intent_id=action.intent_id)
                self.executor.step()
            elif isinstance(action, RecordEvent) and action.kind == "safety_event":
                name = str(action.payload.get("event", action.key))
                self.recorder.safety_event(name, str(action.payload.get("description", name)),
                                           action.payload)  # fmt: skip

    def _deliver(self) -> None:
        for report in self.executor.drain_reports():
            logger.debug(kv("backtest_report", intent=report.intent_id, status=report.status))
            self._act(self.strategy.on_execution(report, self.clock.now()))
