"""An alert: what happened, how urgent, and the key under which repeats are grouped."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import IntEnum
from typing import Any, Literal

from shared.journal.codec import time_from_text, time_to_text
from shared.logger_service import redact

SeverityName = Literal["info", "warning", "critical"]


class Severity(IntEnum):
    """How urgent an alert is; a destination receives its `min_severity` and above."""

    INFO = 10
    WARNING = 20
    CRITICAL = 30

    @classmethod
    def named(cls, name: str) -> Severity:
        """`"warning"` -> Severity.WARNING; raises ValueError naming the valid names."""
        try:
            return cls[name.upper()]
        except KeyError:
            valid = ", ".join(member.name.lower() for member in cls)
            raise ValueError(f"unknown severity {name!r} (valid: {valid})") from None

    @property
    def label(self) -> str:
        return self.name.lower()


@dataclass(frozen=True)
class Alert:
    """One message for the operator.

    `group_key` identifies "the same event": repeats with the same key inside one repeat
    window are sent once; with `once`, the key names one event for good (a trade's opening,
    a day's summary) and a second alert with it is never sent, however late. `source` is the
    bot or systemd unit it concerns; `occurred_at` is timezone-aware (UTC inside). `title`
    and `body` are plain text and never hold a secret.
    """

    source: str
    topic: str
    group_key: str
    severity: Severity
    title: str
    body: str
    occurred_at: datetime
    once: bool = False

    def subject(self) -> str:
        """`[CALYPSO iron_fly_0dte] CRITICAL: stuck close` (the message title)."""
        return f"[CALYPSO {self.source}] {self.severity.name}: {self.title}"

    def to_payload(self, destination: str) -> dict[str, Any]:
        """The outbox payload of this alert bound for `destination` (plain JSON). Title and
        body pass the log redaction (registered secrets, bearer tokens, JWTs, `password=...`),
        so text built from a broker's or library's error cannot carry a token to a phone."""
        return {
            "destination": destination,
            "source": self.source,
            "topic": self.topic,
            "group_key": self.group_key,
            "severity": self.severity.label,
            "title": redact(self.title),
            "body": redact(self.body),
            "occurred_at": time_to_text(self.occurred_at),
        }

    @classmethod
    def from_payload(cls, payload: Mapping[str, Any]) -> tuple[str, Alert]:
        """(destination, alert) of an outbox payload; raises KeyError/ValueError when malformed."""
        alert = cls(
            source=str(payload["source"]),
            topic=str(payload["topic"]),
            group_key=str(payload["group_key"]),
            severity=Severity.named(str(payload["severity"])),
            title=str(payload["title"]),
            body=str(payload["body"]),
            occurred_at=time_from_text(str(payload["occurred_at"])),
        )
        return str(payload["destination"]), alert
