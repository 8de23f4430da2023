"""Doc Severson's 0DTE SPX iron butterfly as a pure strategy (see `shared.strategy_contract`).

This class only coordinates: it keeps the trading day, builds the day's two lifecycles (the
entry: opening range -> decision -> order, `entry.py`; the position: held fly -> close,
`position.py`), routes each snapshot and execution report to the one that owns it, and saves
and restores them (`memory.py`, `restore.py`). The day's state (`states.day_state`) reads
idle -> opening_range -> entry_pending -> entering -> in_position -> closing -> done.
Time is `snapshot.now` (UTC); session rules use America/New_York. No I/O, no sleeping.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from bots.iron_fly_0dte.book import OPTION_ASSET_TYPE, ROOT
from bots.iron_fly_0dte.config import (
    BOT_NAME,
    STRIKE_STEP_POINTS,
    IronFlyConfig,
    IronFlyStrategyConfig,
)
from bots.iron_fly_0dte.entry import EntryLifecycle
from bots.iron_fly_0dte.market import MarketView
from bots.iron_fly_0dte.memory import Memory
from bots.iron_fly_0dte.opening_range import NY, entry_at
from bots.iron_fly_0dte.position import PositionLifecycle
from bots.iron_fly_0dte.records import Recorder, logger
from bots.iron_fly_0dte.recovery import holds
from bots.iron_fly_0dte.restore import RestoreStep
from bots.iron_fly_0dte.states import (
    FLAT_STATES,
    POSITION_STATES,
    EntryState,
    IronFlyState,
    PositionState,
    day_state,
)
from shared.config.envelope import MarketDataSection
from shared.domain import Position
from shared.event_calendar import EventCalendar
from shared.logger_service import kv
from shared.strategy import recovery
from shared.strategy_contract import (
    Action,
    DataRequest,
    ExecutionReport,
    InstrumentRef,
    JsonDict,
    OptionWindow,
    OrderStyle,
    Snapshot,
)

S = IronFlyState
CHAIN_LEAD = timedelta(minutes=2)  # request the 0DTE chain this long before the entry time
# Strikes requested each side of spot beyond the widest wing: the ATM strike sits up to one
# step above spot, and the straddle strike nearest spot may sit one step below.
CHAIN_EXTRA_STRIKES = 2


class IronFlyStrategy:
    """The iron fly's decisions. Construct with the config's `strategy` section (and the
    envelope's `market_data`: `stream_stale_seconds` is the oldest quote used for an entry or
    a P&L mark, `no_price_close_seconds` the oldest underlying price a stop acts on), or from
    the whole file with `from_bot_config`."""

    bot = BOT_NAME

    def __init__(
        self,
        config: IronFlyStrategyConfig,
        *,
        market_data: MarketDataSection | None = None,
        order_style: OrderStyle = OrderStyle.MARKET,
    ) -> None:
        self._cfg = config
        self._order_style = order_style
        self._market = MarketView(config, market_data or MarketDataSection())
        self._start_day(None)

    @classmethod
    def from_bot_config(
        cls, config: IronFlyConfig, calendar: EventCalendar | None = None
    ) -> IronFlyStrategy:
        """Build from the whole validated config file (strategy, market_data, execution).
        `calendar` is unused: the fly reads the day's events from each snapshot's calendar."""
        return cls(config.strategy, market_data=config.market_data,
                   order_style=OrderStyle(config.execution.order_style))

    def _start_day(self, day: date | None) -> None:
        """Fresh lifecycles (and flash window) for trading `day` (New York date)."""
        self._day: date | None = day
        self._market.flash.clear()
        self._entry = EntryLifecycle(self._cfg, self._market, self._order_style)
        self._position = PositionLifecycle(self._cfg, self._market, day)

    def _state(self) -> IronFlyState:
        return day_state(self._entry.state, self._position.state)

    def _recorder(self, now: datetime) -> Recorder:
        return Recorder(now=now, day=self._day, state=lambda: self._state().value)

    # ------------------------------------------------------------------ contract
    def state_name(self) -> str:
        return self._state().value

    def in_position(self) -> bool:
        return self._state() in POSITION_STATES

    def export_state(self) -> JsonDict:
        entry, position = self._entry, self._position
        memory = Memory(
            day=self._day, opening_range=entry.opening_range, range_row_at=entry.range_row_at,
            waited_in_range=entry.waited_in_range,
            fly=position.fly if position.fly is not None else entry.fly,
            entry_intent_id=entry.intent_id, entry_sent_at=entry.sent_at,
            not_ready_reason=entry.not_ready_reason, close=position.close,
            close_seq=position.close_seq, close_fills=position.close_fills,
        )
        return memory.to_json(self._state())

    def data_request(self, now: datetime) -> DataRequest:
        """Underlying always; VIX until the entry; the 0DTE chain around the entry time; the
        fly's legs while holding. Ticks of the underlying trigger decides until the day is done:
        every tick of the opening range is recorded, and holding, the wing touch is acted on
        from the tick that shows it."""
        underlying = self._market.underlying
        quotes = [underlying]
        windows: list[OptionWindow] = []
        state = self._state()
        wants_vix = state in (S.IDLE, S.OPENING_RANGE, S.ENTRY_PENDING)
        if wants_vix:
            quotes.append(self._market.vix_ref)
        chain_from = entry_at(self._cfg, now) - CHAIN_LEAD
        if state in (S.OPENING_RANGE, S.ENTRY_PENDING) and now >= chain_from:
            widest = self._cfg.manual_wing_width_points or self._cfg.max_wing_width_points
            strikes_each_side = widest // STRIKE_STEP_POINTS + CHAIN_EXTRA_STRIKES
            windows.append(OptionWindow(ROOT, now.astimezone(NY).date(), underlying.uic,
                                        strikes_each_side))
        fly = self._position.fly if self._position.fly is not None else self._entry.fly
        if state in POSITION_STATES and fly is not None:
            quotes.extend(InstrumentRef(uic, OPTION_ASSET_TYPE) for uic in sorted(fly.uics))
        ticking = state is not S.DONE  # from IDLE: the range's first tick is already streamed
        return DataRequest(
            quotes=tuple(quotes), option_windows=tuple(windows), vix=wants_vix,
            tick_uics=frozenset({underlying.uic}) if ticking else frozenset(),
        )

    def decide(self, snapshot: Snapshot) -> Sequence[Action]:
        rolled = self._roll_day(snapshot)
        rec = self._recorder(snapshot.now)
        if rolled:
            self._close_leftovers(snapshot, rec)
        price = self._market.observe(snapshot)
        if self._position.state is not PositionState.FLAT:
            self._position.on_snapshot(snapshot, price, rec)
        elif self._entry.state is EntryState.ENTERING:
            self._on_entering(snapshot, price, rec)
        else:
            self._entry.on_snapshot(snapshot, price, rec)
        return rec.actions

    def on_execution(self, report: ExecutionReport, now: datetime) -> Sequence[Action]:
        rec = self._recorder(now)
        if report.intent_id == self._entry.intent_id:
            self._on_entry_report(report, rec)
        elif self._position.owns(report.intent_id):
            self._position.on_close_report(report, rec)
        else:
            logger.warning(kv("execution_report_unknown_intent", intent=report.intent_id,
                              status=report.status, state=self._state()))
        return rec.actions

    def restore(
        self, saved: Mapping[str, Any] | None, positions: Sequence[Position], now: datetime
    ) -> Sequence[Action]:
        """Rebuild from the saved state and the broker's positions; protect at once (see
        `restore.RestoreStep`)."""
        self._market.flash.clear()
        day = RestoreStep(self._cfg, self._market, self._order_style).run(saved, positions, now)
        self._day, self._entry, self._position = day.day, day.entry, day.position
        return day.rec.actions

    # ------------------------------------------------------------------ coordination
    def _roll_day(self, snapshot: Snapshot) -> bool:
        """Start fresh lifecycles on a new trading day once nothing is open (a position that
        outlived its day keeps its exits running; the reset waits until it is flat). True
        when the day rolled."""
        day = snapshot.calendar.day
        if self._day == day:
            return False
        if self._day is not None and self._state() not in FLAT_STATES:
            return False
        logger.info(kv("new_day", from_day=self._day, to=day, state=self._state()))
        self._start_day(day)
        return True

    def _close_leftovers(self, snapshot: Snapshot, rec: Recorder) -> None:
        """At a day's first decide, close option legs left at the broker (a safety record)."""
        book = recovery.read_book(snapshot.positions)
        if not book.legs:
            return
        closable = book.unexpired(snapshot.calendar.day)
        rec.safety("leftover_legs",
                   f"option legs at the broker at the start of {snapshot.calendar.day}: "
                   f"{book.describe()}")
        if closable.legs:
            self._position.start_close(recovery.close_all_legs(closable, ROOT),
                                       "leftover_legs", rec)

    def _on_entering(self, snap: Snapshot, price: Decimal | None, rec: Recorder) -> None:
        """The order is out: guard a fly the broker already holds in full (the executor aborts
        an entry whose legs a close touches); past the report timeout, close what the broker
        shows or abort the entry."""
        entry, planned = self._entry, self._entry.fly
        if planned is not None and holds(planned, snap.positions) \
                and self._position.protect(planned, snap, price, rec):
            entry.hand_to_close("the planned fly is being closed")
            return
        if not entry.report_overdue(snap.now):
            return
        uics = planned.uics if planned is not None else frozenset()
        book = recovery.read_book([p for p in snap.positions if p.uic in uics])
        rec.safety("entry_report_timeout",
                   f"no final entry report; broker shows {book.describe()}")
        if book.legs:  # the close aborts the entry job too (it shares the uics)
            self._position.start_close(recovery.close_all_legs(book, ROOT), "entry_unconfirmed",
                                       rec, fly=planned)
            entry.hand_to_close("entry unconfirmed; closing what the broker shows")
        else:
            entry.abort(rec, "entry report timeout")

    def _on_entry_report(self, report: ExecutionReport, rec: Recorder) -> None:
        was = self._state()
        fill = self._entry.on_report(report, rec)
        if fill is None:
            return
        if fill.first:
            self._position.open(fill.fly, rec)
        elif was is S.DONE:  # filled after we gave up on it: protect by closing
            rec.safety("late_entry_fill", "entry filled after it was given up; closing the fly")
            self._position.start_close(fill.fly.close_legs(), "late_entry_fill", rec,
                                       fly=fill.fly)
