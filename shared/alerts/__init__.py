"""Alerts to the operator's phone or mailbox through `apprise`, queued in the journal's outbox.

Producers build an `Alert` (`shared.alerts.messages`) and queue it with `AlertQueue.put` inside
the transaction that journals the fact; the bot's `AlertWorker` thread delivers it; the CLI
(`calypso alerts test|pending|notify-unit`) tests destinations, lists what waits, and alerts
for systemd units.
"""

from shared.alerts.config import AlertDestination, AlertsSection
from shared.alerts.model import Alert, Severity
from shared.alerts.queue import AlertQueue

__all__ = ["Alert", "AlertDestination", "AlertQueue", "AlertsSection", "Severity"]
