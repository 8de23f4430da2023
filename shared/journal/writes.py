"""Every journal write, written once and run either inside an open transaction (`JournalTx`) or
as its own single-statement transaction (`Journal`); see `shared.journal.store`."""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Iterable, Mapping
from contextlib import AbstractContextManager
from datetime import datetime
from decimal import Decimal
from typing import Any

from shared.clock import Clock
from shared.journal import codec, queries
from shared.journal.models import (
    INTENT_TRANSITIONS,
    Fill,
    FillSide,
    IntentStatus,
    JournalError,
    OpenClose,
    OrderIntent,
    OutboxChannel,
    PositionSnapshot,
    TradeRecord,
)
from shared.logger_service import kv

logger = logging.getLogger(__name__)


class JournalWrites:
    """Every journal write, run on the connection `_writing()` provides."""

    _clock: Clock

    def _writing(self, *, durable: bool = False) -> AbstractContextManager[sqlite3.Connection]:
        raise NotImplementedError

    def _now_text(self, moment: datetime | None) -> str:
        return codec.time_to_text(moment if moment is not None else self._clock.now())

    def record_intent(
        self,
        *,
        request_id: str,
        bot: str,
        action: str,
        payload: Mapping[str, Any],
        trade_id: int | None = None,
    ) -> OrderIntent:
        """Record an order intent as `pending` BEFORE its request is sent.

        `payload` is the plain-JSON description of the order (legs, prices as strings).
        Raises JournalError for a request id already recorded or an unknown trade.
        """
        now = self._now_text(None)
        body = codec.json_to_text(payload, name="intent payload")
        with self._writing(durable=True) as conn:
            try:
                conn.execute(
                    "INSERT INTO order_intents (request_id, bot, action, trade_id, payload, "
                    "status, created_at, updated_at) VALUES (?, ?, ?, ?, ?, 'pending', ?, ?)",
                    (
                        codec.require_text(request_id, "request_id"),
                        codec.require_text(bot, "bot"),
                        codec.require_text(action, "action"),
                        trade_id,
                        body,
                        now,
                        now,
                    ),
                )
            except sqlite3.IntegrityError as exc:
                if "UNIQUE" in str(exc):
                    raise JournalError(f"order intent {request_id!r} already recorded") from exc
                raise JournalError(f"order intent {request_id!r} refused: {exc}") from exc
            found = queries.intent(conn, request_id)
        assert found is not None
        return found

    def mark_intent(
        self,
        request_id: str,
        status: IntentStatus | str,
        order_id: str | None = None,
        error: str | None = None,
    ) -> OrderIntent:
        """Move an intent to `status`, keeping earlier order_id/error unless new ones are given.

        Raises JournalError for an unknown request id or a move out of a final outcome
        (filled/failed) or back to pending; re-marking the same status is allowed.
        """
        target = IntentStatus(status)
        with self._writing(durable=True) as conn:
            current = queries.intent(conn, request_id)
            if current is None:
                raise JournalError(f"no order intent with request id {request_id!r}")
            if target != current.status and target not in INTENT_TRANSITIONS[current.status]:
                raise JournalError(
                    f"order intent {request_id!r} cannot move from {current.status} to {target}"
                )
            conn.execute(
                "UPDATE order_intents SET status = ?, order_id = COALESCE(?, order_id), "
                "error = COALESCE(?, error), updated_at = ? WHERE request_id = ?",
                (target.value, order_id, codec.error_text(error), self._now_text(None), request_id),
            )
            updated = queries.intent(conn, request_id)
        if target is IntentStatus.UNKNOWN:
            logger.warning(kv("order_intent_unknown", request_id=request_id, order_id=order_id))
        assert updated is not None
        return updated

    def record_order(
        self,
        *,
        order_id: str,
        uic: int,
        side: FillSide | str,
        open_close: OpenClose | str,
        quantity: int,
        order_type: str,
        status: str,
        limit_price: Decimal | None = None,
        request_id: str | None = None,
        placed_at: datetime | None = None,
        payload: Mapping[str, Any] | None = None,
    ) -> bool:
        """Insert a broker order unless its order id is known; True when inserted (idempotent)."""
        now = self._now_text(None)
        price = (
            None
            if limit_price is None
            else codec.non_negative_decimal_text(limit_price, "limit_price")
        )
        body = codec.json_to_text(payload or {}, name="order payload")
        with self._writing() as conn:
            cursor = conn.execute(
                "INSERT INTO orders (order_id, request_id, uic, side, open_close, quantity, "
                "order_type, limit_price, status, placed_at, updated_at, payload) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (order_id) DO NOTHING",
                (
                    codec.require_text(order_id, "order_id"),
                    request_id,
                    uic,
                    FillSide(side).value,
                    OpenClose(open_close).value,
                    codec.require_positive_int(quantity, "quantity"),
                    codec.require_text(order_type, "order_type"),
                    price,
                    codec.require_text(status, "status"),
                    self._now_text(placed_at),
                    now,
                    body,
                ),
            )
            return cursor.rowcount == 1

    def update_order_status(self, order_id: str, status: str) -> None:
        """Set a known order's broker status; raises JournalError for an unknown order id."""
        with self._writing() as conn:
            cursor = conn.execute(
                "UPDATE orders SET status = ?, updated_at = ? WHERE order_id = ?",
                (codec.require_text(status, "status"), self._now_text(None), order_id),
            )
            if cursor.rowcount == 0:
                raise JournalError(f"no order with id {order_id!r}")

    def save_state(self, bot: str, state: str, payload: Mapping[str, Any]) -> None:
        """Replace `bot`'s persisted state-machine state (payload must be plain JSON)."""
        body = codec.json_to_text(payload, name=f"state payload of {bot}")
        with self._writing() as conn:
            conn.execute(
                "INSERT INTO bot_state (bot, state, payload, updated_at) VALUES (?, ?, ?, ?) "
                "ON CONFLICT (bot) DO UPDATE SET state = excluded.state, "
                "payload = excluded.payload, updated_at = excluded.updated_at",
                (
                    codec.require_text(bot, "bot"),
                    codec.require_text(state, "state"),
                    body,
                    self._now_text(None),
                ),
            )

    def save_breaker_state(self, bot: str, state: Mapping[str, Any]) -> None:
        """Replace `bot`'s circuit-breaker state (the breaker's own plain-JSON dict)."""
        body = codec.json_to_text(state, name=f"breaker state of {bot}")
        with self._writing() as conn:
            conn.execute(
                "INSERT INTO breaker_state (bot, payload, updated_at) VALUES (?, ?, ?) "
                "ON CONFLICT (bot) DO UPDATE SET payload = excluded.payload, "
                "updated_at = excluded.updated_at",
                (codec.require_text(bot, "bot"), body, self._now_text(None)),
            )

    def open_trade(
        self, *, bot: str, quantity: int, label: str = "", opened_at: datetime | None = None
    ) -> int:
        """Start a trade (`quantity` units of the strategy's structure); returns its trade id."""
        with self._writing() as conn:
            cursor = conn.execute(
                "INSERT INTO trades (bot, label, quantity, opened_at) VALUES (?, ?, ?, ?)",
                (
                    codec.require_text(bot, "bot"),
                    label,
                    codec.require_positive_int(quantity, "quantity"),
                    self._now_text(opened_at),
                ),
            )
            trade_id = cursor.lastrowid
        assert trade_id is not None
        return trade_id

    def record_fill(
        self,
        *,
        trade_id: int,
        leg: str,
        uic: int,
        side: FillSide | str,
        open_close: OpenClose | str,
        price: Decimal,
        quantity: int,
        multiplier: int,
        commission_usd: Decimal,
        filled_at: datetime,
        simulated: bool,
        order_id: str | None = None,
        execution_id: str | None = None,
    ) -> Fill | None:
        """Record one execution of `trade_id`: `price` per share as filled, USD commission.

        Returns None (and writes nothing) when `execution_id` was already recorded, so a
        back-fill from broker activities can be repeated safely. A fill for a closed trade is
        accepted (late commission reports); P&L is always computed from the fills.
        Raises ValueError for bad values, JournalError for an unknown trade.
        """
        values = (
            trade_id,
            codec.require_text(leg, "leg"),
            uic,
            FillSide(side).value,
            OpenClose(open_close).value,
            codec.non_negative_decimal_text(price, "price"),
            codec.require_positive_int(quantity, "quantity"),
            codec.require_positive_int(multiplier, "multiplier"),
            codec.non_negative_decimal_text(commission_usd, "commission_usd"),
            codec.time_to_text(filled_at),
            1 if simulated else 0,
            order_id,
            execution_id,
        )
        with self._writing() as conn:
            try:
                cursor = conn.execute(
                    "INSERT INTO fills (trade_id, leg, uic, side, open_close, price, quantity, "
                    "multiplier, commission_usd, filled_at, simulated, order_id, execution_id) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
                    "ON CONFLICT (execution_id) DO NOTHING",
                    values,
                )
            except sqlite3.IntegrityError as exc:
                raise JournalError(f"fill for trade {trade_id} refused: {exc}") from exc
            if cursor.rowcount == 0:
                return None
            assert cursor.lastrowid is not None
            fill = queries.fill_by_id(conn, cursor.lastrowid)
        return fill

    def close_trade(
        self, trade_id: int, exit_reason: str, closed_at: datetime | None = None
    ) -> TradeRecord:
        """Mark an open trade closed; its P&L is then derived from its fills.

        Raises JournalError for an unknown or already closed trade, or a close before the open.
        """
        closed_text = self._now_text(closed_at)
        with self._writing() as conn:
            current = queries.trade(conn, trade_id)
            if not current.is_open:
                raise JournalError(f"trade {trade_id} is already closed")
            if closed_text < codec.time_to_text(current.opened_at):
                raise JournalError(f"trade {trade_id} cannot close before it opened")
            conn.execute(
                "UPDATE trades SET closed_at = ?, exit_reason = ? WHERE trade_id = ?",
                (closed_text, codec.require_text(exit_reason, "exit_reason"), trade_id),
            )
            closed = queries.trade(conn, trade_id)
        if not closed.is_flat:
            logger.warning(kv("trade_closed_not_flat", trade_id=trade_id, exit_reason=exit_reason))
        return closed

    def record_safety_event(
        self,
        *,
        bot: str,
        event: str,
        description: str,
        details: Mapping[str, Any] | None = None,
        occurred_at: datetime | None = None,
    ) -> int:
        """Append a safety event (stop triggered, breaker tripped, orphan found); returns its id."""
        body = codec.json_to_text(details or {}, name="safety event details")
        with self._writing() as conn:
            cursor = conn.execute(
                "INSERT INTO safety_events (bot, event, description, details, occurred_at) "
                "VALUES (?, ?, ?, ?, ?)",
                (
                    codec.require_text(bot, "bot"),
                    codec.require_text(event, "event"),
                    codec.stored_text(description),
                    body,
                    self._now_text(occurred_at),
                ),
            )
            event_id = cursor.lastrowid
        assert event_id is not None
        return event_id

    def enqueue_outbox(
        self,
        kind: str,
        payload: Mapping[str, Any],
        idempotency_key: str,
        channel: OutboxChannel = "sheets",
    ) -> bool:
        """Queue a row for `channel`'s sender (the Sheets mirror unless told otherwise);
        False (nothing written) when the key exists."""
        body = codec.json_to_text(payload, name=f"outbox payload ({kind})")
        with self._writing() as conn:
            cursor = conn.execute(
                "INSERT INTO outbox (kind, payload, idempotency_key, created_at, channel) "
                "VALUES (?, ?, ?, ?, ?) ON CONFLICT (idempotency_key) DO NOTHING",
                (
                    codec.require_text(kind, "kind"),
                    body,
                    codec.require_text(idempotency_key, "idempotency_key"),
                    self._now_text(None),
                    channel,
                ),
            )
            return cursor.rowcount == 1

    def mark_delivered(self, ids: Iterable[int]) -> int:
        """Mark outbox rows delivered (already delivered rows keep their time); returns count."""
        wanted = sorted(set(ids))
        if not wanted:
            return 0
        placeholders = ",".join("?" * len(wanted))
        with self._writing() as conn:
            cursor = conn.execute(
                f"UPDATE outbox SET delivered_at = ? WHERE id IN ({placeholders}) "
                "AND delivered_at IS NULL",
                (self._now_text(None), *wanted),
            )
            return cursor.rowcount

    def mark_failed(self, outbox_id: int, error: str) -> None:
        """Count a failed delivery attempt and keep its (redacted) error; the row stays pending."""
        with self._writing() as conn:
            cursor = conn.execute(
                "UPDATE outbox SET attempts = attempts + 1, last_error = ? WHERE id = ?",
                (codec.error_text(error), outbox_id),
            )
            if cursor.rowcount == 0:
                raise JournalError(f"no outbox row with id {outbox_id}")

    def snapshot_positions(
        self, positions: Iterable[PositionSnapshot], taken_at: datetime | None = None
    ) -> None:
        """Replace the positions snapshot with `positions` as seen at `taken_at` (UTC)."""
        rows = [
            (
                p.position_key,
                p.uic,
                p.asset_type,
                p.quantity,
                None
                if p.open_price is None
                else codec.decimal_to_text(p.open_price, name="open_price"),
                p.description,
            )
            for p in positions
        ]
        with self._writing() as conn:
            conn.execute("DELETE FROM positions")
            try:
                conn.executemany(
                    "INSERT INTO positions (position_key, uic, asset_type, quantity, open_price, "
                    "description) VALUES (?, ?, ?, ?, ?, ?)",
                    rows,
                )
            except sqlite3.IntegrityError as exc:
                raise JournalError(f"positions snapshot refused: {exc}") from exc
            conn.execute(
                "INSERT OR REPLACE INTO positions_snapshot (id, taken_at) VALUES (1, ?)",
                (self._now_text(taken_at),),
            )
