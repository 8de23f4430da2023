"""Journal records every strategy emits the same way: safety events and Bot Logs lines.

Keys make each record unique in the journal's outbox (day, name and, for safety events, the
UTC instant); times in payloads are UTC ISO strings.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

from shared.strategy_contract import RecordEvent


def safety_record(*, day: date | None, name: str, now: datetime, state: str,
                  description: str) -> RecordEvent:
    """A `safety_event` row: `name` (e.g. close_stuck) and `description` prefixed with the
    strategy's state at `now` (UTC)."""
    return RecordEvent(
        kind="safety_event", key=f"{day}:{name}:{now.astimezone(UTC).isoformat()}",
        payload={"event": name, "description": f"[{state}] {description}"},
    )


def bot_log_record(*, component: str, day: date | None, name: str, now: datetime,
                   message: str, level: str = "INFO") -> RecordEvent:
    """A `bot_log` row (the Sheets "Bot Logs" tab): one operator-relevant line per day and
    `name`."""
    return RecordEvent(kind="bot_log", key=f"{day}:{name}", payload={
        "timestamp": now.astimezone(UTC).isoformat(), "level": level,
        "component": component, "message": message,
    })
