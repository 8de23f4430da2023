"""Working one leg: choose the next order (ladder step or market), write the intent, send it
once, then verify it on later passes. Never blocks, never re-sends an order whose outcome is
unknown: such an order is looked up by its external reference until found or given up on.
Fills are journaled only at the broker's fill price and commission, never at a quote or limit.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal
from typing import Any

from shared.broker import Broker, OrderOutcomeUnknown, OrderRefused, OrderTicket
from shared.circuit_breaker import CircuitBreaker
from shared.clock import Clock
from shared.domain import Fill, OrderOutcome, OrderStatus, OrderType, Position, Quote, Side
from shared.execution import ladder
from shared.execution.model import ExecutionSettings, Job, JobKind, LegWork, OrderWork
from shared.execution.recorder import Recorder
from shared.journal import IntentStatus, OpenClose
from shared.logger_service import kv
from shared.strategy_contract import LegFill, OrderStyle

logger = logging.getLogger(__name__)

CrashHook = Callable[[str], None]
OPTION_MULTIPLIER = 100


def multiplier_of(asset_type: str) -> int:
    return OPTION_MULTIPLIER if asset_type.endswith("Option") else 1


def held_amount(positions: list[Position], uic: int) -> int:
    """Signed contracts the broker shows on `uic` (sum over its positions)."""
    return int(sum((p.amount for p in positions if p.uic == uic), Decimal(0)))


class LegWorker:
    """Sends and verifies the orders of legs; shared by every job of one executor."""

    def __init__(
        self,
        *,
        broker: Broker,
        recorder: Recorder,
        clock: Clock,
        settings: ExecutionSettings,
        breaker: CircuitBreaker,
        crash: CrashHook,
    ) -> None:
        self._broker = broker
        self._recorder = recorder
        self._clock = clock
        self._settings = settings
        self._breaker = breaker
        self._crash = crash
        self._price_alarmed: set[str] = set()  # order ids already reported as unpriced

    # --- choosing and sending ------------------------------------------------------------
    def send_next(self, job: Job, leg: LegWork, positions: list[Position]) -> None:
        """Send the leg's next order, or set `leg.failed_reason` when none may be sent."""
        now = self._clock.monotonic()
        quantity = leg.remaining
        held = held_amount(positions, leg.spec.uic)
        side = leg.spec.side
        reduces = (held < 0 and side is Side.BUY) or (held > 0 and side is Side.SELL)
        if job.kind is JobKind.CLOSE:
            if not reduces:
                self._nothing_held(leg, now)
                return
            quantity = min(quantity, abs(held))
        leg.next_try_at = 0.0
        urgent = job.urgent
        quote = self._quote(leg)
        order_type, price, why = self._choose(job, leg, quote, urgent)
        if order_type is None:
            leg.failed_reason = why
            return
        touch = ladder.touch_price(leg.spec.side, quote) if quote else None
        deadline = (
            self._settings.ladder_step_seconds
            if order_type is OrderType.LIMIT
            else self._settings.fill_check_timeout_seconds
        )
        request_id = uuid.uuid4().hex
        order = OrderWork(
            request_id=request_id,
            external_reference=f"cal-{request_id[:24]}",
            order_type=order_type,
            quantity=quantity,
            limit_price=price,
            reference_price=price or touch,
            sent_utc=self._clock.now(),
            deadline_at=now + deadline,
            held_at_send=held,
        )
        self._write_intent(job, leg, order, to_open=not reduces)
        self._crash(_point(job, "before_send", leg))
        ticket = OrderTicket(
            uic=leg.spec.uic,
            asset_type=leg.spec.asset_type,
            side=leg.spec.side,
            quantity=quantity,
            order_type=order_type,
            external_reference=order.external_reference,
            limit_price=price,
            to_open=(not reduces) if leg.spec.asset_type.endswith("Option") else None,
        )
        journal = self._recorder.journal
        try:
            placed = self._broker.place_order(ticket, request_id=request_id)
        except OrderRefused as exc:
            journal.mark_intent(request_id, IntentStatus.FAILED, error=str(exc))
            self._breaker.record_failure(f"order refused: {exc.code}")
            logger.warning(kv("order_refused", intent=job.intent_id, leg=leg.spec.leg, error=exc))
            self._advance_after_failure(job, leg, order)
            return
        except OrderOutcomeUnknown as exc:
            journal.mark_intent(request_id, IntentStatus.UNKNOWN, error=str(exc))
            self._breaker.record_failure("order outcome unknown")
            order.unknown_since_at = now
            leg.order = order
            return
        order.order_id = placed.order_id
        journal.mark_intent(request_id, IntentStatus.SENT, order_id=placed.order_id)
        leg.order = order
        self._crash(_point(job, "after_send", leg))

    def _nothing_held(self, leg: LegWork, now: float) -> None:
        """A close leg finds no position to reduce: positions can lag a fill, so wait a while
        before concluding there is nothing to close."""
        if leg.next_try_at == 0.0:
            leg.next_try_at = now + self._settings.fill_check_timeout_seconds
            logger.info(kv("close_leg_nothing_held_yet", leg=leg.spec.leg, uic=leg.spec.uic))
            return
        if now >= leg.next_try_at:
            logger.warning(kv("close_leg_nothing_held", leg=leg.spec.leg, uic=leg.spec.uic))
            leg.filled_qty = leg.spec.quantity

    def _quote(self, leg: LegWork) -> Quote | None:
        quotes = self._broker.quotes([leg.spec.uic], leg.spec.asset_type)
        return quotes.get(leg.spec.uic)

    def _choose(
        self, job: Job, leg: LegWork, quote: Quote | None, urgent: bool
    ) -> tuple[OrderType | None, Decimal | None, str]:
        """(order type, limit price, why); order type None means no order may be sent."""
        settings = self._settings
        if job.style is OrderStyle.LIMIT_LADDER and not urgent:
            steps = settings.ladder_steps_percent
            while leg.step_index < len(steps):
                price = (
                    ladder.ladder_price(leg.spec.side, quote, steps[leg.step_index], leg.spec.root)
                    if quote is not None
                    else None
                )
                if price is not None:
                    return OrderType.LIMIT, price, f"ladder step {leg.step_index}"
                leg.step_index = len(steps)  # no usable quote: go to the market stage
            if not settings.market_after_ladder:
                return None, None, "limit ladder exhausted"
        attempts = (
            settings.emergency_close_attempts
            if job.kind is JobKind.CLOSE
            else settings.entry_market_attempts
        )
        if leg.market_attempts >= attempts:
            return None, None, f"{leg.market_attempts} market attempts failed"
        if not urgent and job.kind is JobKind.ENTRY:
            allowed, why = ladder.market_allowed(quote, settings.max_market_spread_usd)
            if not allowed:
                return None, None, f"market order refused by the spread guard: {why}"
        return OrderType.MARKET, None, "market"

    def _write_intent(self, job: Job, leg: LegWork, order: OrderWork, *, to_open: bool) -> None:
        payload: dict[str, Any] = {
            "intent_id": job.intent_id,
            "job": job.kind.value,
            "attempt": job.attempt,
            "leg": leg.spec.leg,
            "uic": leg.spec.uic,
            "asset_type": leg.spec.asset_type,
            "side": leg.spec.side.value,
            "quantity": order.quantity,
            "order_type": order.order_type.value,
            "limit_price": None if order.limit_price is None else str(order.limit_price),
            "reference_price": None
            if order.reference_price is None
            else str(order.reference_price),
            "to_open": to_open,
            "open_close": OpenClose.OPEN.value if to_open else OpenClose.CLOSE.value,
            "multiplier": multiplier_of(leg.spec.asset_type),
            "external_reference": order.external_reference,
            "sent_at": order.sent_utc.isoformat(),
            "trade_id": job.trade_id,
        }
        if leg.spec.expiry is not None:  # the contract: dry-run restarts, expiry booking
            payload.update(strike=str(leg.spec.strike), expiry=leg.spec.expiry.isoformat(),
                           put_call=None if leg.spec.put_call is None else leg.spec.put_call.value)
        job.trade_id = self._recorder.intent(
            request_id=order.request_id,
            action=f"{job.kind.value}:{leg.spec.leg}",
            payload=payload,
            trade_id=job.trade_id,
            open_trade_label=job.report_as or job.intent_id,
            quantity=max(1, min(leg.spec.quantity for leg in job.legs)),
            on_trade=lambda trade_id: setattr(job, "trade_id", trade_id),
        )

    # --- verifying -----------------------------------------------------------------------
    def check(self, job: Job, leg: LegWork) -> None:
        """Advance the leg's order in flight by one look at the broker."""
        order = leg.order
        assert order is not None
        now = self._clock.monotonic()
        journal = self._recorder.journal
        if order.order_id is None:
            since = order.sent_utc - timedelta(minutes=2)
            found = self._broker.find_order(order.external_reference, since)
            if found is not None:
                order.order_id = found
                journal.mark_intent(order.request_id, IntentStatus.SENT, order_id=found)
                logger.info(kv("order_found", request_id=order.request_id, order_id=found))
            else:
                assert order.unknown_since_at is not None
                if now - order.unknown_since_at >= self._settings.unknown_lookup_seconds:
                    self._unfound(job, leg, order)
                return
        outcome = self._broker.verify_order(order.order_id)
        if outcome.status is OrderStatus.FILLED:
            self._on_filled(job, leg, order, outcome, now)
        elif outcome.status.is_final:
            self._on_final_unfilled(job, leg, order, outcome, now)
        elif now >= order.deadline_at:
            if not order.cancel_sent:
                logger.info(kv("order_cancel", order_id=order.order_id, status=outcome.status))
                self._broker.cancel_order(order.order_id)
                order.cancel_sent = True
                order.deadline_at = now + self._settings.fill_check_timeout_seconds
            else:
                logger.error(kv("order_unresolved", order_id=order.order_id, status=outcome.status))
                order.deadline_at = now + self._settings.fill_check_timeout_seconds

    def _unfound(self, job: Job, leg: LegWork, order: OrderWork) -> None:
        """An unanswered order still not found after `unknown_lookup_seconds`. It failed (and
        the leg moves on) only when the broker's holding on the leg's uic is what it was when
        the order was sized: nothing filled. If the holding moved, some order filled that we
        cannot see yet: sending another could fill twice (a close would flip the position), so
        the order stays unknown, looked up on every pass, and a safety event is raised once."""
        held = held_amount(self._broker.positions(), leg.spec.uic)
        details = {"request_id": order.request_id, "leg": leg.spec.leg, "uic": leg.spec.uic}
        if order.held_at_send is not None and held != order.held_at_send:
            if not order.unfound_alarmed:
                order.unfound_alarmed = True
                logger.error(
                    kv(
                        "order_unfound_but_position_moved",
                        intent=job.intent_id,
                        leg=leg.spec.leg,
                        held_at_send=order.held_at_send,
                        held=held,
                    )
                )
                self._recorder.safety_event(
                    "order_unfound_position_moved",
                    f"order {order.external_reference} of {job.intent_id} is not listed but "
                    f"the position on {leg.spec.uic} moved from {order.held_at_send} to {held}; "
                    "not sending another order until it is found",
                    {**details, "held_at_send": order.held_at_send, "held": held},
                )
            return
        self._recorder.journal.mark_intent(
            order.request_id, IntentStatus.FAILED, error="not found at the broker"
        )
        self._recorder.safety_event(
            "order_not_found",
            f"order {order.external_reference} of {job.intent_id} never appeared",
            details,
        )
        self._advance_after_failure(job, leg, order)

    def _on_filled(
        self, job: Job, leg: LegWork, order: OrderWork, outcome: OrderOutcome, now: float
    ) -> None:
        fill = outcome.fill
        if fill is None:
            self._price_pending(job, leg, order, outcome, now)
            return
        quantity = int(outcome.filled_amount or fill.amount)
        self._record(job, leg, order, quantity, fill.price, fill.commission, fill)
        self._recorder.journal.mark_intent(order.request_id, IntentStatus.FILLED)
        self._breaker.record_success()
        leg.order = None
        if leg.done:
            self._crash(_point(job, "after_leg", leg))

    def _on_final_unfilled(
        self, job: Job, leg: LegWork, order: OrderWork, outcome: OrderOutcome, now: float
    ) -> None:
        """A cancelled/expired/rejected order; a part filled before is journaled at the
        broker's price and commission for that part (`outcome.fill`)."""
        partial = int(outcome.filled_amount)
        if partial > order.recorded_qty:
            fill = outcome.fill
            if fill is None:
                self._price_pending(job, leg, order, outcome, now)
                return
            logger.warning(
                kv("partial_fill", order_id=order.order_id, filled=partial, price=fill.price)
            )
            self._record(job, leg, order, partial, fill.price, fill.commission, fill)
        status = IntentStatus.FILLED if partial > 0 else IntentStatus.FAILED
        self._recorder.journal.mark_intent(
            order.request_id, status, error=f"{outcome.status.value}: {outcome.detail}"
        )
        if outcome.status is OrderStatus.REJECTED:
            self._breaker.record_failure(f"order rejected: {outcome.detail}")
        self._advance_after_failure(job, leg, order)

    def _price_pending(
        self, job: Job, leg: LegWork, order: OrderWork, outcome: OrderOutcome, now: float
    ) -> None:
        """Contracts filled but the broker has not published their price yet. Nothing is
        journaled (a quote or limit is never a fill price): the order stays in flight and is
        verified again on later passes; past its deadline a safety event is raised once."""
        if now < order.deadline_at or order.order_id in self._price_alarmed:
            return
        assert order.order_id is not None
        self._price_alarmed.add(order.order_id)
        logger.error(
            kv(
                "fill_price_unknown",
                order_id=order.order_id,
                status=outcome.status,
                filled=outcome.filled_amount,
            )
        )
        self._recorder.safety_event(
            "fill_price_unknown",
            f"order {order.order_id} of {job.intent_id} filled {outcome.filled_amount} "
            "but the broker has no price yet; still verifying",
            {"order_id": order.order_id, "leg": leg.spec.leg, "request_id": order.request_id},
        )

    def _advance_after_failure(self, job: Job, leg: LegWork, order: OrderWork) -> None:
        leg.order = None
        if order.order_type is OrderType.LIMIT:
            leg.step_index += 1
            return
        leg.market_attempts += 1
        allowed = (
            self._settings.emergency_close_attempts
            if job.kind is JobKind.CLOSE
            else self._settings.entry_market_attempts
        )
        if leg.market_attempts >= allowed:
            leg.failed_reason = f"{leg.market_attempts} market attempts failed"
        else:
            spacing = self._settings.emergency_close_spacing_seconds
            leg.next_try_at = self._clock.monotonic() + spacing

    def _record(
        self,
        job: Job,
        leg: LegWork,
        order: OrderWork,
        cumulative_qty: int,
        price: Decimal,
        commission: Decimal | None,
        fill: Fill,
    ) -> None:
        """Journal the contracts filled beyond those already recorded, at the broker's price
        and commission (an unreported one: `Recorder.commission`)."""
        quantity = cumulative_qty - order.recorded_qty
        if quantity <= 0:
            return
        commission_usd = self._recorder.commission(
            commission,
            quantity,
            order_id=order.order_id,
            what=f"order {order.order_id} of {job.intent_id} (leg {leg.spec.leg})",
        )
        filled_at = fill.filled_at or self._clock.now()
        leg_fill = LegFill(
            leg=leg.spec.leg,
            uic=leg.spec.uic,
            side=leg.spec.side,
            quantity=quantity,
            price=price,
            commission_usd=commission_usd,
            filled_at=filled_at,
            multiplier=multiplier_of(leg.spec.asset_type),
            simulated=self._broker.simulated,
        )
        assert job.trade_id is not None and order.order_id is not None
        open_close = OpenClose.CLOSE if job.kind is JobKind.CLOSE else OpenClose.OPEN
        self._recorder.fill(
            trade_id=job.trade_id,
            spec=leg.spec,
            fill=leg_fill,
            open_close=open_close,
            order_id=order.order_id,
            execution_id=f"{order.order_id}:{cumulative_qty}",
        )
        order.recorded_qty = cumulative_qty
        leg.filled_qty += quantity
        leg.fills.append(leg_fill)
        job.all_fills.append(leg_fill)
        job.ever_filled = True
        logger.info(
            kv(
                "leg_filled",
                intent=job.intent_id,
                leg=leg.spec.leg,
                side=leg.spec.side,
                quantity=quantity,
                price=price,
                order_id=order.order_id,
                simulated=self._broker.simulated,
            )
        )


def _point(job: Job, event: str, leg: LegWork) -> str:
    """Crash-hook point name: `after_leg:2` for entries, `close_after_leg:2` for closes."""
    prefix = "close_" if job.kind is JobKind.CLOSE else ""
    return f"{prefix}{event}:{job.legs.index(leg) + 1}"
