"""The journal's read-side SQL (rows into records, and P&L totals computed from fills), as
functions over a connection."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from shared.journal import codec
from shared.journal.models import (
    DailyPnl,
    Fill,
    FillSide,
    IntentStatus,
    JournalError,
    OpenClose,
    OrderIntent,
    OutboxChannel,
    OutboxRow,
    PositionSnapshot,
    RealizedTotals,
    SafetyEvent,
    StoredState,
    TradeRecord,
    cash_flow_usd,
)

_INTENT_COLUMNS = (
    "request_id, bot, action, payload, trade_id, status, order_id, error, created_at, updated_at"
)
_TRADE_COLUMNS = "trade_id, bot, label, quantity, opened_at, closed_at, exit_reason"
_FILL_COLUMNS = (
    "id, trade_id, leg, uic, side, open_close, price, quantity, multiplier, commission_usd, "
    "filled_at, simulated, order_id, execution_id"
)
_OUTBOX_COLUMNS = (
    "id, kind, payload, idempotency_key, created_at, delivered_at, attempts, last_error"
)


def _intent(row: Sequence[Any]) -> OrderIntent:
    return OrderIntent(
        request_id=row[0],
        bot=row[1],
        action=row[2],
        payload=codec.json_from_text(row[3]),
        trade_id=row[4],
        status=IntentStatus(row[5]),
        order_id=row[6],
        error=row[7],
        created_at=codec.time_from_text(row[8]),
        updated_at=codec.time_from_text(row[9]),
    )


def intent(conn: sqlite3.Connection, request_id: str) -> OrderIntent | None:
    row = conn.execute(
        f"SELECT {_INTENT_COLUMNS} FROM order_intents WHERE request_id = ?", (request_id,)
    ).fetchone()
    return None if row is None else _intent(row)


def intents(
    conn: sqlite3.Connection, statuses: Sequence[IntentStatus] | None = None
) -> list[OrderIntent]:
    """Every intent (or those in `statuses`), in the order they were recorded."""
    if statuses is None:
        rows = conn.execute(f"SELECT {_INTENT_COLUMNS} FROM order_intents ORDER BY id").fetchall()
    else:
        wanted = [IntentStatus(status).value for status in statuses]
        if not wanted:
            return []
        marks = ",".join("?" * len(wanted))
        rows = conn.execute(
            f"SELECT {_INTENT_COLUMNS} FROM order_intents WHERE status IN ({marks}) ORDER BY id",
            wanted,
        ).fetchall()
    return [_intent(row) for row in rows]


def intents_without_outcome(conn: sqlite3.Connection) -> list[OrderIntent]:
    """Intents still pending, sent or unknown, oldest first."""
    rows = conn.execute(
        f"SELECT {_INTENT_COLUMNS} FROM order_intents "
        "WHERE status IN ('pending', 'sent', 'unknown') ORDER BY id"
    ).fetchall()
    return [_intent(row) for row in rows]


def state(conn: sqlite3.Connection, bot: str) -> StoredState | None:
    row = conn.execute(
        "SELECT bot, state, payload, updated_at FROM bot_state WHERE bot = ?", (bot,)
    ).fetchone()
    if row is None:
        return None
    return StoredState(
        bot=row[0],
        state=row[1],
        payload=codec.json_from_text(row[2]),
        updated_at=codec.time_from_text(row[3]),
    )


def breaker_state(conn: sqlite3.Connection, bot: str) -> dict[str, Any] | None:
    row = conn.execute("SELECT payload FROM breaker_state WHERE bot = ?", (bot,)).fetchone()
    return None if row is None else codec.json_from_text(row[0])


def _fill(row: Sequence[Any]) -> Fill:
    return Fill(
        fill_id=row[0],
        trade_id=row[1],
        leg=row[2],
        uic=row[3],
        side=FillSide(row[4]),
        open_close=OpenClose(row[5]),
        price=codec.decimal_from_text(row[6]),
        quantity=row[7],
        multiplier=row[8],
        commission_usd=codec.decimal_from_text(row[9]),
        filled_at=codec.time_from_text(row[10]),
        simulated=bool(row[11]),
        order_id=row[12],
        execution_id=row[13],
    )


def fill_by_id(conn: sqlite3.Connection, fill_id: int) -> Fill:
    row = conn.execute(f"SELECT {_FILL_COLUMNS} FROM fills WHERE id = ?", (fill_id,)).fetchone()
    if row is None:
        raise JournalError(f"no fill with id {fill_id}")
    return _fill(row)


def _trades_with_fills(
    conn: sqlite3.Connection, where: str, args: tuple[Any, ...]
) -> list[TradeRecord]:
    trade_rows = conn.execute(
        f"SELECT {_TRADE_COLUMNS} FROM trades {where} ORDER BY opened_at, trade_id", args
    ).fetchall()
    if not trade_rows:
        return []
    ids = [row[0] for row in trade_rows]
    placeholders = ",".join("?" * len(ids))
    fills: dict[int, list[Fill]] = {trade_id: [] for trade_id in ids}
    for row in conn.execute(
        f"SELECT {_FILL_COLUMNS} FROM fills WHERE trade_id IN ({placeholders}) "
        "ORDER BY filled_at, id",
        ids,
    ):
        fill = _fill(row)
        fills[fill.trade_id].append(fill)
    return [
        TradeRecord(
            trade_id=row[0],
            bot=row[1],
            label=row[2],
            quantity=row[3],
            opened_at=codec.time_from_text(row[4]),
            closed_at=codec.optional_time_from_text(row[5]),
            exit_reason=row[6],
            fills=tuple(fills[row[0]]),
        )
        for row in trade_rows
    ]


def trade(conn: sqlite3.Connection, trade_id: int) -> TradeRecord:
    """The trade `trade_id` with its fills; raises JournalError when it does not exist."""
    found = _trades_with_fills(conn, "WHERE trade_id = ?", (trade_id,))
    if not found:
        raise JournalError(f"no trade with id {trade_id}")
    return found[0]


def trades(conn: sqlite3.Connection, since: date | None = None) -> list[TradeRecord]:
    """Trades opened on or after New York date `since` (all when None), oldest first."""
    if since is None:
        return _trades_with_fills(conn, "", ())
    start, _ = codec.new_york_day_bounds(since)
    return _trades_with_fills(conn, "WHERE opened_at >= ?", (start,))


def open_trades(conn: sqlite3.Connection) -> list[TradeRecord]:
    return _trades_with_fills(conn, "WHERE closed_at IS NULL", ())


def has_trade_labelled(conn: sqlite3.Connection, label: str) -> bool:
    """True when any trade (open or closed) carries `label`; one lookup on index trades_label."""
    row = conn.execute("SELECT 1 FROM trades WHERE label = ? LIMIT 1", (label,)).fetchone()
    return row is not None


def trades_labelled(conn: sqlite3.Connection, label: str) -> list[TradeRecord]:
    """The trades (open or closed) labelled `label`, with their fills, oldest first."""
    return _trades_with_fills(conn, "WHERE label = ?", (label,))


def traded_uics(conn: sqlite3.Connection, among: Iterable[int] | None = None) -> set[int]:
    """The uics with at least one journaled fill (any trade, open or closed).

    With `among`, only those of `among` (one lookup each on index fills_uic); without it, all.
    """
    if among is None:
        rows = conn.execute("SELECT DISTINCT uic FROM fills").fetchall()
    else:
        wanted = json.dumps(sorted({int(uic) for uic in among}))
        rows = conn.execute(
            "SELECT DISTINCT uic FROM fills WHERE uic IN (SELECT value FROM json_each(?))",
            (wanted,),
        ).fetchall()
    return {row[0] for row in rows}


def daily_pnl(conn: sqlite3.Connection, day: date) -> DailyPnl:
    """Realized P&L of trades closed on New York date `day`, computed from their fills."""
    start, end = codec.new_york_day_bounds(day)
    totals = _closed_totals(conn, "AND t.closed_at >= ? AND t.closed_at < ?", (start, end))
    return DailyPnl(
        day=day,
        realized_pnl_usd=totals.pnl_usd,
        commissions_usd=totals.commissions_usd,
        trades_closed=totals.trades_closed,
        winners=totals.winners,
        losers=totals.losers,
    )


def realized_totals(conn: sqlite3.Connection) -> RealizedTotals:
    """Realized P&L, commissions and counts of every closed trade, computed from their fills."""
    return _closed_totals(conn, "", ())


def realized_totals_of(conn: sqlite3.Connection, trade_ids: Iterable[int]) -> RealizedTotals:
    """Like `realized_totals`, for the closed trades among `trade_ids` only (indexed)."""
    wanted = json.dumps(sorted({int(trade_id) for trade_id in trade_ids}))
    return _closed_totals(conn, "AND t.trade_id IN (SELECT value FROM json_each(?))", (wanted,))


def _closed_totals(conn: sqlite3.Connection, where: str, args: tuple[Any, ...]) -> RealizedTotals:
    """Totals of the closed trades `t` matching `where` (`AND ...`), read as bare fill columns.

    Each trade's P&L is the rule of `fills_pnl_usd` (exact Decimal, so the order of the rows does
    not change the result); a closed trade without fills counts, at zero P&L.
    """
    per_trade: dict[int, tuple[Decimal, Decimal]] = {}
    for trade_id, side, price, quantity, multiplier, commission in conn.execute(
        "SELECT t.trade_id, f.side, f.price, f.quantity, f.multiplier, f.commission_usd "
        "FROM trades AS t LEFT JOIN fills AS f ON f.trade_id = t.trade_id "
        f"WHERE t.closed_at IS NOT NULL {where}",
        args,
    ):
        cash, commissions = per_trade.get(trade_id, (Decimal(0), Decimal(0)))
        if side is not None:
            cash += cash_flow_usd(
                FillSide(side), codec.decimal_from_text(price), multiplier, quantity
            )
            commissions += codec.decimal_from_text(commission)
        per_trade[trade_id] = (cash, commissions)
    pnl = Decimal(0)
    commissions_total = Decimal(0)
    winners = losers = 0
    for cash, commissions in per_trade.values():
        trade_pnl = cash - commissions
        pnl += trade_pnl
        commissions_total += commissions
        if trade_pnl > 0:
            winners += 1
        elif trade_pnl < 0:
            losers += 1
    return RealizedTotals(
        pnl_usd=pnl,
        commissions_usd=commissions_total,
        trades_closed=len(per_trade),
        winners=winners,
        losers=losers,
    )


def positions(conn: sqlite3.Connection) -> tuple[datetime | None, list[PositionSnapshot]]:
    """(when the last snapshot was taken, its positions); (None, []) before any snapshot."""
    rows = conn.execute(
        "SELECT position_key, uic, asset_type, quantity, open_price, description "
        "FROM positions ORDER BY position_key"
    ).fetchall()
    taken = conn.execute("SELECT taken_at FROM positions_snapshot WHERE id = 1").fetchone()
    taken_at = codec.time_from_text(taken[0]) if taken else None
    return taken_at, [
        PositionSnapshot(
            position_key=row[0],
            uic=row[1],
            asset_type=row[2],
            quantity=row[3],
            open_price=codec.optional_decimal_from_text(row[4]),
            description=row[5],
        )
        for row in rows
    ]


def safety_events(conn: sqlite3.Connection, since: datetime | None = None) -> list[SafetyEvent]:
    """Safety events at or after `since` (timezone-aware; all when None), oldest first."""
    bound = codec.time_to_text(since) if since is not None else ""
    rows = conn.execute(
        "SELECT id, bot, event, description, details, occurred_at FROM safety_events "
        "WHERE occurred_at >= ? ORDER BY occurred_at, id",
        (bound,),
    ).fetchall()
    return [
        SafetyEvent(
            event_id=row[0],
            bot=row[1],
            event=row[2],
            description=row[3],
            details=codec.json_from_text(row[4]),
            occurred_at=codec.time_from_text(row[5]),
        )
        for row in rows
    ]


def _outbox(row: Sequence[Any]) -> OutboxRow:
    return OutboxRow(
        outbox_id=row[0],
        kind=row[1],
        payload=codec.json_from_text(row[2]),
        idempotency_key=row[3],
        created_at=codec.time_from_text(row[4]),
        delivered_at=codec.optional_time_from_text(row[5]),
        attempts=row[6],
        last_error=row[7],
    )


def outbox_pending(
    conn: sqlite3.Connection, limit: int, channel: OutboxChannel = "sheets"
) -> list[OutboxRow]:
    """Undelivered outbox rows of `channel` in insertion order, at most `limit` (> 0)."""
    if limit <= 0:
        raise ValueError(f"outbox limit must be positive, got {limit}")
    rows = conn.execute(
        f"SELECT {_OUTBOX_COLUMNS} FROM outbox WHERE delivered_at IS NULL AND channel = ? "
        "ORDER BY id LIMIT ?",
        (channel, limit),
    ).fetchall()
    return [_outbox(row) for row in rows]


def outbox_row(conn: sqlite3.Connection, outbox_id: int) -> OutboxRow | None:
    row = conn.execute(
        f"SELECT {_OUTBOX_COLUMNS} FROM outbox WHERE id = ?", (outbox_id,)
    ).fetchone()
    return None if row is None else _outbox(row)
