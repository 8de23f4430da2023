"""The bot's alert sender thread and how a bot (or the CLI) gets its alert channel.

`build_alerts(section, ...)` resolves each destination's URL from the secret store (names only
in config; a missing secret is logged by NAME and that destination's alerts wait in the outbox)
and returns an `AlertChannel`: the queue producers write to and the worker thread that
delivers (the journal's `OutboxWorker`, holding the journal's alerts lock).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from shared.alerts import transport
from shared.alerts.config import AlertsSection
from shared.alerts.queue import AlertQueue
from shared.alerts.sender import DEFAULT_BATCH, AlertSender, Send
from shared.clock import Clock
from shared.journal import Journal
from shared.journal.outbox_worker import OutboxWorker
from shared.logger_service import kv
from shared.secret_manager import SecretStore, SecretStoreError

logger = logging.getLogger(__name__)


def alerts_lock_path(journal_path: Path) -> Path:
    """The lock file that lets one process at a time deliver a journal's alerts."""
    return journal_path.with_name(journal_path.name + ".alerts.lock")


class AlertWorker(OutboxWorker):
    """Delivers the `alerts` channel of `bot`'s journal from a daemon thread."""

    topic = "alerts"
    thread_prefix = "alerts-sender"

    def __init__(
        self,
        *,
        bot: str,
        journal_path: Path,
        urls: dict[str, str],
        clock: Clock,
        send: Send = transport.send,
        idle_interval_s: float = 5.0,
        batch_window_s: float = 0.5,
        outage_backoff_s: float = 15.0,
        outage_backoff_max_s: float = 300.0,
    ) -> None:
        super().__init__(
            bot=bot,
            journal_path=journal_path,
            lock_path=alerts_lock_path(journal_path),
            clock=clock,
            batch_rows=DEFAULT_BATCH,
            idle_interval_s=idle_interval_s,
            batch_window_s=batch_window_s,
            outage_backoff_s=outage_backoff_s,
            outage_backoff_max_s=outage_backoff_max_s,
        )
        self._urls = urls
        self._send = send

    def _connect(self, journal: Journal) -> AlertSender:
        return AlertSender(
            journal=journal, urls=self._urls, send=self._send, stop_requested=self._stopping.is_set
        )


@dataclass
class AlertChannel:
    """A bot's alerts: `queue` (loop thread, inside journal transactions) and `worker`."""

    queue: AlertQueue
    worker: AlertWorker


def resolve_urls(section: AlertsSection, store: SecretStore, *, source: str) -> dict[str, str]:
    """Destination name -> apprise URL, for the destinations whose secret could be read.

    A missing or unreadable secret is logged (ERROR, the secret's name only) and skipped.
    """
    urls: dict[str, str] = {}
    for destination in section.destinations:
        try:
            url = store.get(destination.url_secret)
        except SecretStoreError as exc:
            logger.error(kv("alert_secret_unavailable", source=source,
                            destination=destination.name, secret=destination.url_secret,
                            error=exc))  # fmt: skip
            continue
        if url is None:
            logger.error(kv("alert_secret_missing", source=source, destination=destination.name,
                            secret=destination.url_secret))  # fmt: skip
            continue
        urls[destination.name] = url.strip()
    return urls


def build_alerts(
    section: AlertsSection,
    *,
    bot: str,
    clock: Clock,
    journal_path: Path,
    store: SecretStore | None = None,
) -> AlertChannel | None:
    """`bot`'s alert channel per its config, or None when alerts are off (logged once).

    Never raises for a missing secret: that destination's alerts are queued and wait.
    """
    queue = AlertQueue.from_config(section)
    if queue is None:
        logger.info(kv("alerts_off", bot=bot, reason="disabled_in_config"))
        return None
    if store is None:
        from shared.secret_manager import default_secret_store

        store = default_secret_store()
    urls = resolve_urls(section, store, source=bot)
    logger.info(kv("alerts_on", bot=bot, destinations=",".join(sorted(urls)) or "none"))
    worker = AlertWorker(bot=bot, journal_path=journal_path, urls=urls, clock=clock)
    return AlertChannel(queue, worker)
