"""Google Sheets mirror of the journal: worksheets, outbox row kinds, delivery, the bot thread.

Producers import the row models and `enqueue`; the runtime imports `build_mirror`.
"""

from shared.sheets.mirror import DisabledMirror, MirrorControl, SheetsMirror, build_mirror
from shared.sheets.payloads import (
    AccountSummaryRow,
    BotLogRow,
    CampaignRow,
    DailySummaryRow,
    DashboardRow,
    OpeningRangeRow,
    OutboxItem,
    PayloadError,
    PerformanceMetricsRow,
    PositionLeg,
    PositionSnapshotRow,
    SafetyEventRow,
    TradeRow,
    enqueue,
)
from shared.sheets.sender import DeliveryPolicy, FlushResult, OutboxSender

__all__ = [
    "AccountSummaryRow",
    "BotLogRow",
    "CampaignRow",
    "DailySummaryRow",
    "DashboardRow",
    "DeliveryPolicy",
    "DisabledMirror",
    "FlushResult",
    "MirrorControl",
    "OpeningRangeRow",
    "OutboxItem",
    "OutboxSender",
    "PayloadError",
    "PerformanceMetricsRow",
    "PositionLeg",
    "PositionSnapshotRow",
    "SafetyEventRow",
    "SheetsMirror",
    "TradeRow",
    "build_mirror",
    "enqueue",
]
