"""Realized P&L totals of every closed trade, kept current without re-reading the history.

Journal rows only grow: a fill is inserted and never changed, a trade is inserted and closed
once, never reopened or deleted. So the totals change only when a trade closes or a fill lands
on a closed trade, and three indexed reads (highest fill id, highest trade id, open trade ids)
tell whether either happened since the last call. A newly closed trade is added to the totals
(exact Decimal addition: the result, exponent included, equals a fresh sum); a fill on a trade
that was already closed (a late commission report) makes a full recount, which is rare.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass

from shared.journal import queries
from shared.journal.models import RealizedTotals


@dataclass(frozen=True)
class _Marks:
    """How far the totals have read: highest fill id, highest trade id, the trades open then."""

    fill_id: int
    trade_id: int
    open_ids: frozenset[int]


def _read_marks(conn: sqlite3.Connection) -> _Marks:
    fill_id = conn.execute("SELECT COALESCE(MAX(id), 0) FROM fills").fetchone()[0]
    trade_id = conn.execute("SELECT COALESCE(MAX(trade_id), 0) FROM trades").fetchone()[0]
    open_ids = frozenset(
        row[0] for row in conn.execute("SELECT trade_id FROM trades WHERE closed_at IS NULL")
    )
    return _Marks(fill_id, trade_id, open_ids)


class RealizedTotalsCache:
    """The realized totals of one journal connection, updated from what changed since."""

    def __init__(self) -> None:
        self._marks: _Marks | None = None
        self._totals: RealizedTotals | None = None

    def totals(self, conn: sqlite3.Connection) -> RealizedTotals:
        """Current realized totals (equal to `queries.realized_totals(conn)`).

        Reads in one snapshot. Inside an open write transaction the totals are computed whole
        and not kept, because those rows may still be rolled back.
        """
        if conn.in_transaction:
            return queries.realized_totals(conn)
        conn.execute("BEGIN")
        try:
            marks, totals = self._update(conn)
        finally:
            conn.execute("COMMIT")  # a read-only transaction: this only ends the snapshot
        self._marks, self._totals = marks, totals
        return totals

    def _update(self, conn: sqlite3.Connection) -> tuple[_Marks, RealizedTotals]:
        marks = _read_marks(conn)
        seen, totals = self._marks, self._totals
        if seen is None or totals is None:
            return marks, queries.realized_totals(conn)
        if marks == seen:
            return marks, totals
        new_fills = conn.execute("SELECT trade_id FROM fills WHERE id > ?", (seen.fill_id,))
        touched = {row[0] for row in new_fills}
        if any(trade_id <= seen.trade_id and trade_id not in seen.open_ids for trade_id in touched):
            return marks, queries.realized_totals(conn)  # a fill on a trade already counted
        newly_closed = set(seen.open_ids - marks.open_ids)
        newly_closed.update(
            row[0]
            for row in conn.execute(
                "SELECT trade_id FROM trades WHERE trade_id > ? AND closed_at IS NOT NULL",
                (seen.trade_id,),
            )
        )
        if not newly_closed:
            return marks, totals
        return marks, totals.plus(queries.realized_totals_of(conn, newly_closed))
