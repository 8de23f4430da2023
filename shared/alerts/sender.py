"""Deliver the `alerts` channel of a journal's outbox, each row once, oldest first.

A row is marked delivered right after its destination accepted it. A failed send counts an
attempt on the row (error text without the URL) and the destination is skipped for the rest of
the flush, so its later alerts keep their order; other destinations go on. A row that no retry
can deliver (malformed, or for a destination without a URL) is marked failed once, logged, kept
in the outbox (`calypso alerts pending` lists it) and looked past, without counting as an
outage. The outage backoff between flushes belongs to the worker thread
(`shared.journal.outbox_worker`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from shared.alerts import transport
from shared.alerts.model import Alert
from shared.alerts.queue import ALERT_CHANNEL
from shared.journal import Journal
from shared.journal.outbox_worker import SenderStopped
from shared.logger_service import kv

logger = logging.getLogger(__name__)

Send = Callable[[str, str, Alert], None]
DEFAULT_BATCH = 50


@dataclass
class AlertFlushResult:
    """What one flush did; `error` holds the first failure (no URL in it)."""

    considered: int = 0
    delivered: int = 0
    failed: int = 0
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


class AlertSender:
    """Moves pending alert rows to their destinations. `urls` maps destination name -> URL."""

    def __init__(
        self,
        *,
        journal: Journal,
        urls: Mapping[str, str],
        send: Send = transport.send,
        stop_requested: Callable[[], bool] = lambda: False,
        batch: int = DEFAULT_BATCH,
    ) -> None:
        self._journal = journal
        self._urls = dict(urls)
        self._send = send
        self._stop_requested = stop_requested
        self._batch = batch
        # Rows no retry can deliver (malformed, or for a destination without a URL): marked
        # failed once, then looked past, so they never hold back the alerts behind them.
        self._unroutable: set[int] = set()

    def flush(self, limit: int | None = None) -> AlertFlushResult:
        """Deliver up to `limit` pending alerts. Never raises for a destination's failure (it
        is in the result; the row stays pending). Raises SenderStopped on stop."""
        result = AlertFlushResult()
        down: set[str] = set()
        wanted = (limit or self._batch) + len(self._unroutable)
        for row in self._journal.outbox_pending(wanted, ALERT_CHANNEL):
            if row.outbox_id in self._unroutable:
                continue
            if self._stop_requested():
                raise SenderStopped()
            result.considered += 1
            try:
                destination, alert = Alert.from_payload(row.payload)
            except (KeyError, ValueError) as exc:
                self._unroutable_row(row.outbox_id, f"malformed alert row: {exc}")
                continue
            if destination in down:
                continue
            url = self._urls.get(destination)
            if url is None:
                self._unroutable_row(row.outbox_id, f"destination {destination} is not "
                                     "configured or its secret is missing")  # fmt: skip
                continue
            try:
                self._send(destination, url, alert)
            except transport.DeliveryError as exc:
                down.add(destination)
                self._failed(result, row.outbox_id, str(exc))
                continue
            self._journal.mark_delivered([row.outbox_id])
            result.delivered += 1
            logger.info(kv("alert_sent", destination=destination, source=alert.source,
                           topic=alert.topic, severity=alert.severity.label))  # fmt: skip
        return result

    def _unroutable_row(self, outbox_id: int, error: str) -> None:
        self._unroutable.add(outbox_id)
        self._journal.mark_failed(outbox_id, error)
        logger.error(kv("alert_unroutable", outbox_id=outbox_id, error=error,
                        action="kept_in_outbox"))  # fmt: skip

    def _failed(self, result: AlertFlushResult, outbox_id: int, error: str) -> None:
        self._journal.mark_failed(outbox_id, error)
        result.failed += 1
        if result.error is None:
            result.error = error
        logger.warning(kv("alert_not_sent", outbox_id=outbox_id, error=error))
