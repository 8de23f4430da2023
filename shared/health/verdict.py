"""The result of one health check, and the rules shared by every check (thresholds, JSON)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, Final

GIB: Final = 1024**3

# Thresholds of issue 8; the checks take them from here so docs and tests name one source.
LOG_STALE_AFTER: Final = timedelta(minutes=30)
MEMORY_LIMIT_BYTES: Final = 1 * GIB
DISK_MIN_FREE_BYTES: Final = 5 * GIB
HORIZON_MIN_DAYS: Final = 60
# Event data (issue 16): warn this many days before it runs out, fail this many days before.
EVENT_DATA_WARN_DAYS: Final = 60
EVENT_DATA_FAIL_DAYS: Final = 14
ERROR_WINDOW: Final = timedelta(minutes=15)


@dataclass(frozen=True)
class Verdict:
    """One check's outcome. `bot` is None for machine-wide checks; `details` is plain JSON.

    `reason` is one operator-readable sentence, also when the check passes. Neither `reason`
    nor `details` may hold a secret value (token, key): checks report facts about secrets only.
    `warning`: passed, but something needs the operator soon (does not change the exit code).
    """

    name: str
    ok: bool
    reason: str
    bot: str | None = None
    details: Mapping[str, Any] = field(default_factory=dict)
    warning: bool = False

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "bot": self.bot,
            "ok": self.ok,
            "warning": self.warning,
            "reason": self.reason,
            "details": dict(self.details),
        }


def passed(
    name: str, reason: str, *, bot: str | None = None, details: Mapping[str, Any] | None = None
) -> Verdict:
    return Verdict(name, True, reason, bot, dict(details or {}))


def warned(
    name: str, reason: str, *, bot: str | None = None, details: Mapping[str, Any] | None = None
) -> Verdict:
    """A passed verdict that carries a warning."""
    return Verdict(name, True, reason, bot, dict(details or {}), warning=True)


def failed(
    name: str, reason: str, *, bot: str | None = None, details: Mapping[str, Any] | None = None
) -> Verdict:
    return Verdict(name, False, reason, bot, dict(details or {}))


def report_json(verdicts: Sequence[Verdict]) -> dict[str, Any]:
    """The `calypso health --json` document: {"ok": all passed, "checks": [...]}."""
    return {
        "ok": all_ok(verdicts),
        "checks": [verdict.to_json() for verdict in verdicts],
    }


def all_ok(verdicts: Sequence[Verdict]) -> bool:
    """True only when there is at least one verdict and every verdict passed."""
    return bool(verdicts) and all(verdict.ok for verdict in verdicts)


def describe_age(age: timedelta) -> str:
    """`age` as a short human text: '42 s', '17 min', '3.5 h', '2.0 days' (negative: 'in the
    future')."""
    seconds = age.total_seconds()
    if seconds < 0:
        return "in the future"
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 2 * 3600:
        return f"{seconds / 60:.0f} min"
    if seconds < 2 * 86400:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86400:.1f} days"
