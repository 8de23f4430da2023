"""Sheet rows from runtime facts: trades (from journal fills), safety events, strategy records,
the dashboard, the positions table and the daily summary.

Pure builders: each returns an `OutboxItem` (or a row model) for `bot`'s spreadsheet and never
touches the journal. Money is USD from fills (Decimal); datetimes are timezone-aware UTC in and
America/New_York on the sheet; days are New York trading dates.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

from shared import paths
from shared.domain import Position, PutCall
from shared.journal import DailyPnl, Fill, OpenClose, RealizedTotals, TradeRecord, fills_pnl_usd
from shared.sheets.columns import worksheet_for
from shared.sheets.payloads import (
    ROW_MODELS,
    BotLogRow,
    DailySummaryRow,
    DashboardRow,
    OpeningRangeRow,
    OutboxItem,
    PayloadError,
    PositionLeg,
    PositionSnapshotRow,
    SafetyEventRow,
    SheetRow,
    TradeRow,
    decode,
)
from shared.strategy_contract import LegSpec

logger = logging.getLogger(__name__)

SIMULATED_TAG = "[SIMULATED]"
# The time field each row kind gets from the runtime's clock when a strategy leaves it out.
TIME_FIELDS = {
    "trade": "timestamp",
    "position_snapshot": "taken_at",
    "daily_summary": "as_of",
    "performance_metrics": "timestamp",
    "bot_log": "timestamp",
    "account_summary": "timestamp",
    "opening_range": "as_of",
    "dashboard": "last_update",
}
# Strategy payload names accepted for the Opening Range columns (the iron fly's spelling).
OPENING_RANGE_ALIASES = {
    "start_time_et": "start_time",
    "end_time_et": "end_time",
    "vix_spike_percent": "vix_spike_pct",
}


def has_sheets(bot: str) -> bool:
    """True when `bot` has a spreadsheet layout (the three CALYPSO bots)."""
    return bot in paths.BOT_NAMES


# --- trades ---------------------------------------------------------------------------------


def trade_open_item(
    bot: str, record: TradeRecord, legs: Sequence[LegSpec] = ()
) -> OutboxItem | None:
    """The Trades row of a completed entry (time = its last opening fill); None without fills.

    `legs` (when known) give strikes and expiry; premium is the opening cash flow before
    commissions (credit positive, debit negative).
    """
    opening = [f for f in record.fills if f.open_close is OpenClose.OPEN]
    if not opening:
        return None
    net, commissions = fills_pnl_usd(opening)
    expiries = [leg.expiry for leg in legs if leg.expiry is not None]
    row = TradeRow(
        timestamp=max(f.filled_at for f in opening),
        trade_id=record.trade_id,
        action="OPEN",
        structure=f"{len({f.leg for f in opening})}-leg",
        strike=strike_text(legs),
        expiry=min(expiries) if expiries else None,
        premium_usd=net + commissions,
        commissions_usd=commissions,
        notes=_notes(record.label, opening),
    )
    return row.to_outbox(bot)


def trade_close_item(bot: str, record: TradeRecord) -> OutboxItem | None:
    """The Trades row of a closed trade: P&L and commissions of all its fills; premium is the
    closing cash flow before commissions. None for a trade that never had a fill."""
    if not record.fills or record.closed_at is None:
        return None
    closing = [f for f in record.fills if f.open_close is OpenClose.CLOSE]
    close_net, close_commissions = fills_pnl_usd(closing)
    reason = record.exit_reason or ""
    row = TradeRow(
        timestamp=record.closed_at,
        trade_id=record.trade_id,
        action="CLOSE",
        structure=f"{len({f.leg for f in record.fills})}-leg",
        premium_usd=close_net + close_commissions if closing else None,
        pnl_usd=record.net_cash_usd,
        commissions_usd=record.commissions_usd,
        notes=_notes(f"{reason}; {record.label}" if record.label else reason, record.fills),
    )
    return row.to_outbox(bot)


def strike_text(legs: Sequence[LegSpec]) -> str:
    """Legs as `+5850C -5825C -5825P +5800P` (+ bought, - sold); empty when none has a strike."""
    parts = []
    for leg in legs:
        if leg.strike is None:
            continue
        sign = "+" if leg.side.value == "buy" else "-"
        kind = {PutCall.CALL: "C", PutCall.PUT: "P"}.get(leg.put_call, "") if leg.put_call else ""
        parts.append(f"{sign}{_number(leg.strike)}{kind}")
    return " ".join(parts)


def _notes(text: str, fills: Sequence[Fill]) -> str:
    simulated = any(f.simulated for f in fills)
    return f"{SIMULATED_TAG} {text}".strip() if simulated else text


def _number(value: Decimal) -> str:
    return format(value.normalize(), "f") if value == value.to_integral_value() else str(value)


# --- safety events and strategy records -----------------------------------------------------


def safety_item(
    bot: str,
    *,
    event_id: int,
    event: str,
    description: str,
    details: Mapping[str, Any],
    at: datetime,
) -> OutboxItem:
    """The Safety Events row of journal safety event `event_id` (key `safety:<event_id>`)."""
    shown = {k: v for k, v in details.items() if k not in ("event", "description", "result")}
    row = SafetyEventRow(
        timestamp=at,
        event=event,
        description=description,
        result=str(details.get("result", "")),
        position_details=" ".join(f"{k}={v}" for k, v in sorted(shown.items())),
        event_id=event_id,
    )
    return row.to_outbox(bot)


def event_item(
    bot: str, kind: str, key: str, payload: Mapping[str, Any], now: datetime
) -> OutboxItem:
    """The outbox row of a strategy's `RecordEvent` (any kind but `safety_event`).

    A kind that names a row model (`opening_range`, `daily_summary`, `campaign`, ...) becomes
    that row; a missing time field is `now`, and an `opening_range` without `date` is dated
    by `key`. Any other kind (`decision`, ...) becomes a Bot Logs line whose outbox key is
    `log:<kind>:<key>` (the first record of a key wins, as the contract says).
    Raises PayloadError when the payload does not fit the row model.
    """
    model = ROW_MODELS.get(kind)
    if model is None:
        return log_item(bot, kind, key, payload, now)
    fields = dict(payload)
    if model is OpeningRangeRow:
        for alias, name in OPENING_RANGE_ALIASES.items():
            if alias in fields:
                fields.setdefault(name, fields.pop(alias))
        fields.setdefault("date", key)
        fields.pop("event", None)
    time_field = TIME_FIELDS.get(kind)
    if time_field is not None:
        fields.setdefault(time_field, now)
    known = set(model.model_fields)
    ignored = sorted(set(fields) - known)
    if ignored and "extra" in known:
        spec = worksheet_for(bot, model.WORKSHEET)
        extra = dict(fields.get("extra") or {})
        for name in [n for n in ignored if spec is not None and n in spec.fields]:
            extra[name] = fields.pop(name)
        fields["extra"] = extra
        ignored = sorted(set(fields) - known)
    if ignored:
        raise PayloadError(f"{kind}: fields {', '.join(ignored)} are not columns of its sheet")
    row: SheetRow = decode(kind, fields)
    return row.to_outbox(bot)


def log_item(
    bot: str, kind: str, key: str, payload: Mapping[str, Any], now: datetime, level: str = "INFO"
) -> OutboxItem:
    """A Bot Logs line for a record: `<event or key> k=v ...`, outbox key `log:<kind>:<key>`."""
    name = str(payload.get("event") or key)
    rest = " ".join(f"{k}={v}" for k, v in payload.items() if k != "event" and v is not None)
    row = BotLogRow(
        timestamp=now,
        level=level,
        component=kind,
        message=f"{name} {rest}".strip(),
    )
    item = row.to_outbox(bot)
    return item._replace(idempotency_key=f"log:{kind}:{key}")


# --- dashboard, positions, daily summary ------------------------------------------------------


def dashboard_row(
    bot: str,
    *,
    environment: str,
    state: str,
    positions: Sequence[Position],
    today: DailyPnl,
    totals: RealizedTotals,
    now: datetime,
) -> DashboardRow:
    """The bot's Dashboard row; P&L is realized (closed trades, after commissions), USD.

    `totals` are those of every closed trade so far.
    """
    closed = totals.trades_closed
    return DashboardRow(
        bot=bot,
        environment=environment,
        state=state,
        open_position=position_text(positions),
        today_pnl_usd=today.realized_pnl_usd,
        cumulative_pnl_usd=totals.pnl_usd,
        win_rate_pct=(Decimal(100) * totals.winners / closed).quantize(Decimal("0.1"))
        if closed
        else None,
        closed_trades=closed,
        last_update=now,
    )


def position_text(positions: Sequence[Position]) -> str:
    """`+1 5850C, -1 5825C` (signed contracts, strike, C/P); `flat` when nothing is held."""
    if not positions:
        return "flat"
    return ", ".join(f"{_signed(p.amount)} {_instrument(p)}" for p in positions)


def positions_row(positions: Sequence[Position], now: datetime) -> PositionSnapshotRow:
    """The Positions table: one leg per broker position (an empty table when flat)."""
    legs = [
        PositionLeg(
            position_type=_position_type(p),
            strike=p.strike,
            expiry=p.expiry,
            entry_price=p.open_price,
            current_price=p.current_price,
            pnl_usd=p.profit_loss,
            status="open",
        )
        for p in positions
    ]
    return PositionSnapshotRow(taken_at=now, legs=legs)


def daily_summary_row(
    bot: str, pnl: DailyPnl, totals: RealizedTotals, now: datetime
) -> DailySummaryRow:
    """The final Daily Summary row of New York date `pnl.day` (`totals`: all closed trades)."""
    spec = worksheet_for(bot, DailySummaryRow.WORKSHEET)
    candidates: dict[str, Any] = {
        "trades_today": pnl.trades_closed,
        "win_rate_pct": float(Decimal(100) * pnl.winners / pnl.trades_closed)
        if pnl.trades_closed
        else None,
        "total_trades": totals.trades_closed,
        "winning_trades": totals.winners,
    }
    extra = {k: v for k, v in candidates.items() if spec is not None and k in spec.fields}
    return DailySummaryRow(
        date=pnl.day,
        as_of=now,
        daily_pnl_usd=pnl.realized_pnl_usd,
        cumulative_pnl_usd=totals.pnl_usd,
        notes=f"{pnl.trades_closed} closed: {pnl.winners} won, {pnl.losers} lost; "
        f"commissions {pnl.commissions_usd} USD",
        extra=extra,
    )


def _position_type(p: Position) -> str:
    """`Short Call x1`: side, option kind (else the asset type), contracts."""
    return f"{'Long' if p.amount > 0 else 'Short'} {_kind(p)} x{_number(abs(p.amount))}"


def _signed(amount: Decimal) -> str:
    return f"+{_number(amount)}" if amount > 0 else _number(amount)


def _kind(p: Position) -> str:
    if p.put_call is PutCall.CALL:
        return "Call"
    if p.put_call is PutCall.PUT:
        return "Put"
    return p.asset_type


def _instrument(p: Position) -> str:
    if p.strike is not None:
        letter = {PutCall.CALL: "C", PutCall.PUT: "P"}.get(p.put_call, "") if p.put_call else ""
        return f"{_number(p.strike)}{letter}"
    return p.symbol or f"uic {p.uic}"
