"""Brian Terry's delta neutral SPY strategy as a pure strategy (see `shared.strategy_contract`).

Two lifecycles (lifecycles.py): a long ATM straddle near `long_straddle_target_dte`, and weekly
short strangles sold against it. Each decide runs, in order: protection (expired or naked
shorts, the 5 % emergency move, the DTE exit, a challenged side, an exit in progress, shorts
first), then the session gates, then the straddle (entry, partial completion, recenter), then
the strangle (entry, scheduled roll for a net credit). Time is `snapshot.now` (UTC); session
logic is America/New_York. No I/O, no sleeping.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from bots.delta_neutral import rules, selection
from bots.delta_neutral._toolkit_pending import read_book
from bots.delta_neutral.book import OPTION_ASSET_TYPE, ROOT, Straddle, Strangle
from bots.delta_neutral.config import BOT_NAME, DeltaNeutralStrategyConfig
from bots.delta_neutral.lifecycles import StraddleLifecycle, StrangleLifecycle, logger
from bots.delta_neutral.memory import (
    Memory,
    decision_event,
    leg_of,
    safety_event,
    weekly_theta_usd,
)
from bots.delta_neutral.states import StraddleState, StrangleState, Trigger
from shared import market_hours
from shared.domain import Position, PutCall
from shared.event_calendar import EventCalendar
from shared.logger_service import kv
from shared.market_hours import NY
from shared.options_math import expected_move_from_vix
from shared.strategy_contract import (
    Action,
    BarRequest,
    DataRequest,
    ExecutionReport,
    InstrumentRef,
    JsonDict,
    OptionWindow,
    Snapshot,
)

D, G = StraddleState, StrangleState
LONG_WINDOW_STRIKES = 3  # strikes each side of spot for the ATM straddle
SHORT_WINDOW_MIN_STRIKES = 10
OPENING_STATES = frozenset({D.OPENING, D.RECENTER_OPENING, G.OPENING, G.ROLL_OPENING})


class DeltaNeutralStrategy:
    """The delta neutral bot's decisions; built by the runtime with the config's `strategy`
    section and the event calendar (FOMC dates)."""

    bot = BOT_NAME

    def __init__(self, *, config: DeltaNeutralStrategyConfig, calendar: EventCalendar) -> None:
        self._cfg = config
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
        """SPY and VIX always; the legs held or in flight; the chains a next step needs; the
        last daily bar once a day (the previous close)."""
        today = now.astimezone(NY).date()
        legs = [*self._legs(self.straddle), *self._legs(self.strangle)]
        quotes = [self._spy, self._vix_ref, *(InstrumentRef(u, OPTION_ASSET_TYPE) for u in legs)]
        windows = []
        if self._wants_long_chain():
            expiry = self._long_expiry(today)
            windows.append(OptionWindow(ROOT, expiry, self._spy.uic, LONG_WINDOW_STRIKES))
        if self._wants_short_chain(now):
            expiry = selection.next_friday_at_least(today, self._cfg.short_target_dte)
            windows.append(OptionWindow(ROOT, expiry, self._spy.uic, self._short_strikes(now)))
        bars = () if self._m.day == today else (BarRequest(self._spy.uic, self._spy.asset_type, 1),)
        ticking = frozenset({self._spy.uic}) if self.in_position() else frozenset()
        return DataRequest(
            quotes=tuple(quotes),
            option_windows=tuple(windows),
            daily_bars=bars,
            vix=True,
            tick_uics=ticking,
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
        blocked = rules.session_block(
            now=snapshot.now,
            session=session,
            open_delay_minutes=self._cfg.market_open_delay_minutes,
        )
        if blocked is not None or session is None or not snapshot.breaker_allows_entries:
            return actions
        self._manage_straddle(snapshot, spot, session, actions)
        if not actions:
            self._manage_strangle(snapshot, spot, session, actions)
        return actions

    def on_execution(self, report: ExecutionReport, now: datetime) -> Sequence[Action]:
        for cycle in (self.straddle, self.strangle):
            if cycle.intent_id != report.intent_id:
                continue
            was = cycle.state
            booked = (
                cycle.on_open_report(report)
                if was in OPENING_STATES
                else cycle.on_close_report(report)
            )
            if booked is not None and booked.realized_usd is not None:
                self._book_realized(cycle.name, booked.realized_usd, was)
            if booked is not None and booked.trigger in (Trigger.FAILED, Trigger.STUCK):
                self._m.cooldown_until[cycle.name] = now + timedelta(
                    minutes=self._cfg.failed_action_cooldown_minutes
                )
                if was is G.OPENING and self._m.challenged_close_cost_usd is not None:
                    self._m.exit_reason = "challenged_roll_failed"
            return ()
        logger.warning(
            kv("execution_report_unknown_intent", intent=report.intent_id, status=report.status)
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
        """Saved money and reasons where they still match the broker; the legs themselves
        from the broker's positions (STATE-001/002): longs are the straddle, shorts the
        strangle; a lone short is closed at once; anything else is an orphan (safety event)."""
        if saved:
            self.straddle.load(saved.get("straddle"), StraddleState)
            self.strangle.load(saved.get("strangle"), StrangleState)
            self._m.load(saved.get("memory"))
        book = read_book(positions)
        longs = [leg for leg in book.legs if leg.amount > 0]
        shorts = [leg for leg in book.legs if leg.amount < 0]
        actions: list[Action] = []
        self.straddle.adopt(longs)
        self.strangle.adopt(shorts)
        if self.strangle.held is not None and not self.strangle.held.complete:
            actions.append(
                self.strangle.close(
                    self._intent("close_naked_short", now), "naked_short_on_restart", None
                )
            )
        for orphan in book.other:
            self._safety(actions, now, "orphan_position", f"uic {orphan.uic} {orphan.amount}")
        return actions

    # --- protection ------------------------------------------------------------------------
    def _protect(self, snap: Snapshot, spot: Decimal, actions: list[Action]) -> None:
        cfg, now, m = self._cfg, snap.now, self._m
        if self.strangle.held is not None and self.strangle.held.expiry < snap.calendar.day:
            self.strangle.expire(now)
        self._check_book(snap, actions)
        for cycle in (self.strangle, self.straddle):  # shorts first
            if cycle.closing_without_order and not self._cooling(now, cycle.name):
                reason = cycle.close_reason or "close_due"
                actions.append(cycle.close(self._intent("close", now), reason, None))
                return
        shorts = self.strangle.held
        straddle = self.straddle.held
        recentering = self.straddle.state in (D.RECENTER_CLOSING, D.RECENTER_OPENING)
        if shorts is not None and not recentering and (straddle is None or not straddle.complete):
            reason = "naked_shorts" if straddle is None else "partial_straddle_with_shorts"
            m.exit_reason = m.exit_reason or reason
        if straddle is not None and m.exit_reason is None:
            emergency = rules.emergency_move_reason(
                spot=spot,
                straddle_strike=straddle.strike,
                previous_close=m.previous_close,
                percent=cfg.emergency_exit_percent,
            )
            if emergency is not None:
                self._safety(actions, now, "emergency_move", emergency)
                m.exit_reason = "emergency_move"
            elif rules.long_dte_exit(
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
                        self._intent("challenged", now), f"challenged_{side.value}", Trigger.EXIT
                    )
                )

    def _check_book(self, snap: Snapshot, actions: list[Action]) -> None:
        """Legs the broker no longer shows (POS-002/003) and positions that are no leg of
        ours (POS-005: shares from an assignment, a manual trade) raise safety events."""
        book = read_book(snap.positions)
        present = frozenset(leg.uic for leg in book.legs)
        for cycle in (self.strangle, self.straddle):
            lost = cycle.lose_legs(present)
            if lost:
                self._safety(
                    actions,
                    snap.now,
                    f"{cycle.name}_leg_gone",
                    f"uics {sorted(lost)} missing at the broker (assignment or manual)",
                )
        ours = self.straddle.held.uics if self.straddle.held else frozenset()
        ours |= self.strangle.held.uics if self.strangle.held else frozenset()
        strays: list[Any] = [*book.other] + [
            leg for leg in book.legs if leg.uic not in ours and not self._order_in_flight()
        ]
        if strays and "orphan_position" not in self._m.decisions_today:
            self._m.decisions_today.add("orphan_position")
            self._safety(
                actions,
                snap.now,
                "orphan_position",
                ", ".join(f"uic {p.uic} amount {p.amount}" for p in strays),
            )

    def _continue_exit(self, now: datetime, actions: list[Action]) -> None:
        """Shorts first, then the straddle; done when both are flat."""
        reason = self._m.exit_reason or "exit"
        if self.strangle.held is not None and self.strangle.state is G.HOLDING:
            actions.append(self.strangle.close(self._intent("exit", now), reason, Trigger.EXIT))
        elif self.strangle.held is not None and self.strangle.state is G.CLOSING:
            actions.append(self.strangle.close(self._intent("exit", now), reason, None))
        elif self.straddle.held is not None and self.straddle.state in (D.HOLDING, D.PARTIAL):
            actions.append(self.straddle.close(self._intent("exit", now), reason, Trigger.EXIT))
        elif self.strangle.held is None and self.straddle.held is None:
            logger.info(kv("exit_done", reason=reason))
            self._m.exit_reason = None
            self._m.exited_on = now.astimezone(NY).date()
            if self.straddle.state is D.RECENTER_OPENING:
                self.straddle.fire(Trigger.FAILED, reason)

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
            next_fomc = self._calendar.next_event(
                snap.calendar.day - timedelta(days=1), "fomc_decision"
            )
            block = rules.straddle_entry_block(
                vix=self._vix(snap),
                max_vix_entry=cfg.max_vix_entry,
                today=snap.calendar.day,
                next_fomc_decision=None if next_fomc is None else next_fomc.day,
                fomc_blackout_days=cfg.fomc_blackout_days,
            )
            if block is not None:
                cycle.fire(Trigger.GATE_BLOCKED, block)
                self._decision(actions, now, "straddle_entry_waits", block)
                return
            if cycle.state is D.WAITING_ENTRY:
                cycle.fire(Trigger.GATE_CLEARED, "gates clear")
            self._open_straddle(snap, spot, actions, "straddle_entry", Trigger.ORDER_SENT)
        elif cycle.state is D.PARTIAL and cycle.held is not None:
            self._complete_partial(snap, spot, cycle.held, actions)
        elif cycle.state is D.HOLDING and cycle.held is not None:
            distance = cfg.recenter_distance_usd(cycle.held.strike)
            if (
                rules.recenter_due(
                    spot=spot, straddle_strike=cycle.held.strike, distance_usd=distance
                )
                and not rules.past_cutoff(now, session, cfg.recenter_cutoff_minutes_before_close)
                and not self._cooling(now, "straddle")
            ):
                self._m.recenter_expiry = cycle.held.expiry
                actions.append(
                    cycle.close(
                        self._intent("recenter", now),
                        f"recenter spot {spot} strike {cycle.held.strike}",
                        Trigger.RECENTER,
                    )
                )
        elif cycle.state is D.RECENTER_OPENING:
            if rules.past_cutoff(now, session, cfg.recenter_cutoff_minutes_before_close):
                cycle.fire(Trigger.FAILED, "new straddle not bought before the cutoff")
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
        chosen = self._choose_straddle(snap, spot)
        if isinstance(chosen, selection.NotYet):
            self._decision(actions, snap.now, f"{purpose}_not_yet", chosen.reason)
            return
        qty = self._cfg.position_size_contracts
        pair = Straddle(leg_of(chosen.call, qty), leg_of(chosen.put, qty))
        actions.append(self.straddle.open(pair, self._intent(purpose, snap.now), purpose, trigger))

    def _complete_partial(
        self, snap: Snapshot, spot: Decimal, held: Straddle, actions: list[Action]
    ) -> None:
        have = held.legs[0]
        wanted = PutCall.PUT if have.put_call is PutCall.CALL else PutCall.CALL
        options = selection.usable_options(
            snap.chains.get((ROOT, have.expiry), ()), snap.quotes, snap.now
        )
        match = [o for o in options if o.strike == have.strike and o.contract.put_call is wanted]
        if not match:
            self._decision(
                actions,
                snap.now,
                "partial_straddle_waits",
                f"no usable {wanted.value} {have.strike} {have.expiry}",
            )
            return
        leg = leg_of(match[0], have.quantity)
        actions.append(self.straddle.missing_leg_order(leg, self._intent("complete", snap.now)))

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
            return
        if cycle.state is G.HOLDING and cycle.held is not None:
            if rules.scheduled_roll_due(
                now=now,
                short_expiry=cycle.held.expiry,
                thursday_from_et=cfg.roll_start_thursday_et,
                friday_from_et=cfg.roll_start_friday_et,
            ):
                self._try_roll(snap, spot, straddle, cycle.held, actions)
            return
        if cycle.state not in (G.NONE, G.ROLL_OPENING) or self._cooling(now, "strangle"):
            return
        block = rules.shorts_entry_block(
            vix=self._vix(snap), max_vix_new_shorts=cfg.max_vix_new_shorts
        )
        if block is not None:
            self._decision(actions, now, "shorts_wait", block)
            return
        expiry = selection.next_friday_at_least(snap.calendar.day, cfg.short_target_dte)
        if rules.proactive_restart(
            long_expiry=straddle.expiry, new_short_expiry=expiry, long_exit_dte=cfg.long_exit_dte
        ):
            self._m.exit_reason = "proactive_restart"
            self._continue_exit(now, actions)
            return
        chosen = self._choose_strangle(snap, spot, straddle, expiry)
        if isinstance(chosen, selection.NotYet):
            self._decision(actions, now, "shorts_not_yet", chosen.reason)
            return
        floor = self._m.challenged_close_cost_usd
        if floor is not None and not rules.roll_is_credit(
            close_cost_usd=floor, new_premium_usd=chosen.premium_usd
        ):
            self._decision(
                actions,
                now,
                "challenged_resale_refused_debit",
                f"premium {chosen.premium_usd} <= close cost {floor}",
            )
            return
        qty = cfg.position_size_contracts
        pair = Strangle(leg_of(chosen.call, qty), leg_of(chosen.put, qty))
        trigger = None if cycle.state is G.ROLL_OPENING else Trigger.ORDER_SENT
        actions.append(
            cycle.open(pair, self._intent("shorts", now), f"shorts_{chosen.mode}", trigger)
        )

    def _try_roll(
        self,
        snap: Snapshot,
        spot: Decimal,
        straddle: Straddle,
        held: Strangle,
        actions: list[Action],
    ) -> None:
        """Roll only for a net credit: the candidate is priced without touching `held`."""
        today = snap.calendar.day
        expiry = selection.next_friday_at_least(today, self._cfg.short_target_dte)
        candidate = self._choose_strangle(snap, spot, straddle, expiry)
        cost = held.close_cost_estimate_usd(snap.quotes)
        if isinstance(candidate, selection.NotYet) or cost is None:
            why = candidate.reason if isinstance(candidate, selection.NotYet) else "no close quote"
            self._decision(actions, snap.now, "roll_not_priced", why)
            return
        if not rules.roll_is_credit(close_cost_usd=cost, new_premium_usd=candidate.premium_usd):
            self._decision(
                actions,
                snap.now,
                "roll_refused_debit",
                f"new premium {candidate.premium_usd} <= close cost {cost}",
            )
            return
        actions.append(
            self.strangle.close(
                self._intent("roll", snap.now),
                f"scheduled_roll credit {candidate.premium_usd - cost}",
                Trigger.ROLL,
            )
        )

    # --- choices ---------------------------------------------------------------------------
    def _choose_straddle(
        self, snap: Snapshot, spot: Decimal
    ) -> selection.StraddleChoice | selection.NotYet:
        expiry = self._m.recenter_expiry or self._long_expiry(snap.calendar.day)
        options = selection.usable_options(
            snap.chains.get((ROOT, expiry), ()), snap.quotes, snap.now
        )
        return selection.choose_straddle(options, spot, self._cfg.max_entry_spread_percent)

    def _choose_strangle(
        self, snap: Snapshot, spot: Decimal, straddle: Straddle, expiry: date
    ) -> selection.StrangleChoice | selection.NotYet:
        cfg, qty = self._cfg, self._cfg.position_size_contracts
        options = selection.usable_options(
            snap.chains.get((ROOT, expiry), ()), snap.quotes, snap.now
        )
        if cfg.weekly_target_return_percent == 0:
            return selection.choose_strangle_by_multiple(
                options,
                spot,
                contracts=qty,
                min_multiple=cfg.strangle_multiplier_min,
                max_multiple=cfg.strangle_multiplier_max,
            )
        target = selection.StrangleTarget(
            straddle_cost_usd=straddle.cost_usd,
            target_percent=cfg.weekly_target_return_percent,
            weekly_theta_usd=weekly_theta_usd(snap, straddle),
            fees_usd=cfg.short_entry_fee_usd_per_leg * 2 * qty,
        )
        return selection.choose_strangle_for_target(
            options, spot, target=target, contracts=qty, cap_multiple=cfg.strangle_multiplier_max
        )

    # --- helpers -----------------------------------------------------------------------------
    def _new_day(self, snap: Snapshot) -> None:
        day = snap.calendar.day
        if self._m.day != day:
            self._m.new_day(day)
        if self._m.previous_close is None:
            bars = snap.bars.get(self._spy.uic, ())
            completed = [b for b in bars if b.time.astimezone(NY).date() < day]
            if completed:
                self._m.previous_close = Decimal(str(completed[-1].close))

    def _spot(self, snap: Snapshot) -> Decimal | None:
        quote = snap.quotes.get(self._spy.uic)
        spot = None if quote is None else quote.price
        if spot is not None:
            self._last_spot = spot
        return spot

    def _vix(self, snap: Snapshot) -> Decimal | None:
        quote = snap.quotes.get(self._vix_ref.uic)
        level = quote.price if quote is not None and quote.price is not None else None
        if level is None and self._cfg.vix_fallback_yahoo:
            level = snap.vix
        if level is not None:
            self._last_vix = level
        return level

    def _order_in_flight(self) -> bool:
        return any(c.intent_id is not None for c in (self.straddle, self.strangle))

    def _cooling(self, now: datetime, action: str) -> bool:
        return self._m.cooling(now, action)

    def _intent(self, purpose: str, now: datetime) -> str:
        return self._m.next_intent(purpose, now)

    def _decision(self, actions: list[Action], now: datetime, name: str, detail: str) -> None:
        event = decision_event(self._m, now, name, detail)
        if event is not None:
            actions.append(event)

    def _safety(self, actions: list[Action], now: datetime, name: str, description: str) -> None:
        actions.append(safety_event(now, name, description, self.state_name()))

    def _book_realized(self, name: str, realized_usd: Decimal, was: object) -> None:
        ledger = self._m.ledger
        if name == "straddle":
            ledger = replace(
                ledger,
                straddle_realized_usd=ledger.straddle_realized_usd + realized_usd,
                recenters=ledger.recenters + (was is D.RECENTER_CLOSING),
            )
        else:
            ledger = replace(
                ledger,
                strangle_realized_usd=ledger.strangle_realized_usd + realized_usd,
                rolls=ledger.rolls + (was is G.ROLL_CLOSING),
            )
        self._m.ledger = ledger
        logger.info(
            kv(
                "realized",
                lifecycle=name,
                usd=realized_usd,
                total_straddle_usd=ledger.straddle_realized_usd,
                total_strangle_usd=ledger.strangle_realized_usd,
            )
        )

    @staticmethod
    def _legs(cycle: StraddleLifecycle | StrangleLifecycle) -> list[int]:
        uics: set[int] = set()
        for pair in (cycle.held, cycle.pending):
            if pair is not None:
                uics |= pair.uics
        return sorted(uics)

    def _long_expiry(self, today: date) -> date:
        return selection.monthly_expiry_near(today, self._cfg.long_straddle_target_dte)

    def _wants_long_chain(self) -> bool:
        return self.straddle.state in (D.FLAT, D.WAITING_ENTRY, D.PARTIAL, D.RECENTER_OPENING)

    def _wants_short_chain(self, now: datetime) -> bool:
        """The weekly chain when shorts may be sold, or priced for a scheduled roll."""
        if self.straddle.state is not D.HOLDING:
            return False
        held = self.strangle.held
        if self.strangle.state is G.HOLDING and held is not None:
            cfg = self._cfg
            return rules.scheduled_roll_due(
                now=now,
                short_expiry=held.expiry,
                thursday_from_et=cfg.roll_start_thursday_et,
                friday_from_et=cfg.roll_start_friday_et,
            )
        return self.strangle.state in (G.NONE, G.ROLL_OPENING)

    def _short_strikes(self, now: datetime) -> int:
        """Strikes each side of spot for the weekly chain: the multiplier cap times the
        VIX-implied move to expiry, plus margin (SPY strikes are 1 USD apart near the money)."""
        spot, vix = self._last_spot, self._last_vix
        if spot is None or vix is None or vix <= 0:
            return 4 * SHORT_WINDOW_MIN_STRIKES
        today = now.astimezone(NY).date()
        expiry = selection.next_friday_at_least(today, self._cfg.short_target_dte)
        trading_days = max((expiry - today).days * 5 / 7, 1.0)
        move = expected_move_from_vix(float(spot), float(vix), trading_days)
        return max(
            SHORT_WINDOW_MIN_STRIKES, math.ceil(move * self._cfg.strangle_multiplier_max * 1.5) + 2
        )
