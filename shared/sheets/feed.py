"""The runtime's side of the Sheets mirror: queue rows in the journal's outbox, wake the mirror.

`SheetsFeed` runs on the loop thread and does local SQLite work only; the network belongs to
the mirror's thread. It never raises: a row that cannot be built or queued is logged (ERROR,
once per kind and problem) and trading goes on. Rows queued here:
- strategy `RecordEvent`s (other than safety events, which the Recorder journals): row kinds by
  name (`opening_range` -> Opening Range, ...), anything else (`decision`, ...) -> Bot Logs;
- the Trades `OPEN` row when an entry is filled (the `CLOSE` row comes with the trade close);
- the Dashboard and Positions upserts when their content changed, checked at most every
  `refresh_s` seconds of the runtime clock, and at the next check after `touch()` (the
  runtime touches on every execution report, so a fill or close shows without waiting);
- the Daily Summary of the New York day that just ended, at the day rollover.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any

from shared import market_hours
from shared.clock import Clock
from shared.domain import Position
from shared.journal import Journal
from shared.logger_service import kv
from shared.sheets.mirror import DisabledMirror, MirrorControl
from shared.sheets.payloads import OutboxItem, PayloadError, enqueue
from shared.sheets.runtime_rows import (
    daily_summary_row,
    dashboard_row,
    event_item,
    has_sheets,
    log_item,
    positions_row,
    trade_open_item,
)
from shared.strategy_contract import LegSpec

logger = logging.getLogger(__name__)

DEFAULT_REFRESH_S = 30.0


class SheetsFeed:
    """Turns runtime facts into outbox rows for `bot`'s spreadsheet (loop thread only)."""

    def __init__(
        self,
        *,
        bot: str,
        journal: Journal,
        clock: Clock,
        mirror: MirrorControl | None = None,
        environment: str = "",
        refresh_s: float = DEFAULT_REFRESH_S,
    ) -> None:
        self.bot = bot
        self.mirror: MirrorControl = mirror or DisabledMirror("not configured")
        self.enabled = has_sheets(bot)
        self._journal = journal
        self._clock = clock
        self._environment = environment
        self._refresh_s = refresh_s
        self._next_refresh: float | None = None
        self._last_dashboard: dict[str, Any] | None = None
        self._last_positions: list[dict[str, Any]] | None = None
        self._reported: set[str] = set()
        self.queued = 0
        if not self.enabled:
            logger.info(kv("sheets_rows_off", bot=bot, reason="no_spreadsheet_layout"))

    # --- mirror lifecycle ---------------------------------------------------------------

    def start(self) -> None:
        """Start the mirror's thread (returns at once)."""
        self.mirror.start()

    def notify(self) -> None:
        """Rows were queued (here or by the Recorder): let the mirror deliver soon."""
        self.mirror.notify()

    def stop(self, timeout_s: float) -> bool:
        """Stop the mirror within `timeout_s` real seconds; pending rows stay queued."""
        return self.mirror.stop(timeout_s)

    # --- rows ---------------------------------------------------------------------------

    def record_event(self, kind: str, key: str, payload: Mapping[str, Any]) -> None:
        """Queue a strategy record (not a safety event); see the module docstring."""
        if not self.enabled:
            return
        now = self._clock.now()
        try:
            item = event_item(self.bot, kind, key, payload, now)
        except PayloadError as exc:
            self._report_once(f"event:{kind}", "sheets_event_unmapped", kind=kind, error=exc)
            item = log_item(self.bot, kind, key, payload, now, level="WARNING")
        self._queue(item, what=kind)

    def entry_filled(self, intent_id: str, legs: Sequence[LegSpec] = ()) -> None:
        """Queue the Trades OPEN row of the trade labelled `intent_id` (idempotent)."""
        if not self.enabled:
            return
        try:
            labelled = self._journal.trades_labelled(intent_id)
            found = [t for t in labelled if t.is_open] or labelled
            item = trade_open_item(self.bot, found[-1], legs) if found else None
        except Exception as exc:
            self._report_once("trade_open", "sheets_row_failed", kind="trade_open", error=exc)
            return
        if item is not None:
            self._queue(item, what="trade_open")

    def touch(self) -> None:
        """Something happened (a fill, a close): the next `refresh` checks at once."""
        self._next_refresh = None

    def refresh(self, state: str, positions: Sequence[Position]) -> None:
        """Queue the Dashboard and Positions rows that changed, at most every `refresh_s`."""
        if not self.enabled:
            return
        now_s = self._clock.monotonic()
        if self._next_refresh is not None and now_s < self._next_refresh:
            return
        self._next_refresh = now_s + self._refresh_s
        try:
            now = self._clock.now()
            totals = self._journal.realized_totals()
            today = self._journal.daily_pnl(now.astimezone(market_hours.NY).date())
            board = dashboard_row(
                self.bot,
                environment=self._environment,
                state=state,
                positions=positions,
                today=today,
                totals=totals,
                now=now,
            )
            board_content = board.model_dump(mode="json", exclude={"last_update"})
            table = positions_row(positions, now)
            table_content = [leg.model_dump(mode="json") for leg in table.legs]
            items: list[tuple[OutboxItem, str]] = []
            if board_content != self._last_dashboard:
                items.append((board.to_outbox(self.bot), "dashboard"))
            if table_content != self._last_positions:
                items.append((table.to_outbox(self.bot), "positions"))
        except Exception as exc:
            self._report_once("refresh", "sheets_row_failed", kind="dashboard", error=exc)
            return
        for item, what in items:
            self._queue(item, what=what)
        self._last_dashboard = board_content
        self._last_positions = table_content

    def day_closed(self, day: date) -> None:
        """Queue the final Daily Summary of New York date `day` (skipped for a day without a
        session and without closed trades)."""
        if not self.enabled:
            return
        try:
            pnl = self._journal.daily_pnl(day)
            if pnl.trades_closed == 0 and market_hours.session(day, "index_options") is None:
                return
            totals = self._journal.realized_totals()
            item = daily_summary_row(self.bot, pnl, totals, self._clock.now()).to_outbox(self.bot)
        except Exception as exc:
            self._report_once("daily", "sheets_row_failed", kind="daily_summary", error=exc)
            return
        self._queue(item, what="daily_summary")

    # --- helpers ------------------------------------------------------------------------

    def _queue(self, item: OutboxItem, *, what: str) -> None:
        try:
            queued = enqueue(self._journal, item)
        except Exception as exc:
            self._report_once(f"queue:{what}", "sheets_row_failed", kind=what, error=exc)
            return
        if queued:
            self.queued += 1
            logger.debug(kv(
                "sheets_row_queued", bot=self.bot, kind=item.kind, key=item.idempotency_key
            ))  # fmt: skip
            self.mirror.notify()

    def _report_once(self, topic: str, event: str, *, kind: str, error: Exception) -> None:
        key = f"{topic}:{type(error).__name__}"
        if key in self._reported:
            return
        self._reported.add(key)
        logger.error(
            "%s bot=%s kind=%s error=%s action=trading_continues",
            event,
            self.bot,
            kind,
            str(error).replace("\n", " "),
            exc_info=not isinstance(error, PayloadError),
        )
