"""Send one alert to one apprise URL (Telegram, email, ntfy, Slack, ... : one URL each).

The URL carries a bot token or a password: it is never logged and never put in an error
message. apprise's own DEBUG lines can quote a request URL (a Telegram bot token sits in its
path), so the `apprise` logger is held at WARNING whatever the bot's log level.
"""

from __future__ import annotations

import logging

import apprise

from shared.alerts.model import Alert, Severity

logging.getLogger("apprise").setLevel(logging.WARNING)

# Real seconds one delivery may take in all (apprise reports a slower service as failed), so a
# hung service delays the next alerts, never the sender thread's stop for long.
SEND_TIMEOUT_S = 30.0

_NOTIFY_TYPES = {
    Severity.INFO: apprise.NotifyType.INFO,
    Severity.WARNING: apprise.NotifyType.WARNING,
    Severity.CRITICAL: apprise.NotifyType.FAILURE,
}


class DeliveryError(RuntimeError):
    """A destination did not accept an alert. The message names the destination, never its URL."""


def send(destination: str, url: str, alert: Alert) -> None:
    """Deliver `alert` to `url` now (blocking: network I/O, at most `SEND_TIMEOUT_S`).

    Raises DeliveryError when apprise does not understand the URL or the service refused or
    could not be reached. A fresh apprise object per call: no state (or throttle) is shared.
    """
    notifier = apprise.Apprise()
    if not notifier.add(url):
        raise DeliveryError(f"destination {destination}: its URL is not one apprise understands")
    sent = notifier.notify(
        title=alert.subject(),
        body=alert.body,
        notify_type=_NOTIFY_TYPES[alert.severity],
        timeout=SEND_TIMEOUT_S,
    )
    if not sent:
        raise DeliveryError(f"destination {destination}: the service refused or was unreachable")
