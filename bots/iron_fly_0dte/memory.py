"""What the iron fly remembers within a day, and its JSON form for `export_state`/`restore`.

Decimals are strings, datetimes ISO with offset (UTC), dates ISO. `Memory.from_json` raises
ValueError naming the first bad field, so a corrupt saved state is reported, never guessed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from bots.iron_fly_0dte.book import Fly
from bots.iron_fly_0dte.opening_range import OpeningRange
from bots.iron_fly_0dte.states import IronFlyState
from shared.strategy.closing import CloseTracker
from shared.strategy.codec import (
    fill_from_json,
    fill_to_json,
    opt_utc,
    parse_date,
    parse_list,
)
from shared.strategy_contract import LegFill

SCHEMA_VERSION = 1


@dataclass
class Memory:
    """The day's facts beside the state name: range, fly, intents and close fills."""

    day: date | None = None
    opening_range: OpeningRange | None = None
    range_row_at: datetime | None = None
    waited_in_range: bool = False
    fly: Fly | None = None
    entry_intent_id: str | None = None
    entry_sent_at: datetime | None = None
    not_ready_reason: str = ""
    close: CloseTracker | None = None
    close_seq: int = 0
    close_fills: dict[str, tuple[LegFill, ...]] = field(default_factory=dict)

    def to_json(self, state: IronFlyState) -> dict[str, Any]:
        return {
            "version": SCHEMA_VERSION,
            "state": state.value,
            "day": None if self.day is None else self.day.isoformat(),
            "opening_range": None if self.opening_range is None else self.opening_range.to_json(),
            "range_row_at": None if self.range_row_at is None else self.range_row_at.isoformat(),
            "waited_in_range": self.waited_in_range,
            "fly": None if self.fly is None else self.fly.to_json(),
            "entry_intent_id": self.entry_intent_id,
            "entry_sent_at": None if self.entry_sent_at is None else self.entry_sent_at.isoformat(),
            "not_ready_reason": self.not_ready_reason,
            "close": None if self.close is None else self.close.to_json(),
            "close_seq": self.close_seq,
            "close_fills": {
                intent: [fill_to_json(fill) for fill in fills]
                for intent, fills in self.close_fills.items()
            },
        }

    @classmethod
    def from_json(cls, data: Any) -> tuple[IronFlyState, Memory]:
        """The saved state name and memory; raises ValueError on any malformed field."""
        if not isinstance(data, dict):
            raise ValueError("saved state must be an object")
        if data.get("version") != SCHEMA_VERSION:
            raise ValueError(f"saved state version {data.get('version')!r} != {SCHEMA_VERSION}")
        try:
            state = IronFlyState(str(data.get("state")))
        except ValueError:
            raise ValueError(f"unknown saved state {data.get('state')!r}") from None
        fills = data.get("close_fills", {})
        if not isinstance(fills, dict):
            raise ValueError("close_fills must be an object")
        close_seq = data.get("close_seq", 0)
        if not isinstance(close_seq, int):
            raise ValueError("close_seq must be an integer")
        entry_intent = data.get("entry_intent_id")
        if entry_intent is not None and not isinstance(entry_intent, str):
            raise ValueError("entry_intent_id must be a string")
        memory = cls(
            day=None if data.get("day") is None else parse_date(data.get("day"), "day"),
            opening_range=None if data.get("opening_range") is None
            else OpeningRange.from_json(data["opening_range"]),
            range_row_at=opt_utc(data.get("range_row_at"), "range_row_at"),
            waited_in_range=bool(data.get("waited_in_range", False)),
            fly=None if data.get("fly") is None else Fly.from_json(data["fly"]),
            entry_intent_id=entry_intent,
            entry_sent_at=opt_utc(data.get("entry_sent_at"), "entry_sent_at"),
            not_ready_reason=str(data.get("not_ready_reason", "")),
            close=None if data.get("close") is None else CloseTracker.from_json(data["close"]),
            close_seq=close_seq,
            close_fills={
                str(intent): tuple(fill_from_json(item) for item in parse_list(rows, "close_fills"))
                for intent, rows in fills.items()
            },
        )
        return state, memory
