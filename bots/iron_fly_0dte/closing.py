"""Closing the fly: wait for `closed`, escalate a stuck or silent close, re-issue on a schedule.

A close with no final report after `close_retry_seconds`, or reported stuck/failed, puts the bot
in CLOSE_STUCK (an ERROR log and a safety record each time) and is re-issued
(`shared.strategy.closing.reissue_due`: same intent id, the legs the broker still shows) every
`close_retry_seconds`; a broker showing them flat ends it.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

from bots.iron_fly_0dte.core import StrategyCore, logger, text
from bots.iron_fly_0dte.states import IronFlyState, Trigger
from shared.logger_service import kv
from shared.strategy.closing import reissue_due
from shared.strategy_contract import Action, ExecutionReport, Snapshot

S = IronFlyState
CLOSE_TROUBLE_STATUSES = frozenset({"stuck", "failed", "unwound"})
# Closes of legs that were never a fly of ours with a known credit: no trade P&L to book.
NO_PNL_REASONS = frozenset({"leftover_legs", "recovered_leftovers", "entry_unconfirmed"})


class ClosingPart(StrategyCore):
    """CLOSING and CLOSE_STUCK."""

    def _on_closing(self, snap: Snapshot, price: Decimal | None, actions: list[Action]) -> None:
        close = self._m.close
        if close is None:
            raise RuntimeError(f"{self._state} without a close in progress")
        now = snap.now
        retry = timedelta(seconds=self._cfg.close_retry_seconds)
        if self._state is S.CLOSING:
            if now - close.sent_at < retry:
                return
            self._mark_stuck(actions, now, "no final close report", retry_now=True)
        due = reissue_due(close, snap.positions, now, retry)
        if due is None:
            return
        if due.over_closed:
            self._safety(actions, now, "over_closed",
                         f"legs now on the other side: {due.over_closed}")
        if due.order is None:
            self._safety(actions, now, "close_confirmed_by_positions",
                         "broker shows the legs flat without a closed report")
            self._finish_close(actions, now)
            return
        actions.append(due.order)
        logger.error(kv("close_reissued", intent=close.intent_id, legs=len(due.order.legs),
                        reissues=close.reissues, reason=close.reason))

    def _mark_stuck(self, actions: list[Action], now: datetime, detail: str, *,
                    retry_now: bool) -> None:
        close = self._m.close
        assert close is not None
        wait = timedelta(seconds=0 if retry_now else self._cfg.close_retry_seconds)
        close.next_retry_at = now + wait
        logger.error(kv("close_stuck", intent=close.intent_id, detail=detail,
                        retry_at=close.next_retry_at.isoformat()))
        self._safety(actions, now, "close_stuck", f"{close.reason}: {detail}")
        self._fire(Trigger.STUCK, detail)

    def _on_close_report(self, report: ExecutionReport, now: datetime,
                         actions: list[Action]) -> None:
        if report.fills:
            self._m.close_fills[report.intent_id] = tuple(report.fills)
        if self._state not in (S.CLOSING, S.CLOSE_STUCK):
            logger.warning(kv("close_report_late", intent=report.intent_id, status=report.status))
            return
        if report.status == "closed":
            self._finish_close(actions, now)
        elif report.status in CLOSE_TROUBLE_STATUSES:
            self._mark_stuck(actions, now, f"{report.status}: {report.detail}", retry_now=False)

    def _finish_close(self, actions: list[Action], now: datetime) -> None:
        close = self._m.close
        fly = self._m.fly
        fills = [fill for rows in self._m.close_fills.values() for fill in rows]
        booked = fly is not None and close is not None and close.reason not in NO_PNL_REASONS
        pnl = fly.realized_pnl_usd(fills) if booked and fly is not None else None
        reason = close.reason if close is not None else ""
        self._fire(Trigger.CLOSED, reason)
        self._bot_log(actions, now, "trade_closed", exit_reason=reason,
                      realized_pnl_usd=text(pnl), close_fills=len(fills))
