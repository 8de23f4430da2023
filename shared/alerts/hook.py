"""The runtime's side of alerts: queue in the journal (never raising), wake the sender thread.

Everything here is local SQLite work on the loop thread. A failure to build or queue an alert
is logged (ERROR, once per topic and error type) and trading goes on: the fact itself (trade
close, safety event) is journaled regardless, and the Sheets row still carries it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from datetime import date, datetime

from shared import market_hours
from shared.alerts import messages
from shared.alerts.model import Alert
from shared.alerts.queue import AlertOutbox
from shared.alerts.worker import AlertChannel
from shared.clock import Clock
from shared.journal import Journal
from shared.logger_service import kv
from shared.sheets.runtime_rows import strike_text
from shared.strategy_contract import LegSpec

logger = logging.getLogger(__name__)

Build = Callable[[], Alert | None]


class AlertHook:
    """`bot`'s alerts inside the runtime; every method is a no-op when alerts are off."""

    def __init__(self, *, bot: str, clock: Clock, channel: AlertChannel | None = None) -> None:
        self.bot = bot
        self.channel = channel
        self._clock = clock
        self._reported: set[str] = set()

    @property
    def enabled(self) -> bool:
        return self.channel is not None

    # --- sender thread ------------------------------------------------------------------

    def start(self) -> None:
        if self.channel is not None:
            self.channel.worker.start()

    def stop(self, timeout_s: float) -> bool:
        """Stop the sender within `timeout_s`; undelivered alerts stay queued."""
        return True if self.channel is None else self.channel.worker.stop(timeout_s)

    def wake(self, queued: bool = True) -> None:
        if queued and self.channel is not None:
            self.channel.worker.notify()

    # --- queuing ------------------------------------------------------------------------

    def queue_in(self, outbox: AlertOutbox, topic: str, build: Build) -> bool:
        """Queue the alert `build` makes inside `outbox` (an open transaction); True when a
        row was queued. Never raises."""
        if self.channel is None:
            return False
        try:
            alert = build()
            return alert is not None and self.channel.queue.put(outbox, alert) > 0
        except Exception as exc:
            key = f"{topic}:{type(exc).__name__}"
            if key not in self._reported:
                self._reported.add(key)
                logger.error(kv("alert_not_queued", bot=self.bot, topic=topic, error=exc,
                                action="trading_continues"), exc_info=True)  # fmt: skip
            return False

    def send(self, journal: Journal, topic: str, build: Build) -> None:
        """Queue an alert in its own journal transaction and wake the sender. Never raises."""
        if self.channel is None:
            return
        try:
            with journal.transaction(durable=False) as tx:
                queued = self.queue_in(tx, topic, build)
        except Exception as exc:
            logger.error(kv("alert_not_queued", bot=self.bot, topic=topic, error=exc,
                            action="trading_continues"))  # fmt: skip
            return
        self.wake(queued)

    # --- what the runtime reports -------------------------------------------------------

    def trade_opened(self, journal: Journal, intent_id: str, legs: Sequence[LegSpec]) -> None:
        """The entry labelled `intent_id` filled: its fills and premium after commissions."""

        def build() -> Alert | None:
            found = [t for t in journal.trades_labelled(intent_id) if t.is_open]
            if not found:
                return None
            record = found[-1]
            structure = strike_text(legs) or f"{len({f.leg for f in record.fills})}-leg"
            return messages.trade_opened(self.bot, record, structure, self._clock.now())

        self.send(journal, "trade_opened", build)

    def breaker_changed(self, journal: Journal, state: str, reason: str) -> None:
        self.send(journal, "breaker", lambda: messages.breaker_changed(
            self.bot, state, reason, self._clock.now()))  # fmt: skip

    def day_closed(self, journal: Journal, day: date, state: str) -> None:
        """The daily summary of New York date `day` (sent at the day rollover), for a trading
        day only; queued at most once per day (an alert marked `once`), so a restart that
        raises it again sends nothing twice."""
        if self.channel is None or not _trading_day(day):
            return
        self.send(journal, "daily_summary", lambda: messages.daily_summary(
            self.bot, journal.daily_pnl(day), state, len(journal.open_trades()),
            self._clock.now()))  # fmt: skip

    def missed_summary(
        self, journal: Journal, last_saved: datetime | None, now: datetime, state: str
    ) -> None:
        """At start: the summary of the day the bot last saved its state (`last_saved`, UTC)
        when that New York day ended while the bot was down, so its day rollover never ran.
        Already queued (the bot stopped just after its rollover): nothing is sent twice."""
        if self.channel is None or last_saved is None:
            return
        day = last_saved.astimezone(market_hours.NY).date()
        if day < now.astimezone(market_hours.NY).date():
            self.day_closed(journal, day, state)


def _trading_day(day: date) -> bool:
    """NYSE trades on `day`; a day of a year the holiday data does not know counts as one."""
    try:
        return market_hours.is_trading_day(day)
    except ValueError:
        return True
