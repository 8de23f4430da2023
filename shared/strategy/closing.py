"""Re-issuing a stuck close, for any bot: the close in progress, its retry schedule, and what
to send when it is due.

A close is re-issued under its SAME intent id (the executor ignores a close it is still working
on and restarts one it gave up; a new id would run two closes on the same legs and could
over-close), for the legs the broker still shows open, every retry interval. Times are UTC.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from shared.domain import Position
from shared.strategy.codec import leg_spec_from_json, leg_spec_to_json, opt_utc, parse_utc
from shared.strategy.recovery import over_closed, still_open
from shared.strategy_contract import ClosePosition, LegSpec


@dataclass
class CloseTracker:
    """The close in progress: the legs it must flatten and its retry schedule (UTC)."""

    intent_id: str
    reason: str
    sent_at: datetime
    legs: tuple[LegSpec, ...]
    next_retry_at: datetime | None = None
    reissues: int = 0

    def to_json(self) -> dict[str, Any]:
        return {
            "intent_id": self.intent_id,
            "reason": self.reason,
            "sent_at": self.sent_at.isoformat(),
            "legs": [leg_spec_to_json(leg) for leg in self.legs],
            "next_retry_at": None if self.next_retry_at is None else self.next_retry_at.isoformat(),
            "reissues": self.reissues,
        }

    @classmethod
    def from_json(cls, data: Any) -> CloseTracker:
        if not isinstance(data, dict) or not isinstance(data.get("intent_id"), str):
            raise ValueError("close must be an object with an intent_id")
        legs = data.get("legs")
        if not isinstance(legs, list) or not legs:
            raise ValueError("close.legs must be a non-empty list")
        reissues = data.get("reissues", 0)
        if not isinstance(reissues, int):
            raise ValueError("close.reissues must be an integer")
        return cls(
            intent_id=data["intent_id"],
            reason=str(data.get("reason", "")),
            sent_at=parse_utc(data.get("sent_at"), "close.sent_at"),
            legs=tuple(leg_spec_from_json(item) for item in legs),
            next_retry_at=opt_utc(data.get("next_retry_at"), "close.next_retry_at"),
            reissues=reissues,
        )


@dataclass(frozen=True)
class Reissue:
    """A due re-issue: the order to send (None when the broker already shows every leg flat)
    and the uics the broker shows on the other side (over-closed)."""

    order: ClosePosition | None
    over_closed: tuple[int, ...]


def reissue_due(close: CloseTracker, positions: Sequence[Position], now: datetime,
                retry: timedelta) -> Reissue | None:
    """The re-issue of `close` due at `now` (None before `next_retry_at`); schedules the next
    one `retry` later and counts it."""
    if close.next_retry_at is None or now < close.next_retry_at:
        return None
    flipped = over_closed(close.legs, positions)
    remaining = still_open(close.legs, positions)
    if not remaining:
        return Reissue(None, flipped)
    close.reissues += 1
    close.next_retry_at = now + retry
    order = ClosePosition(intent_id=close.intent_id, legs=remaining, exit_reason=close.reason,
                          urgent=True)
    return Reissue(order, flipped)
