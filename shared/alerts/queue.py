"""Queue an alert in the journal's outbox (channel `alerts`), one row per destination.

Called inside the transaction that journals the fact (a trade close, a safety event), so the
alert exists exactly when the fact does. Local SQLite work only: never a network call. A
destination receives the alerts at or above its `min_severity`. Repeats are grouped: the row's
key is `alert:<destination>:<group_key>:<window>` with `window` the repeat-window number of
`occurred_at`, so a second alert with the same group key in the same window is a no-op; an
alert marked `once` (a trade's open or close, a day's summary) has no window in its key, so it is
queued at most once whenever and however often it is raised (across restarts too).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any, Protocol

from shared.alerts.config import AlertDestination, AlertsSection
from shared.alerts.model import Alert
from shared.journal import OutboxChannel
from shared.logger_service import kv

logger = logging.getLogger(__name__)

ALERT_KIND = "alert"
ALERT_CHANNEL: OutboxChannel = "alerts"


class AlertOutbox(Protocol):
    """A journal or an open journal transaction."""

    def enqueue_outbox(
        self,
        kind: str,
        payload: Mapping[str, Any],
        idempotency_key: str,
        channel: OutboxChannel = "sheets",
    ) -> bool: ...


class AlertQueue:
    """Turns alerts into outbox rows for the configured destinations."""

    def __init__(self, destinations: Sequence[AlertDestination], *, repeat_window_s: float) -> None:
        if repeat_window_s <= 0:
            raise ValueError(f"repeat_window_s must be positive, got {repeat_window_s}")
        self._destinations = tuple(destinations)
        self._window_s = repeat_window_s

    @property
    def repeat_window_s(self) -> float:
        return self._window_s

    @classmethod
    def from_config(cls, section: AlertsSection) -> AlertQueue | None:
        """The queue of an `alerts` section; None when alerts are off."""
        if not section.enabled:
            return None
        return cls(section.destinations, repeat_window_s=section.repeat_window_s)

    def put(self, outbox: AlertOutbox, alert: Alert) -> int:
        """Queue `alert` for every destination that takes its severity; returns rows queued
        (0 when none takes it or it repeats an alert of this window)."""
        window = "once" if alert.once else int(alert.occurred_at.timestamp() // self._window_s)
        queued = 0
        for destination in self._destinations:
            if alert.severity < destination.threshold:
                continue
            key = f"alert:{destination.name}:{alert.group_key}:{window}"
            if outbox.enqueue_outbox(
                ALERT_KIND, alert.to_payload(destination.name), key, channel=ALERT_CHANNEL
            ):
                queued += 1
            else:
                logger.info(kv("alert_grouped", source=alert.source, key=alert.group_key,
                               destination=destination.name))  # fmt: skip
        return queued
