"""The entry lifecycle: the opening range, the decision at the entry time, the order, its report.

idle -> opening_range -> entry_pending -> entering -> filled, or over (skipped, failed, or its
legs handed to a close before the final report). Rules: the range is recorded from
`opening_range_start_et` on every tick; at the first decide at or after `entry_time_et` the
filters run; if they pass, every filter runs again on each pass up to the order, and the fly is
sent as soon as the breaker, chain, quotes, spread and credit allow, but no later than
`entry_window_minutes` after the entry time. A bot that first sees the day at or after the entry
time (cold start, no saved range) does not trade that day.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from bots.iron_fly_0dte.book import ROOT, Fly, build_fly
from bots.iron_fly_0dte.config import BOT_NAME, IronFlyStrategyConfig
from bots.iron_fly_0dte.market import MarketView
from bots.iron_fly_0dte.opening_range import (
    OpeningRange,
    entry_at,
    opening_range_payload,
    range_start_at,
)
from bots.iron_fly_0dte.records import Recorder, logger
from bots.iron_fly_0dte.rules import check_filters
from bots.iron_fly_0dte.selection import ChainView, FlyPlan, plan_fly
from bots.iron_fly_0dte.states import ENTRY_TRANSITIONS, EntryState, EntryTrigger, IronFlyState
from shared.logger_service import kv
from shared.strategy.transitions import next_state
from shared.strategy_contract import (
    AbortEntry,
    ExecutionReport,
    OpenPosition,
    OrderStyle,
    RecordEvent,
    Snapshot,
)

E, T = EntryState, EntryTrigger
RANGE_ROW_EVERY = timedelta(minutes=5)  # refresh cadence of the MONITORING row (display only)
FINAL_ENTRY_STATUSES = frozenset({"failed", "unwound"})


@dataclass(frozen=True)
class EntryFill:
    """A `filled` entry report: the fly with its credit booked; `first` when it completes the
    entry in progress (else it arrived after the entry was over or handed to a close)."""

    fly: Fly
    first: bool


class EntryLifecycle:
    """The day's one entry: its opening range, its planned fly and the order's intent."""

    def __init__(self, config: IronFlyStrategyConfig, market: MarketView,
                 order_style: OrderStyle) -> None:
        self._cfg = config
        self._market = market
        self._order_style = order_style
        self._state = E.IDLE
        self.opening_range: OpeningRange | None = None
        self.range_row_at: datetime | None = None
        self.waited_in_range = False
        self.fly: Fly | None = None  # planned when the order is sent
        self.intent_id: str | None = None
        self.sent_at: datetime | None = None
        self.not_ready_reason = ""

    @property
    def state(self) -> EntryState:
        return self._state

    def _fire(self, trigger: EntryTrigger, reason: str) -> None:
        before = self._state
        self._state = next_state(ENTRY_TRANSITIONS, before, trigger)
        logger.info(kv("state_change", lifecycle="entry", from_state=before, to=self._state,
                       trigger=trigger, reason=reason))

    def on_snapshot(self, snap: Snapshot, price: Decimal | None, rec: Recorder) -> None:
        """Record the range, decide at the entry time, send the order when ready; `price` is
        the stops' underlying price (shown on a skip before the range)."""
        if self._state is E.IDLE:
            self._on_idle(snap, price, rec)
        elif self._state is E.OPENING_RANGE:
            self._on_range(snap, rec)
        elif self._state is E.ENTRY_PENDING:
            self._on_pending(snap, rec)

    def _on_idle(self, snap: Snapshot, price: Decimal | None, rec: Recorder) -> None:
        if snap.calendar.session is None:
            return
        now = snap.now
        if now < range_start_at(self._cfg, now):
            return
        if now >= entry_at(self._cfg, now):
            reason = ("no prices during the opening range" if self.waited_in_range
                      else "started after the entry time; the opening range was not seen")
            self._skip(snap, rec, price, reason, T.NO_RANGE)
            return
        self.waited_in_range = True
        fresh = self._market.fresh_price(snap)
        if fresh is None:
            return
        self.opening_range = OpeningRange.start(now, fresh, self._market.vix(snap))
        self._fire(T.RANGE_START, f"first price {fresh}")
        self._range_row(snap, rec, fresh, "MONITORING", "recording the opening range")

    def _on_range(self, snap: Snapshot, rec: Recorder) -> None:
        now = snap.now
        rng = self.opening_range
        fresh = self._market.fresh_price(snap)
        if now < entry_at(self._cfg, now):
            if fresh is not None and rng is not None:
                rng.observe(fresh, self._market.vix(snap))
                last = self.range_row_at
                if last is None or now - last >= RANGE_ROW_EVERY:
                    self._range_row(snap, rec, fresh, "MONITORING", "recording the range")
            return
        if now > self._deadline(now):
            self._skip(snap, rec, fresh, self._window_over_reason(), T.SKIP)
            return
        result = check_filters(self._cfg, now=now, calendar=snap.calendar, opening_range=rng,
                               price=fresh, vix=self._market.vix(snap))
        if result.missing_data:
            self._not_ready(result.describe())
            return
        if not result.passed:
            self._skip(snap, rec, fresh, result.describe(), T.SKIP)
            return
        self._fire(T.FILTERS_PASSED, "every entry filter passed")
        self._on_pending(snap, rec)

    def _on_pending(self, snap: Snapshot, rec: Recorder) -> None:
        """Every filter again on each pass up to the order (a price that left the range, a
        VIX that jumped: skip; a missing price or VIX: wait), then the legs."""
        now = snap.now
        fresh = self._market.fresh_price(snap)
        if now > self._deadline(now):
            self._skip(snap, rec, fresh, self._window_over_reason("no usable legs"), T.SKIP)
            return
        vix = self._market.vix(snap)
        result = check_filters(self._cfg, now=now, calendar=snap.calendar,
                               opening_range=self.opening_range, price=fresh, vix=vix)
        if result.missing_data:
            self._not_ready(result.describe())
            return
        if not result.passed:
            self._skip(snap, rec, fresh, f"{result.name}: re-check before the order: "
                       f"{result.reason}", T.SKIP)
            return
        plan = self._plan(snap, fresh, vix)
        if not isinstance(plan, FlyPlan):
            self._not_ready(plan)
            return
        self._send(snap, rec, fresh, vix, plan)

    def _not_ready(self, reason: str) -> None:
        """Wait within the entry window for `reason` to clear (logged when it changes)."""
        if reason != self.not_ready_reason:
            logger.info(kv("entry_waiting", reason=reason))
        self.not_ready_reason = reason

    def _window_over_reason(self, waiting_for: str = "") -> str:
        """The skip reason at the end of the entry window: what the entry was waiting for."""
        reason = self.not_ready_reason or waiting_for
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
            max_age_s=self._market.max_quote_age_s,
        )
        plan = plan_fly(self._cfg, chain, fresh, vix)
        return plan if isinstance(plan, FlyPlan) else plan.reason

    def _send(self, snap: Snapshot, rec: Recorder, price: Decimal | None, vix: Decimal | None,
              plan: FlyPlan) -> None:
        day = snap.calendar.day
        fly = build_fly(expiry=day, atm=plan.atm, wing=plan.wing.points,
                        quantity=self._cfg.position_size_contracts, uics=plan.uics)
        self.fly, self.sent_at = fly, snap.now
        self.intent_id = f"{BOT_NAME}:{day.isoformat()}:entry"
        reason = (f"ATM {plan.atm} wings +-{plan.wing.points} ({plan.wing.source}) quoted credit "
                  f"{plan.quoted_credit} spread {plan.spread_percent:.1f}%")
        rec.add(OpenPosition(
            intent_id=self.intent_id, legs=fly.entry_legs(), reason=reason,
            order_style=self._order_style, max_attempts=self._cfg.max_entry_attempts,
            attempt_spacing_s=self._cfg.entry_attempt_spacing_seconds,
        ))
        self._fire(T.ORDER_SENT, reason)
        self._range_row(snap, rec, price, "ENTER", reason, vix=vix,
                        expected_move=plan.wing.expected_move, atm=plan.atm,
                        wing=plan.wing.points)

    # ------------------------------------------------------------------ entering
    def report_overdue(self, now: datetime) -> bool:
        """True when the executor's retries and the report timeout have all passed since the
        order was sent (UTC)."""
        cfg = self._cfg
        budget = (cfg.max_entry_attempts - 1) * cfg.entry_attempt_spacing_seconds
        sent = self.sent_at or now
        return (now - sent).total_seconds() >= budget + cfg.entry_report_timeout_seconds

    def hand_to_close(self, reason: str) -> None:
        """The planned fly's legs are being closed before the final report."""
        self._fire(T.HANDED_TO_CLOSE, reason)

    def abort(self, rec: Recorder, reason: str) -> None:
        """Give the entry up with nothing at the broker: abort the executor's job."""
        if self.intent_id is not None:
            rec.add(AbortEntry(self.intent_id, reason))
        self._fire(T.ENTRY_FAILED, "no entry report and nothing at the broker")

    def on_report(self, report: ExecutionReport, rec: Recorder) -> EntryFill | None:
        """Book a fill's credit (fills, else the broker's open prices later; a safety record)
        or end a failed entry. Returns the fill for the position lifecycle, if any."""
        fly = self.fly
        logger.info(kv("entry_report", status=report.status, attempt=report.attempt,
                       detail=report.detail, state=rec.state()))
        if report.status == "filled" and fly is not None:
            try:
                fly.set_credit_from_fills(report.fills)
            except ValueError as exc:
                rec.safety("entry_fills_incomplete",
                           f"{exc}; credit taken from the broker's open prices instead")
            fly.entry_at = max((f.filled_at for f in report.fills), default=rec.now)
            first = self._state is E.ENTERING
            if first:
                self._fire(T.ENTRY_FILLED, f"credit {fly.net_credit_usd} USD net")
            return EntryFill(fly, first)
        if report.status in FINAL_ENTRY_STATUSES and self._state is E.ENTERING:
            if report.status == "unwound":
                rec.safety("entry_unwound", report.detail or "legs unwound")
            self._fire(T.ENTRY_FAILED, f"{report.status}: {report.detail}")
        return None

    # ------------------------------------------------------------------ restore
    def restore_morning(self, saved: IronFlyState, opening_range: OpeningRange | None,
                        range_row_at: datetime | None, waited_in_range: bool) -> None:
        """Keep the range seen before a restart; resume recording it or waiting for legs."""
        self.opening_range, self.range_row_at = opening_range, range_row_at
        self.waited_in_range = waited_in_range
        if saved is IronFlyState.OPENING_RANGE and opening_range is not None:
            self._fire(T.RESTORE_RANGE, "opening range restored")
        elif saved is IronFlyState.ENTRY_PENDING and opening_range is not None:
            self._fire(T.RESTORE_PENDING, "filters had passed")

    def restore_entering(self, fly: Fly | None, intent_id: str | None, now: datetime) -> None:
        """The entry was in flight: the executor finishes or unwinds it after a restart and
        reports; wait for that report (the entry timeout and the wing stop still apply)."""
        self.fly, self.intent_id, self.sent_at = fly, intent_id, now
        self._fire(T.RESTORE_ENTERING, "entry interrupted; waiting for the executor")

    def restore_finished(self, fly: Fly | None, intent_id: str | None, reason: str) -> None:
        """The day's entry is behind us; keep its fly and intent so a late report is known."""
        self.fly, self.intent_id = fly, intent_id
        filled = fly is not None and intent_id is not None
        self._fire(T.RESTORE_FILLED if filled else T.RESTORE_OVER, reason)

    # ------------------------------------------------------------------ records
    def _deadline(self, now: datetime) -> datetime:
        return entry_at(self._cfg, now) + timedelta(minutes=self._cfg.entry_window_minutes)

    def _skip(self, snap: Snapshot, rec: Recorder, price: Decimal | None, reason: str,
              trigger: EntryTrigger) -> None:
        logger.info(kv("entry_skipped", day=snap.calendar.day, reason=reason))
        self._fire(trigger, reason)
        self._range_row(snap, rec, price, "SKIP", reason)

    def _range_row(self, snap: Snapshot, rec: Recorder, price: Decimal | None, decision: str,
                   reason: str, *, vix: Decimal | None = None,
                   expected_move: Decimal | None = None, atm: Decimal | None = None,
                   wing: Decimal | None = None) -> None:
        day = snap.calendar.day.isoformat()
        self.range_row_at = snap.now
        payload = opening_range_payload(
            self._cfg, day=day, as_of=snap.now, opening_range=self.opening_range, price=price,
            vix=vix if vix is not None else self._market.vix(snap), decision=decision,
            reason=reason, expected_move=expected_move, atm_strike=atm, wing_width=wing,
        )
        rec.add(RecordEvent(kind="opening_range", key=day, payload=payload))
        if decision != "MONITORING":
            logger.info(kv("opening_range_decision", day=day, decision=decision, reason=reason))
