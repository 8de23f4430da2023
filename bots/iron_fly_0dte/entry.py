"""Before and during the entry: opening range, filters, waiting for usable legs, the order.

Rules: the range is recorded from `opening_range_start_et`; at the first decide at or after
`entry_time_et` the filters run once; if they pass, the fly is sent as soon as the breaker,
VIX re-check, chain, quotes, spread and credit allow, but no later than `entry_window_minutes`
after the entry time. A bot that first sees the day at or after the entry time (cold start,
no saved range) does not trade that day.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

from bots.iron_fly_0dte.book import ROOT, build_fly
from bots.iron_fly_0dte.config import BOT_NAME
from bots.iron_fly_0dte.core import StrategyCore, logger, text
from bots.iron_fly_0dte.opening_range import (
    OpeningRange,
    entry_at,
    opening_range_payload,
    range_start_at,
)
from bots.iron_fly_0dte.recovery import holds
from bots.iron_fly_0dte.rules import check_filters
from bots.iron_fly_0dte.selection import ChainView, FlyPlan, plan_fly
from bots.iron_fly_0dte.states import IronFlyState, Trigger
from shared.logger_service import kv
from shared.strategy import recovery
from shared.strategy_contract import (
    AbortEntry,
    Action,
    ExecutionReport,
    OpenPosition,
    RecordEvent,
    Snapshot,
)

S = IronFlyState
RANGE_ROW_EVERY = timedelta(minutes=5)  # refresh cadence of the MONITORING row (display only)
FINAL_ENTRY_STATUSES = frozenset({"failed", "unwound"})


class EntryPart(StrategyCore):
    """IDLE, OPENING_RANGE, ENTRY_PENDING and ENTERING."""

    def _on_idle(self, snap: Snapshot, price: Decimal | None, actions: list[Action]) -> None:
        if snap.calendar.session is None:
            return
        now = snap.now
        if now < range_start_at(self._cfg, now):
            return
        if now >= entry_at(self._cfg, now):
            reason = ("no prices during the opening range" if self._m.waited_in_range
                      else "started after the entry time; the opening range was not seen")
            self._skip(actions, snap, price, reason, Trigger.NO_RANGE)
            return
        self._m.waited_in_range = True
        fresh = self._fresh(snap)
        if fresh is None:
            return
        self._m.opening_range = OpeningRange.start(now, fresh, self._vix(snap))
        self._fire(Trigger.RANGE_START, f"first price {fresh}")
        self._range_row(actions, snap, fresh, "MONITORING", "recording the opening range")

    def _on_range(self, snap: Snapshot, price: Decimal | None, actions: list[Action]) -> None:
        now = snap.now
        rng = self._m.opening_range
        fresh = self._fresh(snap)
        if now < entry_at(self._cfg, now):
            if fresh is not None and rng is not None:
                rng.observe(fresh, self._vix(snap))
                last = self._m.range_row_at
                if last is None or now - last >= RANGE_ROW_EVERY:
                    self._range_row(actions, snap, fresh, "MONITORING", "recording the range")
            return
        if now > self._entry_deadline(now):
            self._skip(actions, snap, fresh, self._window_over_reason(), Trigger.SKIP)
            return
        result = check_filters(self._cfg, now=now, calendar=snap.calendar, opening_range=rng,
                               price=fresh, vix=self._vix(snap))
        if result.missing_data:
            self._not_ready(result.describe())
            return
        if not result.passed:
            self._skip(actions, snap, fresh, result.describe(), Trigger.SKIP)
            return
        self._fire(Trigger.FILTERS_PASSED, "every entry filter passed")
        self._on_pending(snap, price, actions)

    def _on_pending(self, snap: Snapshot, price: Decimal | None, actions: list[Action]) -> None:
        """Every filter again on each pass up to the order (a price that left the range, a
        VIX that jumped: skip; a missing price or VIX: wait), then the legs."""
        now = snap.now
        fresh = self._fresh(snap)
        if now > self._entry_deadline(now):
            self._skip(actions, snap, fresh, self._window_over_reason("no usable legs"),
                       Trigger.SKIP)
            return
        vix = self._vix(snap)
        result = check_filters(self._cfg, now=now, calendar=snap.calendar,
                               opening_range=self._m.opening_range, price=fresh, vix=vix)
        if result.missing_data:
            self._not_ready(result.describe())
            return
        if not result.passed:
            self._skip(actions, snap, fresh, f"{result.name}: re-check before the order: "
                       f"{result.reason}", Trigger.SKIP)
            return
        plan = self._plan(snap, fresh, vix)
        if not isinstance(plan, FlyPlan):
            self._not_ready(plan)
            return
        self._send_entry(actions, snap, fresh, vix, plan)

    def _not_ready(self, reason: str) -> None:
        """Wait within the entry window for `reason` to clear (logged when it changes)."""
        if reason != self._m.not_ready_reason:
            logger.info(kv("entry_waiting", reason=reason))
        self._m.not_ready_reason = reason

    def _window_over_reason(self, waiting_for: str = "") -> str:
        """The skip reason at the end of the entry window: what the entry was waiting for."""
        reason = self._m.not_ready_reason or waiting_for
        return f"entry window over: {reason}" if reason else "the entry window had passed"

    def _plan(self, snap: Snapshot, fresh: Decimal | None, vix: Decimal | None) -> FlyPlan | str:
        if not snap.breaker_allows_entries:
            return "circuit breaker blocks entries"
        if fresh is None:
            return "no fresh underlying price"
        if vix is None:
            return "no VIX level for the re-check"
        day = snap.calendar.day
        chain = ChainView(
            snap.chains.get((ROOT, day), ()), root_uic=self._cfg.instruments.option_root_uic,
            expiry=day, quotes=snap.quotes, ages=snap.quote_ages_s, now=snap.now,
            max_age_s=self._max_quote_age_s,
        )
        plan = plan_fly(self._cfg, chain, fresh, vix)
        return plan if isinstance(plan, FlyPlan) else plan.reason

    def _send_entry(self, actions: list[Action], snap: Snapshot, price: Decimal | None,
                    vix: Decimal | None, plan: FlyPlan) -> None:
        day = snap.calendar.day
        fly = build_fly(expiry=day, atm=plan.atm, wing=plan.wing.points,
                        quantity=self._cfg.position_size_contracts, uics=plan.uics)
        intent = f"{BOT_NAME}:{day.isoformat()}:entry"
        self._m.fly, self._m.entry_intent_id, self._m.entry_sent_at = fly, intent, snap.now
        reason = (f"ATM {plan.atm} wings +-{plan.wing.points} ({plan.wing.source}) quoted credit "
                  f"{plan.quoted_credit} spread {plan.spread_percent:.1f}%")
        actions.append(OpenPosition(
            intent_id=intent, legs=fly.entry_legs(), reason=reason, order_style=self._order_style,
            max_attempts=self._cfg.max_entry_attempts,
            attempt_spacing_s=self._cfg.entry_attempt_spacing_seconds,
        ))
        self._fire(Trigger.ORDER_SENT, reason)
        self._range_row(actions, snap, price, "ENTER", reason, vix=vix,
                        expected_move=plan.wing.expected_move, atm=plan.atm,
                        wing=plan.wing.points)

    def _on_entering(self, snap: Snapshot, price: Decimal | None, actions: list[Action]) -> None:
        planned = self._m.fly
        if planned is not None and holds(planned, snap.positions):
            # All four legs are at the broker before the report: guard them already (the
            # executor aborts an entry whose legs a close touches).
            signal = self._exit_signal(snap, price, planned)
            if signal is not None:
                self._start_close(actions, snap.now, planned.close_legs(), signal.reason,
                                  Trigger.EXIT)
                return
        sent = self._m.entry_sent_at or snap.now
        cfg = self._cfg
        budget = (cfg.max_entry_attempts - 1) * cfg.entry_attempt_spacing_seconds
        if (snap.now - sent).total_seconds() < budget + cfg.entry_report_timeout_seconds:
            return
        uics = planned.uics if planned is not None else frozenset()
        book = recovery.read_book([p for p in snap.positions if p.uic in uics])
        self._safety(actions, snap.now, "entry_report_timeout",
                     f"no final entry report; broker shows {book.describe()}")
        if book.legs:  # the close aborts the entry job too (it shares the uics)
            self._start_close(actions, snap.now, recovery.close_all_legs(book, ROOT),
                              "entry_unconfirmed", Trigger.EXIT)
        else:
            if self._m.entry_intent_id is not None:
                actions.append(AbortEntry(self._m.entry_intent_id, "entry report timeout"))
            self._fire(Trigger.ENTRY_FAILED, "no entry report and nothing at the broker")

    def _on_entry_report(self, report: ExecutionReport, now: datetime,
                         actions: list[Action]) -> None:
        fly = self._m.fly
        logger.info(kv("entry_report", status=report.status, attempt=report.attempt,
                       detail=report.detail, state=self._state))
        if report.status == "filled" and fly is not None:
            try:
                fly.set_credit_from_fills(report.fills)
            except ValueError as exc:
                self._safety(actions, now, "entry_fills_incomplete",
                             f"{exc}; credit taken from the broker's open prices instead")
            fly.entry_at = max((f.filled_at for f in report.fills), default=now)
            if self._state is S.DONE:  # filled after we gave up on it: protect by closing
                self._safety(actions, now, "late_entry_fill", "entry filled after it was "
                             "given up; closing the fly")
                self._start_close(actions, now, fly.close_legs(), "late_entry_fill",
                                  Trigger.EXIT)
            elif self._state is S.ENTERING:
                self._fire(Trigger.ENTRY_FILLED, f"credit {fly.net_credit_usd} USD net")
                self._bot_log(actions, now, "entry_filled", credit_usd=text(fly.credit_usd),
                              entry_commission_usd=fly.entry_commission_usd,
                              atm_strike=fly.atm_strike, upper_wing=fly.upper_wing,
                              lower_wing=fly.lower_wing, quantity=fly.quantity)
            return
        if report.status in FINAL_ENTRY_STATUSES and self._state is S.ENTERING:
            if report.status == "unwound":
                self._safety(actions, now, "entry_unwound", report.detail or "legs unwound")
            self._fire(Trigger.ENTRY_FAILED, f"{report.status}: {report.detail}")

    def _entry_deadline(self, now: datetime) -> datetime:
        return entry_at(self._cfg, now) + timedelta(minutes=self._cfg.entry_window_minutes)

    def _skip(self, actions: list[Action], snap: Snapshot, price: Decimal | None, reason: str,
              trigger: Trigger) -> None:
        logger.info(kv("entry_skipped", day=snap.calendar.day, reason=reason))
        self._fire(trigger, reason)
        self._range_row(actions, snap, price, "SKIP", reason)

    def _range_row(self, actions: list[Action], snap: Snapshot, price: Decimal | None,
                   decision: str, reason: str, *, vix: Decimal | None = None,
                   expected_move: Decimal | None = None, atm: Decimal | None = None,
                   wing: Decimal | None = None) -> None:
        day = snap.calendar.day.isoformat()
        self._m.range_row_at = snap.now
        payload = opening_range_payload(
            self._cfg, day=day, as_of=snap.now, opening_range=self._m.opening_range, price=price,
            vix=vix if vix is not None else self._vix(snap), decision=decision, reason=reason,
            expected_move=expected_move, atm_strike=atm, wing_width=wing,
        )
        actions.append(RecordEvent(kind="opening_range", key=day, payload=payload))
        if decision != "MONITORING":
            logger.info(kv("opening_range_decision", day=day, decision=decision, reason=reason))
