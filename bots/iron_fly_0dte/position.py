"""The position lifecycle: the fly held, its exits, and its close until the broker is flat.

flat -> in_position (the entry filled) -> closing -> closed, with close_stuck as the alert
state. A held fly is protected on every decide by the exit rules (`rules.check_exit`). A close
with no final report after `close_retry_seconds`, or reported stuck/failed, moves to
close_stuck (an ERROR log and a safety record each time) and is re-issued
(`shared.strategy.closing.reissue_due`: same intent id, the legs the broker still shows) every
`close_retry_seconds`; a broker showing them flat ends it. The lifecycle also closes legs that
are not a fly of ours (left over at a rollover or found at a restart): no P&L is booked then.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, timedelta
from decimal import Decimal

from bots.iron_fly_0dte.book import Fly
from bots.iron_fly_0dte.config import BOT_NAME, IronFlyStrategyConfig
from bots.iron_fly_0dte.market import MarketView
from bots.iron_fly_0dte.opening_range import NY
from bots.iron_fly_0dte.records import Recorder, logger, text
from bots.iron_fly_0dte.recovery import credit_from_broker
from bots.iron_fly_0dte.rules import ExitInputs, check_exit
from bots.iron_fly_0dte.states import POSITION_TRANSITIONS, PositionState, PositionTrigger
from shared.domain import Position
from shared.logger_service import kv
from shared.strategy import recovery
from shared.strategy.closing import CloseTracker, reissue_due
from shared.strategy.transitions import next_state
from shared.strategy_contract import ClosePosition, ExecutionReport, LegFill, LegSpec, Snapshot

P, T = PositionState, PositionTrigger
CLOSE_TROUBLE_STATUSES = frozenset({"stuck", "failed", "unwound"})
# Closes of legs that were never a fly of ours with a known credit: no trade P&L to book.
NO_PNL_REASONS = frozenset({"leftover_legs", "recovered_leftovers", "entry_unconfirmed"})


class PositionLifecycle:
    """The day's fly once it is at the broker (or legs to close), for trading `day`."""

    def __init__(self, config: IronFlyStrategyConfig, market: MarketView, day: date | None,
                 *, close_seq: int = 0) -> None:
        self._cfg = config
        self._market = market
        self._day = day
        self._state = P.FLAT
        self.fly: Fly | None = None
        self.close: CloseTracker | None = None
        self.close_seq = close_seq
        self.close_fills: dict[str, tuple[LegFill, ...]] = {}

    @property
    def state(self) -> PositionState:
        return self._state

    def _fire(self, trigger: PositionTrigger, reason: str) -> None:
        before = self._state
        self._state = next_state(POSITION_TRANSITIONS, before, trigger)
        logger.info(kv("state_change", lifecycle="position", from_state=before, to=self._state,
                       trigger=trigger, reason=reason))

    # ------------------------------------------------------------------ holding
    def open(self, fly: Fly, rec: Recorder) -> None:
        """The entry filled: hold `fly` (its credit booked from the fills)."""
        self.fly = fly
        self._fire(T.OPENED, f"credit {fly.net_credit_usd} USD net")
        rec.bot_log("entry_filled", credit_usd=text(fly.credit_usd),
                    entry_commission_usd=fly.entry_commission_usd, atm_strike=fly.atm_strike,
                    upper_wing=fly.upper_wing, lower_wing=fly.lower_wing,
                    quantity=fly.quantity)

    def on_snapshot(self, snap: Snapshot, price: Decimal | None, rec: Recorder) -> None:
        """Protect the held fly, or follow the close in progress."""
        if self._state is P.IN_POSITION:
            fly = self.fly
            if fly is None:  # cannot happen by construction; never hold blind
                raise RuntimeError("IN_POSITION without a fly")
            if fly.credit_usd is None:
                credit_from_broker(fly, snap.positions)
            self.protect(fly, snap, price, rec)
        elif self._state in (P.CLOSING, P.CLOSE_STUCK):
            self._follow_close(snap, rec)

    def protect(self, fly: Fly, snap: Snapshot, price: Decimal | None, rec: Recorder) -> bool:
        """Close `fly` if an exit rule fires on this snapshot (logged); True when it did."""
        leg_quotes = self._market.leg_quotes(snap, fly.uics)
        inputs = ExitInputs(now=snap.now, price=price, leg_quotes=leg_quotes,
                            flash_move_percent=self._market.flash.move_percent())
        signal = check_exit(self._cfg, fly, inputs)
        if signal is None:
            return False
        logger.warning(kv("exit", reason=signal.reason, detail=signal.detail, price=price,
                          unrealized_usd=fly.unrealized_pnl_usd(leg_quotes),
                          tick=snap.triggered_by_tick, state=rec.state()))
        self.start_close(fly.close_legs(), signal.reason, rec, fly=fly)
        return True

    # ------------------------------------------------------------------ closing
    def start_close(self, legs: tuple[LegSpec, ...], reason: str, rec: Recorder, *,
                    fly: Fly | None = None) -> None:
        """Send one urgent close of `legs` under a new intent id; `fly` is the fly they are
        (its P&L is booked at the end unless `reason` is in NO_PNL_REASONS)."""
        if fly is not None:
            self.fly = fly
        intent = self._next_close_intent(rec.now)
        self.close = CloseTracker(intent_id=intent, reason=reason, sent_at=rec.now, legs=legs)
        rec.add(ClosePosition(intent_id=intent, legs=legs, exit_reason=reason, urgent=True))
        self._fire(T.EXIT, reason)

    def owns(self, intent_id: str) -> bool:
        """True when `intent_id` is one of this day's closes and a close is known."""
        return self.close is not None and intent_id.startswith(self._close_prefix())

    def on_close_report(self, report: ExecutionReport, rec: Recorder) -> None:
        if report.fills:
            self.close_fills[report.intent_id] = tuple(report.fills)
        if self._state not in (P.CLOSING, P.CLOSE_STUCK):
            logger.warning(kv("close_report_late", intent=report.intent_id, status=report.status))
            return
        if report.status == "closed":
            self._finish_close(rec)
        elif report.status in CLOSE_TROUBLE_STATUSES:
            self._mark_stuck(rec, f"{report.status}: {report.detail}", retry_now=False)

    def _follow_close(self, snap: Snapshot, rec: Recorder) -> None:
        close = self.close
        if close is None:
            raise RuntimeError(f"{self._state} without a close in progress")
        now = snap.now
        retry = timedelta(seconds=self._cfg.close_retry_seconds)
        if self._state is P.CLOSING:
            if now - close.sent_at < retry:
                return
            self._mark_stuck(rec, "no final close report", retry_now=True)
        due = reissue_due(close, snap.positions, now, retry)
        if due is None:
            return
        if due.over_closed:
            rec.safety("over_closed", f"legs now on the other side: {due.over_closed}")
        if due.order is None:
            rec.safety("close_confirmed_by_positions",
                       "broker shows the legs flat without a closed report")
            self._finish_close(rec)
            return
        rec.add(due.order)
        logger.error(kv("close_reissued", intent=close.intent_id, legs=len(due.order.legs),
                        reissues=close.reissues, reason=close.reason))

    def _mark_stuck(self, rec: Recorder, detail: str, *, retry_now: bool) -> None:
        close = self.close
        assert close is not None
        wait = timedelta(seconds=0 if retry_now else self._cfg.close_retry_seconds)
        close.next_retry_at = rec.now + wait
        logger.error(kv("close_stuck", intent=close.intent_id, detail=detail,
                        retry_at=close.next_retry_at.isoformat()))
        rec.safety("close_stuck", f"{close.reason}: {detail}")
        self._fire(T.STUCK, detail)

    def _finish_close(self, rec: Recorder) -> None:
        close, fly = self.close, self.fly
        fills = [fill for rows in self.close_fills.values() for fill in rows]
        booked = fly is not None and close is not None and close.reason not in NO_PNL_REASONS
        pnl = fly.realized_pnl_usd(fills) if booked and fly is not None else None
        reason = close.reason if close is not None else ""
        self._fire(T.CLOSED, reason)
        rec.bot_log("trade_closed", exit_reason=reason, realized_pnl_usd=text(pnl),
                    close_fills=len(fills))

    def _close_prefix(self) -> str:
        return f"{BOT_NAME}:{self._day}:close:"

    def _next_close_intent(self, now: datetime) -> str:
        """A new close intent id: day, sequence and the New York time, so ids stay unique
        even after a restart that lost the saved sequence."""
        self.close_seq += 1
        return f"{self._close_prefix()}{self.close_seq}-{now.astimezone(NY):%H%M%S}"

    # ------------------------------------------------------------------ restore
    def restore_held(self, fly: Fly, close_fills: dict[str, tuple[LegFill, ...]]) -> None:
        """Hold `fly` found at the broker after a restart."""
        self.fly, self.close_fills = fly, dict(close_fills)
        self._fire(T.RESTORE_POSITION, f"fly ATM {fly.atm_strike} x{fly.quantity}")

    def restore_close(self, close: CloseTracker, fly: Fly | None,
                      close_fills: dict[str, tuple[LegFill, ...]],
                      positions: Sequence[Position], rec: Recorder) -> None:
        """A close was in flight: re-issue it under its own intent id (the executor ignores it
        if it resumed that close) for the legs the broker still shows."""
        self.fly, self.close_fills = fly, dict(close_fills)
        self.close = CloseTracker(close.intent_id, close.reason, rec.now, close.legs,
                                  reissues=close.reissues)
        remaining = recovery.still_open(close.legs, positions)
        rec.add(ClosePosition(close.intent_id, remaining, close.reason, urgent=True))
        self._fire(T.RESTORE_CLOSE, f"close {close.intent_id} resumed")

    def restore_leftover_close(self, legs: tuple[LegSpec, ...], rec: Recorder) -> None:
        """Close legs found at a restart that are not one complete 0DTE fly."""
        intent = self._next_close_intent(rec.now)
        self.close = CloseTracker(intent, "recovered_leftovers", rec.now, legs)
        rec.add(ClosePosition(intent, legs, "recovered_leftovers", urgent=True))
        self._fire(T.RESTORE_CLOSE, "closing malformed legs")
