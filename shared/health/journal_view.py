"""What a bot's journal says right now: its state, open trades, last positions, today's P&L.

Opens `CALYPSO_HOME/data/<bot>.sqlite` read-only (never migrates, never writes rows). SQLite
may create the `-wal`/`-shm` side files of a stopped bot's journal; it gives them the journal's
owner even when run as root, so a read here cannot lock the bot out of its own journal.
"""

from __future__ import annotations

import sqlite3
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from shared import paths
from shared.journal import (
    DailyPnl,
    Journal,
    JournalError,
    PositionSnapshot,
    StoredState,
    TradeRecord,
)
from shared.journal.codec import money_json, new_york_date

NEW_YORK = ZoneInfo("America/New_York")
NO_JOURNAL_YET = "no journal yet"


@dataclass(frozen=True)
class JournalView:
    """A read of one bot's journal. `problem` is set (and the rest empty) when there is no
    readable journal: `no journal yet` for a bot that never ran here."""

    bot: str
    path: Path
    today: date
    problem: str | None = None
    state: StoredState | None = None
    open_trades: tuple[TradeRecord, ...] = ()
    positions_taken_at: datetime | None = None
    positions: tuple[PositionSnapshot, ...] = ()
    today_pnl: DailyPnl | None = None

    @property
    def unreadable(self) -> bool:
        """True when a journal is there but cannot be read (empty, corrupt, a directory)."""
        return self.problem is not None and self.problem != NO_JOURNAL_YET

    def to_json(self) -> dict[str, Any]:
        return {
            "journal": str(self.path),
            "problem": self.problem,
            "state": None if self.state is None else _state_json(self.state),
            "open_trades": [_trade_json(trade) for trade in self.open_trades],
            "positions": {
                "taken_at": _iso(self.positions_taken_at),
                "items": [_position_json(position) for position in self.positions],
            },
            "today": _pnl_json(self.today, self.today_pnl),
        }


def read_journal(bot: str, *, home: Path, now: datetime) -> JournalView:
    """Read `bot`'s journal under `home`; today's P&L is for the New York date of `now` (UTC).

    Never raises for a missing or unreadable journal: the view carries the problem instead.
    """
    path = paths.journal_path(bot, home)
    today = new_york_date(now)
    if not path.exists():
        return JournalView(bot, path, today, problem=NO_JOURNAL_YET)
    try:
        with Journal.open_readonly(path) as journal:
            state = journal.load_state(bot)
            open_trades = tuple(journal.open_trades())
            taken_at, positions = journal.positions()
            pnl = journal.daily_pnl(today)
    except (JournalError, OSError, sqlite3.Error, ValueError) as exc:
        # A locked, corrupt or foreign file is reported in the view: `status` never crashes.
        return JournalView(bot, path, today, problem=f"journal unreadable: {exc}")
    return JournalView(
        bot,
        path,
        today,
        state=state,
        open_trades=open_trades,
        positions_taken_at=taken_at,
        positions=tuple(positions),
        today_pnl=pnl,
    )


def net_legs(trade: TradeRecord) -> dict[str, int]:
    """Signed contracts still held per leg of `trade` (+ long, - short), zero legs dropped."""
    held: dict[str, int] = defaultdict(int)
    for fill in trade.fills:
        held[fill.leg] += fill.signed_quantity
    return {leg: quantity for leg, quantity in held.items() if quantity != 0}


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat()


def _state_json(state: StoredState) -> dict[str, Any]:
    return {"name": state.state, "updated_at": state.updated_at.isoformat()}


def _trade_json(trade: TradeRecord) -> dict[str, Any]:
    return {
        "trade_id": trade.trade_id,
        "label": trade.label,
        "quantity": trade.quantity,
        "opened_at": trade.opened_at.isoformat(),
        "legs": net_legs(trade),
        "net_cash_usd": money_json(trade.net_cash_usd),
        "simulated": any(fill.simulated for fill in trade.fills),
    }


def _position_json(position: PositionSnapshot) -> dict[str, Any]:
    return {
        "uic": position.uic,
        "asset_type": position.asset_type,
        "quantity": position.quantity,
        "description": position.description,
    }


def _pnl_json(day: date, pnl: DailyPnl | None) -> dict[str, Any]:
    return {
        "date": day.isoformat(),
        "realized_pnl_usd": None if pnl is None else money_json(pnl.realized_pnl_usd),
        "commissions_usd": None if pnl is None else money_json(pnl.commissions_usd),
        "trades_closed": None if pnl is None else pnl.trades_closed,
    }
