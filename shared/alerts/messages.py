"""The alerts CALYPSO sends, built from journal facts (fills, P&L after commissions, events).

Pure functions: no I/O, the time comes from the caller. Money is USD per position from the
journal's fills, commissions included; times are shown in America/New_York.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from shared.alerts.model import Alert, Severity
from shared.journal import DailyPnl, Fill, OpenClose, TradeRecord, fills_pnl_usd
from shared.market_hours import NY
from shared.token_coordinator import RefreshFailure

# Safety events that mean money may be at risk right now (an open leg the bot cannot close or
# does not know, a price it cannot see, an order whose fate is unknown).
CRITICAL_SAFETY_EVENTS = frozenset({
    "close_stuck", "close_not_flat", "over_closed", "orphan_protection", "no_price_close",
    "trade_missing_at_broker", "order_not_found", "order_unfound_position_moved",
    "fill_price_unknown", "leftover_legs", "unreadable_positions", "malformed_position",
    "position_gone_at_restart", "entry_fills_incomplete", "job_unreadable",
})  # fmt: skip
# Safety events that record a resolved doubt or an assumption the operator should know of.
INFO_SAFETY_EVENTS = frozenset({
    "commission_assumed", "close_confirmed_by_positions", "entry_confirmed_by_broker",
    "ghost_fill_resolved",
})  # fmt: skip
_HIDDEN_DETAILS = ("event", "description")


def safety_severity(event: str) -> Severity:
    """Critical, info or (any other event, including ones added later) warning."""
    if event in CRITICAL_SAFETY_EVENTS:
        return Severity.CRITICAL
    if event in INFO_SAFETY_EVENTS:
        return Severity.INFO
    return Severity.WARNING


def safety_event(
    bot: str, event: str, description: str, details: Mapping[str, Any], at: datetime
) -> Alert:
    """A journaled safety event; repeats of the same event kind are grouped."""
    shown = " ".join(f"{k}={v}" for k, v in sorted(details.items()) if k not in _HIDDEN_DETAILS)
    body = f"{description}\n{shown}".strip() + f"\nat {_ny(at)}"
    return Alert(bot, "safety_event", f"safety:{event}", safety_severity(event),
                 event.replace("_", " "), body, at)  # fmt: skip


def trade_opened(bot: str, record: TradeRecord, structure: str, at: datetime) -> Alert | None:
    """A completed entry: its opening fills and the premium after commissions; None without
    opening fills."""
    opening = [f for f in record.fills if f.open_close is OpenClose.OPEN]
    if not opening:
        return None
    net, commissions = fills_pnl_usd(opening)
    body = "\n".join([
        f"trade {record.trade_id} opened: {structure} x{record.quantity}",
        *_fill_lines(opening),
        f"premium {_usd(net + commissions)} (credit +), commissions {_usd(commissions)}",
        f"at {_ny(max(f.filled_at for f in opening))}{_simulated(opening)}",
    ])  # fmt: skip
    return Alert(bot, "trade_opened", f"trade:{record.trade_id}:opened", Severity.INFO,
                 f"trade opened ({structure})", body, at, once=True)  # fmt: skip


def trade_closed(bot: str, record: TradeRecord, at: datetime) -> Alert | None:
    """A closed trade: its closing fills and P&L of all its fills after commissions; None for
    an open trade or one without fills."""
    if record.closed_at is None or not record.fills:
        return None
    closing = [f for f in record.fills if f.open_close is OpenClose.CLOSE]
    body = "\n".join([
        f"trade {record.trade_id} closed: {record.exit_reason}",
        *_fill_lines(closing),
        f"P&L {_usd(record.net_cash_usd)} after commissions {_usd(record.commissions_usd)}",
        f"at {_ny(record.closed_at)}{_simulated(record.fills)}",
    ])  # fmt: skip
    severity = Severity.WARNING if record.net_cash_usd < 0 else Severity.INFO
    return Alert(bot, "trade_closed", f"trade:{record.trade_id}:closed", severity,
                 f"trade closed {_usd(record.net_cash_usd)}", body, at, once=True)  # fmt: skip


def breaker_changed(bot: str, state: str, reason: str, at: datetime) -> Alert:
    """The circuit breaker tripped (open), halted the day, or reset (closed)."""
    severity = {"halted": Severity.CRITICAL, "open": Severity.WARNING}.get(state, Severity.INFO)
    what = {"open": "tripped: no new entries", "halted": "halted: no new entries today",
            "closed": "reset: entries allowed"}.get(state, state)  # fmt: skip
    return Alert(bot, "breaker", f"breaker:{state}", severity, f"circuit breaker {what}",
                 f"{reason}\nat {_ny(at)}", at)  # fmt: skip


def daily_summary(bot: str, pnl: DailyPnl, state: str, open_trades: int, at: datetime) -> Alert:
    """The New York trading day `pnl.day` after the close: trades, P&L, the bot's state."""
    body = (
        f"{pnl.day.isoformat()}: {pnl.trades_closed} trades closed ({pnl.winners} won, "
        f"{pnl.losers} lost), P&L {_usd(pnl.realized_pnl_usd)} after commissions "
        f"{_usd(pnl.commissions_usd)}\nstate {state}, open trades {open_trades}"
    )
    return Alert(bot, "daily_summary", f"daily:{pnl.day.isoformat()}", Severity.INFO,
                 f"daily summary {pnl.day.isoformat()}", body, at, once=True)  # fmt: skip


def token_refresh_failed(source: str, failure: RefreshFailure, at: datetime) -> Alert:
    """A Saxo token refresh failed in `source` (a bot or the token keeper). Critical when only
    `calypso auth login` can fix it, else warning (a retry may succeed before the access token
    expires). `failure.detail` is already redacted; repeats are grouped per environment and
    severity, so a later critical is not held back by an earlier warning."""
    severity = Severity.CRITICAL if failure.login_required else Severity.WARNING
    action = (f"run `calypso auth login --env {failure.env}`" if failure.login_required
              else "retrying; check the network and `calypso health`")  # fmt: skip
    body = f"env {failure.env}: {failure.detail}\n{action}\nat {_ny(at)}"
    return Alert(source, "token_refresh_failed", f"token:{failure.env}:{severity.label}",
                 severity, f"Saxo token refresh failed ({failure.env})", body, at)  # fmt: skip


def unit_stopped(unit: str, result: str, code: str, status: str, at: datetime) -> Alert:
    """A systemd unit's main process ended other than by a clean stop (systemd restarts it)."""
    body = (f"{unit} stopped: result={result} exit={code} status={status}; systemd restarts "
            f"it per its Restart= policy\nat {_ny(at)}")  # fmt: skip
    return Alert(unit, "unit_stopped", f"unit:{unit}:stopped", Severity.CRITICAL,
                 f"{unit} exited ({result})", body, at)  # fmt: skip


def unit_failed(unit: str, at: datetime) -> Alert:
    """A systemd unit entered `failed` (restarts exhausted, or a failed health check)."""
    body = (f"{unit} is in state failed (OnFailure=). See `journalctl -u {unit} -n 50` and "
            f"`calypso health`.\nat {_ny(at)}")  # fmt: skip
    return Alert(unit, "unit_failed", f"unit:{unit}:failed", Severity.CRITICAL,
                 f"{unit} failed", body, at)  # fmt: skip


def probe_alert(source: str, at: datetime) -> Alert:
    """The message `calypso alerts test` sends."""
    return Alert(source, "test", f"test:{at.isoformat()}", Severity.INFO, "test alert",
                 f"Test alert from `calypso alerts test` at {_ny(at)}.", at)  # fmt: skip


def _fill_lines(fills: Sequence[Fill]) -> list[str]:
    return [
        f"  {f.side.value} {f.quantity} {f.leg} @ {f.price} (commission {_usd(f.commission_usd)})"
        for f in fills
    ]


def _simulated(fills: Sequence[Fill]) -> str:
    return " [SIMULATED fills]" if any(f.simulated for f in fills) else ""


def _usd(amount: Decimal) -> str:
    sign = "-" if amount < 0 else ""
    return f"{sign}${abs(amount):,.2f}"


def _ny(moment: datetime | date) -> str:
    if isinstance(moment, datetime):
        return moment.astimezone(NY).strftime("%Y-%m-%d %H:%M:%S %Z")
    return moment.isoformat()
