"""The put diagonal coordinator's memory and the journal records it emits.

Memory holds what belongs to no position: the trading day and its daily-bar facts, the day of
the last short roll (one roll per trading day), the day a campaign last closed (no re-entry the
same day), action cooldowns (UTC), the intent sequence and the closed campaigns' results.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from bots.rolling_put_diagonal.book import Campaign, Ledger
from bots.rolling_put_diagonal.config import BOT_NAME
from bots.rolling_put_diagonal.rules import Indicators
from shared.logger_service import kv
from shared.market_hours import NY
from shared.strategy.codec import parse_date
from shared.strategy.events import bot_log_record, safety_record
from shared.strategy_contract import RecordEvent

logger = logging.getLogger("bots.rolling_put_diagonal.strategy")
# The cooldown key of an entry whose chains held no tradable long or short put: the chains
# (~80 REST quotes) are looked at again only after `failed_action_cooldown_minutes`.
ENTRY_RECHECK_KEY = "entry_recheck"


@dataclass
class Memory:
    """The coordinator's own facts (see the module docstring)."""

    day: date | None = None
    indicators: Indicators | None = None  # from the last completed daily bar
    previous_close: Decimal | None = None
    bars_day: date | None = None  # the day the daily bars were read
    last_price: Decimal | None = None  # the last usable QQQ price (USD)
    long_roll_due: bool = False  # the last pass found a roll-up reason (fetch the long chain)
    long_rolled_on: date | None = None  # at most one long roll-up a trading day
    missing_once: set[int] = field(default_factory=set)  # legs absent from the last snapshot
    last_roll_day: date | None = None
    closed_on: date | None = None
    cooldown_until: dict[str, datetime] = field(default_factory=dict)
    decisions_today: set[str] = field(default_factory=set)
    intent_seq: int = 0
    ledger: Ledger = field(default_factory=Ledger)

    def new_day(self, day: date) -> None:
        """Forget the day's facts; keep roll and close days, cooldowns and results."""
        self.day = day
        self.indicators = None
        self.previous_close = None
        self.bars_day = None
        self.long_roll_due = False
        self.decisions_today = set()

    @property
    def campaign_id(self) -> str:
        """`c<n>`: the number of the campaign open or next (closed campaigns + 1)."""
        return f"c{self.ledger.campaigns + 1}"

    def next_intent(self, purpose: str, now: datetime) -> str:
        """A unique intent id: bot, purpose, New York date, sequence and time, campaign (so
        the journal's trades of one campaign can be found by label)."""
        self.intent_seq += 1
        local = now.astimezone(NY)
        return (f"{BOT_NAME}:{purpose}:{local:%Y-%m-%d}:{self.intent_seq}-{local:%H%M%S}:"
                f"{self.campaign_id}")  # fmt: skip

    def cooling(self, now: datetime, action: str) -> bool:
        until = self.cooldown_until.get(action)
        return until is not None and now < until

    def book(self, realized_usd: Decimal) -> None:
        self.ledger = self.ledger.booked(realized_usd)
        logger.info(kv("campaign_realized", usd=realized_usd, campaigns=self.ledger.campaigns,
                       total_usd=self.ledger.realized_usd))  # fmt: skip

    def to_json(self) -> dict[str, Any]:
        return {
            "intent_seq": self.intent_seq,
            "last_roll_day": None if self.last_roll_day is None else str(self.last_roll_day),
            "closed_on": None if self.closed_on is None else str(self.closed_on),
            "ledger": self.ledger.to_json(),
        }

    def load(self, data: Any) -> None:
        if not isinstance(data, dict):
            raise ValueError(f"memory: expected an object, got {data!r}")
        seq = data.get("intent_seq")
        if not isinstance(seq, int) or isinstance(seq, bool) or seq < 0:
            raise ValueError(f"memory.intent_seq: expected a count, got {seq!r}")
        self.intent_seq = seq
        rolled, closed = data.get("last_roll_day"), data.get("closed_on")
        self.last_roll_day = None if rolled is None else parse_date(rolled, "memory.last_roll_day")
        self.closed_on = None if closed is None else parse_date(closed, "memory.closed_on")
        self.ledger = Ledger.from_json(data.get("ledger"))


def decision_event(memory: Memory, now: datetime, name: str, detail: str) -> RecordEvent | None:
    """A `bot_log` line the first time `name` happens today (None after that)."""
    if name in memory.decisions_today:
        return None
    memory.decisions_today.add(name)
    message = kv("decision", name=name, detail=detail)
    logger.info(message)
    return bot_log_record(component=BOT_NAME, day=memory.day, name=name, now=now,
                          message=message)  # fmt: skip


def safety_event(memory: Memory, now: datetime, name: str, description: str,
                 state: str) -> RecordEvent:  # fmt: skip
    """A safety event for the breaker and the operator (logged at ERROR)."""
    logger.error(kv("safety_event", name=name, state=state, description=description))
    return safety_record(day=memory.day, name=name, now=now, state=state,
                         description=description)  # fmt: skip


def campaign_record(closed: Campaign, number: int, reason: str, today: date) -> RecordEvent:
    """The Campaigns row of a closed campaign (Sheets): P&L from every fill, net of
    commissions, USD; rolls counted."""
    horizontal = closed.short_rolls - closed.vertical_rolls
    return RecordEvent(kind="campaign", key=f"campaign:{number}", payload={
        "campaign_number": number, "start_date": str(closed.opened_on or today),
        "end_date": str(today), "total_rolls": closed.short_rolls,
        "vertical_rolls": closed.vertical_rolls, "horizontal_rolls": horizontal,
        "net_pnl_usd": str(closed.cash.net_usd), "close_reason": reason,
        "notes": f"long roll-ups {closed.long_rolls}; commissions {closed.cash.commission_usd} USD",
    })  # fmt: skip
