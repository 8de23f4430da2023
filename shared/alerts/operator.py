"""Alerts from outside a bot process: test destinations, alert for a systemd unit, list pending.

`notify_unit` is what a unit's `ExecStopPost=` / `OnFailure=` runs: it queues the alert in the
owning bot's journal (so nothing is lost), then delivers that journal's pending alerts at once
when no bot process holds its alerts lock (the bot is down: exactly when systemd calls), and
otherwise leaves them to the running bot's sender.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from filelock import FileLock, Timeout

from shared import paths
from shared.alerts import messages, transport
from shared.alerts.config import AlertsSection
from shared.alerts.model import Alert
from shared.alerts.queue import ALERT_CHANNEL, AlertQueue
from shared.alerts.sender import AlertFlushResult, AlertSender, Send
from shared.alerts.worker import alerts_lock_path, resolve_urls
from shared.clock import Clock
from shared.config_loader import ConfigError, find_config_path, load_bot_config
from shared.journal import Journal, OutboxRow
from shared.logger_service import kv
from shared.secret_manager import SecretStore

logger = logging.getLogger(__name__)

# systemd's values for a main process that was stopped on purpose (ExecStopPost environment).
CLEAN_STOP = {"SERVICE_RESULT": "success", "EXIT_CODE": "exited", "EXIT_STATUS": "0"}


@dataclass(frozen=True)
class DestinationCheck:
    """One destination's answer to a test alert; `error` None when it was delivered."""

    destination: str
    error: str | None


def try_destinations(
    section: AlertsSection, store: SecretStore, *, source: str, now: datetime,
    send: Send = transport.send,
) -> list[DestinationCheck]:  # fmt: skip
    """Send a test alert to every destination of `section` now (whatever its min_severity)."""
    urls = resolve_urls(section, store, source=source)
    alert = messages.probe_alert(source, now)
    outcomes: list[DestinationCheck] = []
    for destination in section.destinations:
        url = urls.get(destination.name)
        if url is None:
            error = f"secret {destination.url_secret!r} is missing or unreadable"
            outcomes.append(DestinationCheck(destination.name, error))
            continue
        try:
            send(destination.name, url, alert)
        except transport.DeliveryError as exc:
            outcomes.append(DestinationCheck(destination.name, str(exc)))
            continue
        outcomes.append(DestinationCheck(destination.name, None))
    return outcomes


def unit_alert(unit: str, *, failed: bool, env: Mapping[str, str], now: datetime) -> Alert | None:
    """The alert for `unit` per systemd's ExecStopPost variables in `env` (None for a clean
    stop), or its OnFailure alert when `failed`."""
    if failed:
        return messages.unit_failed(unit, now)
    values = {name: env.get(name, "") for name in CLEAN_STOP}
    if all(value in ("", CLEAN_STOP[name]) for name, value in values.items()):
        return None
    return messages.unit_stopped(unit, values["SERVICE_RESULT"] or "unknown",
                                 values["EXIT_CODE"] or "unknown",
                                 values["EXIT_STATUS"] or "unknown", now)  # fmt: skip


@dataclass(frozen=True)
class NotifyOutcome:
    """What `notify_unit` did: `queued` rows; `delivery` None when the bot's sender has them."""

    queued: int
    delivery: AlertFlushResult | None


def notify_unit(
    alert: Alert,
    section: AlertsSection,
    store: SecretStore,
    *,
    journal_path: Path,
    clock: Clock,
    send: Send = transport.send,
) -> NotifyOutcome:
    """Queue `alert` in the journal at `journal_path`, then deliver its pending alerts now
    unless a bot process holds the journal's alerts lock. Raises JournalError when the journal
    cannot be opened; delivery failures are in the outcome (the rows stay queued)."""
    queue = AlertQueue(section.destinations, repeat_window_s=section.repeat_window_s)
    with Journal.open(journal_path, clock=clock) as journal:
        queued = queue.put(journal, alert)
        lock = FileLock(str(alerts_lock_path(journal_path)), timeout=0)
        try:
            lock.acquire()
        except Timeout:
            return NotifyOutcome(queued, None)
        try:
            urls = resolve_urls(section, store, source=alert.source)
            sender = AlertSender(journal=journal, urls=urls, send=send)
            return NotifyOutcome(queued, sender.flush())
        finally:
            lock.release()


def owner_bot(unit: str, sections: Mapping[str, AlertsSection]) -> str | None:
    """The bot whose journal and destinations carry `unit`'s alerts: the bot the unit runs, or
    (health, token keeper) the first bot, in `paths.BOT_NAMES` order, with alerts enabled."""
    name = unit.removesuffix(".service")
    if name in sections and sections[name].enabled:
        return name
    return next((bot for bot in paths.BOT_NAMES if bot in sections and sections[bot].enabled),
                None)  # fmt: skip


def readable_sections(bots: Sequence[str] = paths.BOT_NAMES) -> dict[str, AlertsSection]:
    """The `alerts` section of each bot whose config file reads and validates; a bot whose
    config does not is logged (the path and problem, never a value) and left out."""
    sections: dict[str, AlertsSection] = {}
    for bot in bots:
        try:
            sections[bot] = load_bot_config(bot, find_config_path(bot)).config.alerts
        except ConfigError as exc:
            logger.warning(kv("alerts_config_unreadable", bot=bot, error=exc))
    return sections


def pending_alerts(journal_path: Path) -> list[OutboxRow]:
    """Undelivered alerts of a journal (read-only), oldest first."""
    with Journal.open_readonly(journal_path) as journal:
        return journal.outbox_pending(100_000, ALERT_CHANNEL)
