"""Brian Terry's delta neutral SPY strategy as a pure strategy (see `shared.strategy_contract`).

Two lifecycles (lifecycles.py): a long ATM straddle near `long_straddle_target_dte`, and weekly
short strangles sold against it. Each decide runs, in order: protection (expired or naked
shorts, the 5 % emergency move, the DTE exit, a challenged side, an exit in progress, shorts
first), then the session gates, then the straddle (entry, partial completion, recenter), then
the strangle (entry, scheduled roll for a net credit). Time is `snapshot.now` (UTC); session
logic is America/New_York. No I/O, no sleeping.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from bots.delta_neutral import market_view, restoring, rules, selection, wake
from bots.delta_neutral.book import Straddle, Strangle
from bots.delta_neutral.config import BOT_NAME, DeltaNeutralConfig, DeltaNeutralStrategyConfig
from bots.delta_neutral.lifecycles import StraddleLifecycle, StrangleLifecycle, logger
from bots.delta_neutral.memory import Memory, decision_event, flash_event, leg_of, safety_event
from bots.delta_neutral.states import StraddleState, StrangleState, Trigger
from shared import market_hours
from shared.domain import Position
from shared.event_calendar import EventCalendar
from shared.logger_service import kv
from shared.market_hours import NY
from shared.strategy.exits import FlashMonitor
from shared.strategy.wake import WakeHint
from shared.strategy_contract import (
    Action,
    DataRequest,
    ExecutionReport,
    InstrumentRef,
    JsonDict,
    OrderStyle,
    Snapshot,
)

D, G = StraddleState, StrangleState


class DeltaNeutralStrategy:
    """The delta neutral bot's decisions; built by the runtime with the config's `strategy`
    section and the event calendar (FOMC dates)."""

    HOLDS_OVERNIGHT = True  # positions span days: the demo adds this bot only by name

    bot = BOT_NAME

    @classmethod
    def from_bot_config(
        cls, config: DeltaNeutralConfig, calendar: EventCalendar | None = None
    ) -> DeltaNeutralStrategy:
        """Build from the whole validated config file (strategy and execution sections) and
        the process's event calendar (the runtime's, which re-reads the operator's overlay)."""
        style = OrderStyle(config.execution.order_style)
        return cls(config=config.strategy, calendar=calendar or EventCalendar(), order_style=style)

    def __init__(
        self,
        *,
        config: DeltaNeutralStrategyConfig,
        calendar: EventCalendar,
        order_style: OrderStyle = OrderStyle.MARKET,
    ) -> None:
        self._cfg = config
        self._order_style = order_style
        self._flash = FlashMonitor(timedelta(minutes=config.flash_move_window_minutes))
        self._calendar = calendar
        self.straddle = StraddleLifecycle()
        self.strangle = StrangleLifecycle()
        self._m = Memory()
        inst = config.instruments
        self._spy = InstrumentRef(inst.underlying_uic, inst.underlying_asset_type)
        self._vix_ref = InstrumentRef(inst.vix_uic, "StockIndex")
        self._last_spot: Decimal | None = None
        self._last_vix: Decimal | None = None

    # --- contract ------------------------------------------------------------------------
    def state_name(self) -> str:
        return f"straddle:{self.straddle.state.value}/strangle:{self.strangle.state.value}"

    def in_position(self) -> bool:
        return self.straddle.state not in (D.FLAT, D.WAITING_ENTRY) or (
            self.strangle.state is not G.NONE
        )

    def data_request(self, now: datetime) -> DataRequest:
        return market_view.build_request(
            self._cfg,
            self.straddle,
            self.strangle,
            now=now,
            need_previous_close=self._m.day != now.astimezone(NY).date(),
            in_position=self.in_position(),
            recenter_expiry=self._m.recenter_expiry,
            last_spot=self._last_spot,
            last_vix=self._last_vix,
            roll_retry_at=self._m.roll_retry_at,
        )

    def decide(self, snapshot: Snapshot) -> Sequence[Action]:
        actions: list[Action] = []
        self._new_day(snapshot)
        spot = self._spot(snapshot)
        if spot is None or self._order_in_flight():
            return actions
        self._protect(snapshot, spot, actions)
        if actions or self._order_in_flight() or self._m.exit_reason is not None:
            return actions
        session = market_hours.session(snapshot.calendar.day)
        delay = self._cfg.market_open_delay_minutes
        blocked = rules.session_block(now=snapshot.now, session=session, open_delay_minutes=delay)
        if blocked is not None or session is None or not snapshot.breaker_allows_entries:
            return actions
        self._manage_straddle(snapshot, spot, session, actions)
        if not actions:
            self._manage_strangle(snapshot, spot, session, actions)
        return actions

    def on_execution(self, report: ExecutionReport, now: datetime) -> Sequence[Action]:
        self._m.book_settles_at = now + restoring.BOOK_SETTLE
        for cycle in (self.straddle, self.strangle):
            if cycle.intent_id != report.intent_id:
                continue
            was = cycle.state
            booked = cycle.on_report(report)
            if booked is not None and booked.realized_usd is not None:
                self._m.book(cycle.name, booked.realized_usd, was.value)
            if booked is not None and booked.trigger in (Trigger.FAILED, Trigger.STUCK):
                minutes = self._cfg.failed_action_cooldown_minutes
                self._m.cooldown_until[cycle.name] = now + timedelta(minutes=minutes)
                if was is G.OPENING and self._m.challenged_close_cost_usd is not None:
                    self._m.exit_reason = "challenged_roll_failed"
            return ()
        logger.warning(
            kv("execution_report_unknown", intent=report.intent_id, status=report.status)
        )
        return ()

    def export_state(self) -> JsonDict:
        return {
            "straddle": self.straddle.to_json(),
            "strangle": self.strangle.to_json(),
            "memory": self._m.to_json(),
        }

    def restore(
        self, saved: Mapping[str, Any] | None, positions: Sequence[Position], now: datetime
    ) -> Sequence[Action]:
        """See `restoring.restore`: legs from the broker, money from the saved state."""
        return restoring.restore(self.straddle, self.strangle, self._m, saved, positions, now)

    def wake_hint(self, snapshot: Snapshot) -> WakeHint | None:
        """For backtests: until when nothing can happen while SPY (and VIX) stay in bands (see
        `bots.delta_neutral.wake`); None: look at the next pass."""
        return wake.wake_hint(
            self._cfg, self.straddle, self.strangle, self._m, self._flash,
            spot_uic=self._spy.uic, last_spot=self._last_spot, now=snapshot.now,
        )  # fmt: skip

    # --- protection ------------------------------------------------------------------------
    def _protect(self, snap: Snapshot, spot: Decimal, actions: list[Action]) -> None:
        cfg, now, m = self._cfg, snap.now, self._m
        held = self.strangle.held
        session = market_hours.session(now.astimezone(NY).date())
        if (
            held is not None and self.strangle.intent_id is None
            and rules.shorts_expired(expiry=held.expiry, now=now, session=session)
        ):
            realized = self.strangle.expire(now)
            if realized is not None:
                m.book(self.strangle.name, realized, G.HOLDING.value)
        actions.extend(restoring.check_book(self.straddle, self.strangle, self._m, snap))
        flash = flash_event(self._flash, cfg, now, spot, self.state_name())
        actions.extend([flash] if flash is not None else [])
        for cycle in (self.strangle, self.straddle):  # shorts first
            if cycle.closing_without_order and not self._m.cooling(now, cycle.name):
                reason = cycle.close_reason or "close_due"
                actions.append(cycle.close(self._m.next_intent("close", now), reason, None))
                return
        shorts = self.strangle.held
        straddle = self.straddle.held
        recentering = self.straddle.state in (D.RECENTER_CLOSING, D.RECENTER_OPENING)
        if shorts is not None and not recentering and (straddle is None or not straddle.complete):
            reason = "naked_shorts" if straddle is None else "partial_straddle_with_shorts"
            m.exit_reason = m.exit_reason or reason
        if (straddle is not None or shorts is not None) and m.exit_reason is None:
            emergency = rules.emergency_move_reason(
                spot=spot,
                straddle_strike=None if straddle is None else straddle.strike,
                previous_close=m.previous_close,
                percent=cfg.emergency_exit_percent,
            )
            if emergency is not None:
                self._safety(actions, now, "emergency_move", emergency)
                m.exit_reason = "emergency_move"
            elif straddle is not None and rules.long_dte_exit(
                long_expiry=straddle.expiry, now=now, long_exit_dte=cfg.long_exit_dte
            ):
                m.exit_reason = "long_dte_exit"
        if m.exit_reason is not None:
            self._continue_exit(now, actions)
            return
        if shorts is not None and self.strangle.state is G.HOLDING:
            assert shorts.call is not None and shorts.put is not None
            side = rules.challenged_side(
                spot=spot,
                call_strike=shorts.call.strike,
                put_strike=shorts.put.strike,
                percent=cfg.short_itm_risk_percent,
            )
            if side is not None:
                m.challenged_close_cost_usd = shorts.close_cost_estimate_usd(snap.quotes)
                actions.append(
                    self.strangle.close(
                        self._m.next_intent("challenged", now),
                        f"challenged_{side.value}",
                        Trigger.EXIT,
                    )
                )

    def _continue_exit(self, now: datetime, actions: list[Action]) -> None:
        """Shorts first, then the straddle; done when both are flat."""
        reason = self._m.exit_reason or "exit"
        if self.strangle.held is not None and self.strangle.state is G.HOLDING:
            actions.append(
                self.strangle.close(self._m.next_intent("exit", now), reason, Trigger.EXIT)
            )
        elif self.strangle.held is not None and self.strangle.state is G.CLOSING:
            actions.append(self.strangle.close(self._m.next_intent("exit", now), reason, None))
        elif self.straddle.held is not None and self.straddle.state in (D.HOLDING, D.PARTIAL):
            actions.append(
                self.straddle.close(self._m.next_intent("exit", now), reason, Trigger.EXIT)
            )
        elif self.strangle.held is None and self.straddle.held is None:
            logger.info(kv("exit_done", reason=reason))
            self._m.exit_reason = None
            self._m.exited_on = now.astimezone(NY).date()
            if self.straddle.state is D.RECENTER_OPENING:
                self.straddle.fire(Trigger.GIVE_UP, reason)
            if self.strangle.state is G.ROLL_OPENING:  # the roll's new shorts are not sold
                self.strangle.fire(Trigger.FAILED, reason)

    # --- straddle --------------------------------------------------------------------------
    def _manage_straddle(
        self,
        snap: Snapshot,
        spot: Decimal,
        session: market_hours.TradingSession,
        actions: list[Action],
    ) -> None:
        cfg, now, cycle = self._cfg, snap.now, self.straddle
        if cycle.state in (D.FLAT, D.WAITING_ENTRY) and self._m.exited_on != snap.calendar.day:
            block = market_view.straddle_entry_block(cfg, self._calendar, snap, self._vix(snap))
            if block is not None:
                cycle.fire(Trigger.GATE_BLOCKED, block)
                self._decision(actions, now, "straddle_entry_waits", block)
                return
            if cycle.state is D.WAITING_ENTRY:
                cycle.fire(Trigger.GATE_CLEARED, "gates clear")
            self._open_straddle(snap, spot, actions, "straddle_entry", Trigger.ORDER_SENT)
        elif cycle.state is D.PARTIAL and cycle.held is not None:
            self._complete_partial(snap, cycle.held, actions)
        elif cycle.state is D.HOLDING and cycle.held is not None:
            distance = cfg.recenter_distance_usd(cycle.held.strike)
            if (
                rules.recenter_due(
                    spot=spot, straddle_strike=cycle.held.strike, distance_usd=distance
                )
                and not rules.past_cutoff(now, session, cfg.recenter_cutoff_minutes_before_close)
                and not self._m.cooling(now, "straddle")
            ):
                self._m.recenter_expiry = cycle.held.expiry
                actions.append(
                    cycle.close(
                        self._m.next_intent("recenter", now),
                        f"recenter spot {spot} strike {cycle.held.strike}",
                        Trigger.RECENTER,
                    )
                )
        elif cycle.state is D.RECENTER_OPENING:
            if rules.past_cutoff(now, session, cfg.recenter_cutoff_minutes_before_close):
                cycle.fire(Trigger.GIVE_UP, "new straddle not bought before the cutoff")
                return
            if self._m.cooling(now, "straddle"):  # a failed buy is tried again after it
                return
            self._open_straddle(snap, spot, actions, "recenter_entry", None)

    def _open_straddle(
        self,
        snap: Snapshot,
        spot: Decimal,
        actions: list[Action],
        purpose: str,
        trigger: Trigger | None,
    ) -> None:
        chosen = market_view.choose_straddle(
            self._cfg,
            snap,
            spot,
            market_view.straddle_expiry(
                self._cfg, self.straddle, self._m.recenter_expiry, snap.calendar.day
            ),
        )
        if isinstance(chosen, selection.NotYet):
            self._decision(actions, snap.now, f"{purpose}_not_yet", chosen.reason)
            return
        qty = self._cfg.position_size_contracts
        pair = Straddle(leg_of(chosen.call, qty), leg_of(chosen.put, qty))
        actions.append(
            self.straddle.open(
                pair, self._m.next_intent(purpose, snap.now), purpose, trigger, self._order_style
            )
        )

    def _complete_partial(self, snap: Snapshot, held: Straddle, actions: list[Action]) -> None:
        leg = market_view.missing_leg(snap, held)
        if isinstance(leg, str):
            self._decision(actions, snap.now, "partial_straddle_waits", leg)
            return
        intent = self._m.next_intent("complete", snap.now)
        actions.append(self.straddle.missing_leg_order(leg, intent, self._order_style))

    # --- strangle --------------------------------------------------------------------------
    def _manage_strangle(
        self,
        snap: Snapshot,
        spot: Decimal,
        session: market_hours.TradingSession,
        actions: list[Action],
    ) -> None:
        cfg, now, cycle = self._cfg, snap.now, self.strangle
        straddle = self.straddle.held
        if straddle is None or self.straddle.state is not D.HOLDING:
            return
        if rules.past_cutoff(now, session, cfg.shorts_cutoff_minutes_before_close):
            if cycle.state is G.NONE and self._m.challenged_close_cost_usd is not None:
                self._challenged_roll_failed(actions, now, "past the shorts cutoff")
            return
        expiry = selection.next_friday_at_least(snap.calendar.day, cfg.short_target_dte)
        outlives_exit = rules.proactive_restart(
            long_expiry=straddle.expiry, new_short_expiry=expiry, long_exit_dte=cfg.long_exit_dte
        )
        if cycle.state is G.HOLDING and cycle.held is not None:
            if rules.scheduled_roll_due(
                now=now,
                short_expiry=cycle.held.expiry,
                thursday_from_et=cfg.roll_start_thursday_et,
                friday_from_et=cfg.roll_start_friday_et,
            ):
                if outlives_exit:  # no roll into shorts past the exit: everything goes now
                    self._m.exit_reason = "proactive_restart"
                    self._continue_exit(now, actions)
                    return
                if not rules.retry_waits(now=now, retry_at=self._m.roll_retry_at):
                    self._try_roll(snap, spot, straddle, cycle.held, actions)
            return
        if cycle.state not in (G.NONE, G.ROLL_OPENING) or self._m.cooling(now, "strangle"):
            return
        block = rules.shorts_entry_block(
            vix=self._vix(snap), max_vix_new_shorts=cfg.max_vix_new_shorts
        )
        if block is not None:
            self._decision(actions, now, "shorts_wait", block)
            return
        if outlives_exit:
            self._m.exit_reason = "proactive_restart"
            self._continue_exit(now, actions)
            return
        chosen = market_view.choose_strangle(self._cfg, snap, spot, straddle, expiry)
        if isinstance(chosen, selection.NotYet):
            self._decision(actions, now, "shorts_not_yet", chosen.reason)
            return
        floor = self._m.challenged_close_cost_usd
        premium = chosen.premium_usd  # a re-sale after a challenged close must be a credit
        if floor is not None and not rules.roll_is_credit(
            close_cost_usd=floor, new_premium_usd=premium
        ):
            detail = f"premium {chosen.premium_usd} <= close cost {floor}"
            self._decision(actions, now, "challenged_resale_refused_debit", detail)
            self._challenged_roll_failed(actions, now, detail)
            return
        qty = cfg.position_size_contracts
        pair = Strangle(leg_of(chosen.call, qty), leg_of(chosen.put, qty))
        trigger = None if cycle.state is G.ROLL_OPENING else Trigger.ORDER_SENT
        intent, reason = self._m.next_intent("shorts", now), f"shorts_{chosen.mode}"
        actions.append(cycle.open(pair, intent, reason, trigger, self._order_style))

    def _challenged_roll_failed(self, actions: list[Action], now: datetime, why: str) -> None:
        """The shorts of a challenged side were closed and may not be sold again (past the
        cutoff, or not for a net credit): exit everything, shorts first (spec 2, exit)."""
        self._decision(actions, now, "challenged_roll_failed", why)
        self._m.exit_reason = "challenged_roll_failed"
        self._m.challenged_close_cost_usd = None
        self._continue_exit(now, actions)

    def _try_roll(self, snap: Snapshot, spot: Decimal, straddle: Straddle, held: Strangle,
                  actions: list[Action]) -> None:  # fmt: skip
        """Roll only for a net credit: the candidate is priced without touching `held`; a refusal
        is priced again `roll_retry_minutes` later (each pricing reads ~70 option quotes)."""
        credit, detail = market_view.roll_credit(self._cfg, snap, spot, straddle, held)
        if credit is None or credit <= 0:
            name = "roll_not_priced" if credit is None else "roll_refused_debit"
            self._decision(actions, snap.now, name, detail)
            self._m.roll_retry_at = snap.now + timedelta(minutes=self._cfg.roll_retry_minutes)
            return
        intent = self._m.next_intent("roll", snap.now)
        actions.append(self.strangle.close(intent, f"scheduled_roll {detail}", Trigger.ROLL))

    # --- helpers -----------------------------------------------------------------------------
    def _new_day(self, snap: Snapshot) -> None:
        if self._m.day != snap.calendar.day:
            self._m.new_day(snap.calendar.day)
        if self._m.previous_close is None:
            self._m.previous_close = market_view.previous_close(snap, self._spy.uic)

    def _spot(self, snap: Snapshot) -> Decimal | None:
        quote = snap.quotes.get(self._spy.uic)
        spot = None if quote is None else quote.price
        self._last_spot = spot or self._last_spot
        return spot

    def _vix(self, snap: Snapshot) -> Decimal | None:
        level = market_view.vix_level(snap, self._vix_ref.uic, self._cfg.vix_fallback_yahoo)
        self._last_vix = level or self._last_vix
        return level

    def _order_in_flight(self) -> bool:
        return any(c.intent_id is not None for c in (self.straddle, self.strangle))

    def _decision(self, actions: list[Action], now: datetime, name: str, detail: str) -> None:
        event = decision_event(self._m, now, name, detail)
        if event is not None:
            actions.append(event)

    def _safety(self, actions: list[Action], now: datetime, name: str, description: str) -> None:
        actions.append(safety_event(now, name, description, self.state_name()))
