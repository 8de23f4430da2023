"""Doc Severson's 0DTE SPX iron butterfly as a pure strategy (see `shared.strategy_contract`).

One state machine (`states.TRANSITIONS`) drives the day: record the opening range from 09:30 ET,
filter at the entry time (10:00 ET), open one fly through the executor, protect it on every
decide (wing touch, flash move, max loss, profit target, time exit; a blind fly is the
runtime's no-price guard's to close), close it and
wait for the `closed` report; a stuck close keeps the bot in CLOSE_STUCK and is re-issued.
Time is `snapshot.now` (UTC); session rules use America/New_York. No I/O, no sleeping.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from decimal import Decimal

from bots.iron_fly_0dte.book import OPTION_ASSET_TYPE, ROOT
from bots.iron_fly_0dte.closing import ClosingPart
from bots.iron_fly_0dte.config import BOT_NAME, STRIKE_STEP_POINTS, IronFlyConfig
from bots.iron_fly_0dte.core import logger
from bots.iron_fly_0dte.entry import EntryPart
from bots.iron_fly_0dte.memory import Memory
from bots.iron_fly_0dte.opening_range import NY, entry_at
from bots.iron_fly_0dte.restoring import RestoringPart
from bots.iron_fly_0dte.states import FLAT_STATES, POSITION_STATES, IronFlyState, Trigger
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


class IronFlyStrategy(EntryPart, ClosingPart, RestoringPart):
    """The iron fly's decisions. Construct with the config's `strategy` section (and the
    envelope's `market_data`), or from the whole file with `from_bot_config`."""

    bot = BOT_NAME

    @classmethod
    def from_bot_config(cls, config: IronFlyConfig) -> IronFlyStrategy:
        """Build from the whole validated config file (strategy, market_data, execution)."""
        return cls(config.strategy, market_data=config.market_data,
                   order_style=OrderStyle(config.execution.order_style))

    def state_name(self) -> str:
        return self._state.value

    def in_position(self) -> bool:
        return self._state in POSITION_STATES

    def export_state(self) -> JsonDict:
        return self._m.to_json(self._state)

    def data_request(self, now: datetime) -> DataRequest:
        """Underlying always; VIX until the entry; the 0DTE chain around the entry time; the
        fly's legs while holding. Ticks of the underlying trigger decides until the day is done:
        every tick of the opening range is recorded, and holding, the wing touch is acted on
        from the tick that shows it."""
        quotes = [self._underlying]
        windows: list[OptionWindow] = []
        state = self._state
        wants_vix = state in (S.IDLE, S.OPENING_RANGE, S.ENTRY_PENDING)
        if wants_vix:
            quotes.append(self._vix_ref)
        chain_from = entry_at(self._cfg, now) - CHAIN_LEAD
        if state in (S.OPENING_RANGE, S.ENTRY_PENDING) and now >= chain_from:
            widest = self._cfg.manual_wing_width_points or self._cfg.max_wing_width_points
            strikes_each_side = widest // STRIKE_STEP_POINTS + CHAIN_EXTRA_STRIKES
            windows.append(OptionWindow(ROOT, now.astimezone(NY).date(),
                                        self._underlying.uic, strikes_each_side))
        if state in POSITION_STATES and self._m.fly is not None:
            quotes.extend(InstrumentRef(uic, OPTION_ASSET_TYPE) for uic in sorted(self._m.fly.uics))
        ticking = state is not S.DONE  # from IDLE: the range's first tick is already streamed
        return DataRequest(
            quotes=tuple(quotes), option_windows=tuple(windows), vix=wants_vix,
            tick_uics=frozenset({self._underlying.uic}) if ticking else frozenset(),
        )

    def decide(self, snapshot: Snapshot) -> Sequence[Action]:
        actions: list[Action] = []
        self._roll_day(snapshot, actions)
        price = self._observe_price(snapshot)
        handler = {
            S.IDLE: self._on_idle,
            S.OPENING_RANGE: self._on_range,
            S.ENTRY_PENDING: self._on_pending,
            S.ENTERING: self._on_entering,
            S.IN_POSITION: self._on_position,
            S.CLOSING: self._on_closing,
            S.CLOSE_STUCK: self._on_closing,
        }.get(self._state)
        if handler is not None:
            handler(snapshot, price, actions)
        return actions

    def on_execution(self, report: ExecutionReport, now: datetime) -> Sequence[Action]:
        actions: list[Action] = []
        m = self._m
        if report.intent_id == m.entry_intent_id:
            self._on_entry_report(report, now, actions)
        elif m.close is not None and report.intent_id.startswith(self._close_prefix()):
            self._on_close_report(report, now, actions)
        else:
            logger.warning(kv("execution_report_unknown_intent", intent=report.intent_id,
                              status=report.status, state=self._state))
        return actions

    def _roll_day(self, snapshot: Snapshot, actions: list[Action]) -> None:
        day = snapshot.calendar.day
        if self._m.day == day:
            return
        if self._m.day is not None and self._state not in FLAT_STATES:
            return  # a position outlived its day; its exits still run, reset once flat
        previous = self._m.day
        self._fire(Trigger.NEW_DAY, f"{previous} -> {day}")
        self._m = Memory(day=day)
        self._flash.clear()
        book = recovery.read_book(snapshot.positions)
        if not book.legs:
            return
        closable = book.unexpired(day)
        self._safety(actions, snapshot.now, "leftover_legs",
                     f"option legs at the broker at the start of {day}: {book.describe()}")
        if closable.legs:
            legs = recovery.close_all_legs(closable, ROOT)
            self._start_close(actions, snapshot.now, legs, "leftover_legs", Trigger.EXIT)

    def _on_position(self, snap: Snapshot, price: Decimal | None, actions: list[Action]) -> None:
        fly = self._m.fly
        if fly is None:  # cannot happen by construction; never hold blind
            raise RuntimeError("IN_POSITION without a fly")
        if fly.credit_usd is None:
            self._credit_from_broker(fly, snap.positions)
        signal = self._exit_signal(snap, price, fly)
        if signal is not None:
            self._start_close(actions, snap.now, fly.close_legs(), signal.reason, Trigger.EXIT)
