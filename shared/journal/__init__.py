"""The per-bot SQLite journal: intents, orders, fills, trades, state, P&L, safety events, outbox."""

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
    fills_pnl_usd,
)
from shared.journal.store import Journal, JournalTx

__all__ = [
    "DailyPnl",
    "Fill",
    "FillSide",
    "IntentStatus",
    "Journal",
    "JournalError",
    "JournalTx",
    "OpenClose",
    "OrderIntent",
    "OutboxChannel",
    "OutboxRow",
    "PositionSnapshot",
    "RealizedTotals",
    "SafetyEvent",
    "StoredState",
    "TradeRecord",
    "fills_pnl_usd",
]
