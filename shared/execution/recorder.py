"""The executor's journal writes: intent + state in one transaction, fills, trade closes and
safety events each with their Sheets row (`shared.sheets` Trades / Safety Events kinds) and their
alert (`shared.alerts`) queued in the outbox in the same transaction (delivered later by the
mirror and the alert sender threads)."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any

from shared.alerts import messages as alert_messages
from shared.alerts.hook import AlertHook
from shared.clock import Clock, WallClock
from shared.execution.model import DEFAULT_ASSUMED_COMMISSION_USD
from shared.journal import Journal, JournalTx, OpenClose, TradeRecord
from shared.logger_service import kv
from shared.sheets.payloads import OutboxItem, PayloadError, enqueue
from shared.sheets.runtime_rows import has_sheets, safety_item, trade_close_item
from shared.strategy_contract import LegFill, LegSpec

logger = logging.getLogger(__name__)

# (state name, full bot_state payload) at the moment of the write.
StateProvider = Callable[[], tuple[str, dict[str, Any]]]


class Recorder:
    """Journal writes of one bot's executor and runtime."""

    def __init__(
        self,
        journal: Journal,
        bot: str,
        state: StateProvider,
        *,
        clock: Clock | None = None,
        on_outbox: Callable[[], None] | None = None,
        assumed_commission_per_contract_usd: Decimal = DEFAULT_ASSUMED_COMMISSION_USD,
        alerts: AlertHook | None = None,
    ) -> None:
        self.journal = journal
        self.bot = bot
        self._state = state
        self._clock = clock  # None: the journal stamps safety events with its own clock
        self._assumed_commission = assumed_commission_per_contract_usd
        # Called after a committed transaction queued a Sheets row (wakes the mirror).
        self.on_outbox = on_outbox
        # Alerts of trade closes and safety events, queued in the same transaction as the fact.
        self.alerts = alerts or AlertHook(bot=bot, clock=clock or WallClock())

    def intent(
        self,
        *,
        request_id: str,
        action: str,
        payload: Mapping[str, Any],
        trade_id: int | None,
        open_trade_label: str | None,
        quantity: int,
        on_trade: Callable[[int], None] | None = None,
    ) -> int | None:
        """Record an order intent and the current state in ONE transaction, before sending.

        Opens the trade first (same transaction) when `open_trade_label` is given and
        `trade_id` is None, and hands its id to `on_trade` before the state is exported, so the
        saved state names the trade. Returns the trade id the intent belongs to.
        """
        with self.journal.transaction() as tx:
            if trade_id is None and open_trade_label is not None:
                trade_id = tx.open_trade(bot=self.bot, quantity=quantity, label=open_trade_label)
                payload = {**payload, "trade_id": trade_id}
                if on_trade is not None:
                    on_trade(trade_id)
            tx.record_intent(
                request_id=request_id,
                bot=self.bot,
                action=action,
                payload=payload,
                trade_id=trade_id,
            )
            name, state = self._state()
            tx.save_state(self.bot, name, state)
        return trade_id

    def commission(
        self, reported: Decimal | None, quantity: int, *, order_id: str | None, what: str
    ) -> Decimal:
        """USD commission to journal for `quantity` contracts (never negative).

        Saxo books costs as negative amounts (`TradeCostsTotal`, `CostOpening`,
        `CostClosing`, an activity's `Commission`), so a negative finite figure is the charge
        with the API's sign and is journaled as its absolute value. No figure, or one that is
        not a finite number, is replaced by the configured rate per contract with a safety
        event (`commission_assumed` / `commission_malformed`): P&L never silently leaves costs
        out, and a bad figure never stops the fill from being journaled. `what` names the fill.
        """
        if reported is not None and reported.is_finite():
            return abs(reported)
        assumed = self._assumed_commission * quantity
        details = {"order_id": order_id, "commission_usd": str(assumed)}
        if reported is None:
            self.safety_event(
                "commission_assumed",
                f"{what} has no commission reported by the broker; recorded {assumed} USD for "
                f"{quantity} contracts (configured rate)",
                details,
            )
        else:
            self.safety_event(
                "commission_malformed",
                f"{what} has an unusable commission from the broker ({reported}); recorded "
                f"{assumed} USD for {quantity} contracts (configured rate)",
                {**details, "reported": str(reported)},
            )
        return assumed

    def save_state(self) -> None:
        name, state = self._state()
        self.journal.save_state(self.bot, name, state)

    def fill(
        self,
        *,
        trade_id: int,
        spec: LegSpec,
        fill: LegFill,
        open_close: OpenClose,
        order_id: str | None,
        execution_id: str,
    ) -> None:
        """Record one verified fill (idempotent by `execution_id`)."""
        self.journal.record_fill(
            trade_id=trade_id,
            leg=spec.leg,
            uic=spec.uic,
            side=fill.side.value,
            open_close=open_close,
            price=fill.price,
            quantity=fill.quantity,
            multiplier=fill.multiplier,
            commission_usd=fill.commission_usd,
            filled_at=fill.filled_at,
            simulated=fill.simulated,
            order_id=order_id,
            execution_id=execution_id,
        )

    def adopt_orphan(
        self,
        *,
        label: str,
        uic: int,
        asset_type: str,
        excess: int,
        price: Decimal,
        multiplier: int,
        simulated: bool,
        at: datetime,
    ) -> int:
        """Journal an orphan (contracts at the broker the journal does not know) as a trade of
        its own, opened at `price` (per share, the broker position's open price) with one
        `excess`-contract fill (signed: + long, - short), state saved in the same transaction.
        The protective close then names this trade, so the bot's own trades stay untouched.
        Returns the new trade id."""
        if excess == 0:
            raise ValueError(f"orphan on uic {uic}: excess must not be zero")
        with self.journal.transaction() as tx:
            trade_id = tx.open_trade(bot=self.bot, quantity=abs(excess), label=label, opened_at=at)
            tx.record_fill(
                trade_id=trade_id,
                leg=f"orphan_{uic}",
                uic=uic,
                side="buy" if excess > 0 else "sell",
                open_close=OpenClose.OPEN,
                price=price,
                quantity=abs(excess),
                multiplier=multiplier,
                commission_usd=Decimal(0),
                filled_at=at,
                simulated=simulated,
                execution_id=f"adopted:{label}",
            )
            name, state = self._state()
            tx.save_state(self.bot, name, state)
        logger.warning(kv("orphan_adopted", bot=self.bot, trade_id=trade_id, uic=uic,
                          excess=excess, price=price))  # fmt: skip
        return trade_id

    def close_trade(self, trade_id: int, exit_reason: str, closed_at: datetime) -> TradeRecord:
        """Close the trade and queue its Trades (CLOSE) row in the same transaction."""
        with self.journal.transaction() as tx:
            record = tx.close_trade(trade_id, exit_reason, closed_at)
            queued = self._queue(tx, "trade_close", lambda: trade_close_item(self.bot, record))
            alerted = self.alerts.queue_in(tx, "trade_closed", lambda: alert_messages.trade_closed(
                self.bot, record, closed_at))  # fmt: skip
            name, state = self._state()
            tx.save_state(self.bot, name, state)
        self._queued(queued)
        self.alerts.wake(alerted)
        pnl = record.net_cash_usd
        logger.info(
            kv("trade_closed", bot=self.bot, trade_id=trade_id, reason=exit_reason, pnl_usd=pnl)
        )
        return record

    def safety_event(
        self, event: str, description: str, details: Mapping[str, Any] | None = None
    ) -> int:
        """Record a safety event and queue its Safety Events row in the same transaction."""
        at = self._clock.now() if self._clock is not None else None
        with self.journal.transaction() as tx:
            event_id = tx.record_safety_event(
                bot=self.bot,
                event=event,
                description=description,
                details=details or {},
                occurred_at=at,
            )
            queued = self._queue(tx, "safety_event", lambda: safety_item(
                self.bot, event_id=event_id, event=event, description=description,
                details=details or {}, at=at or WallClock().now()))  # fmt: skip
            alerted = self.alerts.queue_in(tx, "safety_event", lambda: alert_messages.safety_event(
                self.bot, event, description, details or {}, at or WallClock().now()))  # fmt: skip
        self._queued(queued)
        self.alerts.wake(alerted)
        logger.warning(kv("safety_event", bot=self.bot, kind=event, description=description))
        return event_id

    # --- Sheets rows ---------------------------------------------------------------------
    def _queue(self, tx: JournalTx, what: str, build: Callable[[], OutboxItem | None]) -> bool:
        """Queue a Sheets row inside `tx`. A row that cannot be built is logged, never fatal:
        the fact itself (trade close, safety event) must be journaled regardless."""
        if not has_sheets(self.bot):
            return False
        try:
            item = build()
        except (PayloadError, ValueError) as exc:
            logger.error(kv("sheets_row_failed", bot=self.bot, kind=what, error=exc,
                            action="journaled_without_sheets_row"))  # fmt: skip
            return False
        return item is not None and enqueue(tx, item)

    def _queued(self, queued: bool) -> None:
        if queued and self.on_outbox is not None:
            self.on_outbox()


def net_by_uic(record: TradeRecord) -> dict[int, int]:
    """Signed contracts held per uic according to the trade's fills (+ long, - short)."""
    net: dict[int, int] = {}
    for fill in record.fills:
        net[fill.uic] = net.get(fill.uic, 0) + fill.signed_quantity
    return {uic: qty for uic, qty in net.items() if qty != 0}


def net_by_leg(record: TradeRecord) -> dict[str, int]:
    """Signed contracts per leg name according to the trade's fills."""
    net: dict[str, int] = {}
    for fill in record.fills:
        net[fill.leg] = net.get(fill.leg, 0) + fill.signed_quantity
    return net


def decimal_text(value: Decimal | None) -> str | None:
    return None if value is None else str(value)
