"""Alerts for a failed Saxo token refresh, raised by the process whose refresh failed.

A bot queues the alert in its own journal (through a short connection of the failing thread's
own: a refresh can fail on the loop thread or on the price stream's) and its sender thread
delivers it. The token keeper, which has no journal, queues it in the owning bot's journal and
delivers it at once unless that bot's sender holds the alerts lock (`operator.notify_unit`).
Repeats are grouped by the queue's repeat window; a repeat inside the window is dropped in
memory first, so a refresh that fails on every API call does not open the journal each time.
The alert text holds the failure's redacted detail only (`RefreshFailure.detail`).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping
from pathlib import Path

from shared import paths
from shared.alerts import messages, transport
from shared.alerts.config import AlertsSection
from shared.alerts.model import Alert
from shared.alerts.operator import notify_unit, owner_bot
from shared.alerts.sender import Send
from shared.alerts.worker import AlertChannel
from shared.clock import Clock
from shared.journal import Journal
from shared.logger_service import kv
from shared.secret_manager import SecretStore
from shared.token_coordinator import RefreshFailure, TokenCoordinator

logger = logging.getLogger(__name__)

QueueAlert = Callable[[Alert], None]
KEEPER_UNIT = "calypso-token-keeper.service"


class RefreshAlerts:
    """`TokenCoordinator.on_refresh_failed` for `source`: builds the alert and queues it with
    `queue_alert`, once per group key and repeat window. Thread-safe; never raises."""

    def __init__(
        self, *, source: str, queue_alert: QueueAlert, clock: Clock, repeat_window_s: float
    ) -> None:
        if repeat_window_s <= 0:
            raise ValueError(f"repeat_window_s must be positive, got {repeat_window_s}")
        self._source = source
        self._queue_alert = queue_alert
        self._clock = clock
        self._window_s = repeat_window_s
        self._lock = threading.Lock()
        self._raised: set[tuple[str, int]] = set()

    def __call__(self, failure: RefreshFailure) -> None:
        alert = messages.token_refresh_failed(self._source, failure, self._clock.now())
        slot = (alert.group_key, int(alert.occurred_at.timestamp() // self._window_s))
        with self._lock:
            if slot in self._raised:
                return
            self._raised = {seen for seen in self._raised if seen[1] >= slot[1]} | {slot}
        try:
            self._queue_alert(alert)
        except Exception as exc:  # the refresh failure itself is raised to the caller anyway
            with self._lock:
                self._raised.discard(slot)  # the next failure tries again
            logger.error(kv("token_refresh_alert_not_queued", source=self._source,
                            env=failure.env, error=type(exc).__name__))  # fmt: skip
            return
        logger.warning(kv("token_refresh_alerted", source=self._source, env=failure.env,
                          severity=alert.severity.label))  # fmt: skip


def watch_bot_refreshes(
    coordinator: object, channel: AlertChannel, *, bot: str, journal_path: Path, clock: Clock
) -> RefreshAlerts | None:
    """Make `bot`'s token coordinator alert through `channel` when a refresh fails; None (and
    nothing changed) when `coordinator` is not a TokenCoordinator (a test's fixed token)."""
    if not isinstance(coordinator, TokenCoordinator):
        return None

    def queue_alert(alert: Alert) -> None:
        with Journal.open(journal_path, clock=clock) as journal:
            queued = channel.queue.put(journal, alert)
        if queued:
            channel.worker.notify()

    alerts = RefreshAlerts(source=bot, queue_alert=queue_alert, clock=clock,
                           repeat_window_s=channel.queue.repeat_window_s)  # fmt: skip
    coordinator.on_refresh_failed = alerts
    return alerts


def watch_keeper_refreshes(
    coordinator: TokenCoordinator,
    sections: Mapping[str, AlertsSection],
    *,
    store: SecretStore,
    clock: Clock,
    send: Send = transport.send,
) -> RefreshAlerts | None:
    """Make the token keeper's coordinator alert when a refresh fails: queued in the journal
    of the bot that carries the keeper's alerts (`owner_bot`) and delivered at once unless
    that bot's sender holds the lock. None (logged) when no bot config enables alerts."""
    owner = owner_bot(KEEPER_UNIT, sections)
    if owner is None:
        logger.info(kv("alerts_off", source=KEEPER_UNIT, reason="no_bot_enables_alerts"))
        return None
    section = sections[owner]
    journal_path = paths.journal_path(owner)

    def queue_alert(alert: Alert) -> None:
        outcome = notify_unit(alert, section, store, journal_path=journal_path, clock=clock,
                              send=send)  # fmt: skip
        if outcome.delivery is not None and not outcome.delivery.ok:
            logger.warning(kv("token_refresh_alert_waiting", owner=owner,
                              error=outcome.delivery.error))  # fmt: skip

    alerts = RefreshAlerts(source=KEEPER_UNIT, queue_alert=queue_alert, clock=clock,
                           repeat_window_s=section.repeat_window_s)  # fmt: skip
    coordinator.on_refresh_failed = alerts
    logger.info(kv("alerts_on", source=KEEPER_UNIT, journal_of=owner))
    return alerts
