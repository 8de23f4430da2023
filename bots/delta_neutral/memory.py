"""The delta neutral coordinator's memory and the journal records it emits.

Memory holds what belongs to neither lifecycle: the trading day, the previous close, an exit in
progress, action cooldowns (UTC), the intent sequence and the realized results. Records are
`RecordEvent`s: decision lines (`bot_log`, once per day and name, so a waiting bot does not
flood the journal) and safety events (each one, for the breaker and the operator).
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from bots.delta_neutral.book import CONTRACT_MULTIPLIER, Ledger, Leg, Straddle
from bots.delta_neutral.config import BOT_NAME, DeltaNeutralStrategyConfig
from bots.delta_neutral.selection import PricedOption
from shared.logger_service import kv
from shared.market_hours import NY
from shared.strategy.events import bot_log_record, safety_record
from shared.strategy.exits import FlashMonitor
from shared.strategy_contract import RecordEvent, Snapshot

logger = logging.getLogger("bots.delta_neutral.strategy")
DAYS_PER_WEEK = 7


@dataclass
class Memory:
    """The coordinator's own facts (see the module docstring)."""

    day: date | None = None
    previous_close: Decimal | None = None
    exit_reason: str | None = None
    challenged_close_cost_usd: Decimal | None = None  # a challenged re-sale must beat it
    recenter_expiry: date | None = None  # a recentered straddle keeps its expiry
    exited_on: date | None = None  # after a full exit, a fresh cycle starts the next day
    cooldown_until: dict[str, datetime] = field(default_factory=dict)
    roll_retry_at: datetime | None = None  # a refused scheduled roll is priced again from then
    book_settles_at: datetime | None = None  # positions read before this may predate a fill
    decisions_today: set[str] = field(default_factory=set)
    intent_seq: int = 0
    ledger: Ledger = field(default_factory=Ledger)

    def new_day(self, day: date) -> None:
        """Forget the day's facts; keep positions' reasons, cooldowns and results."""
        self.day = day
        self.previous_close = None
        self.decisions_today = set()
        self.challenged_close_cost_usd = None

    def next_intent(self, purpose: str, now: datetime) -> str:
        """A unique intent id: bot, purpose, New York date and time, sequence."""
        self.intent_seq += 1
        local = now.astimezone(NY)
        return f"{BOT_NAME}:{purpose}:{local:%Y-%m-%d}:{self.intent_seq}-{local:%H%M%S}"

    def book(self, lifecycle: str, realized_usd: Decimal, closed_from: str) -> None:
        """Add a closed position's P&L (USD, net of commissions) to the ledger; a close from
        `recenter_closing` counts a recenter, from `roll_closing` a roll."""
        recenter, roll = closed_from == "recenter_closing", closed_from == "roll_closing"
        self.ledger = self.ledger.booked(lifecycle, realized_usd, recenter=recenter, roll=roll)
        logger.info(
            kv("realized", lifecycle=lifecycle, usd=realized_usd, recenter=recenter, roll=roll)
        )

    def cooling(self, now: datetime, action: str) -> bool:
        until = self.cooldown_until.get(action)
        return until is not None and now < until

    def to_json(self) -> dict[str, Any]:
        return {
            "exit_reason": self.exit_reason,
            "intent_seq": self.intent_seq,
            "recenter_expiry": None if self.recenter_expiry is None else str(self.recenter_expiry),
            "exited_on": None if self.exited_on is None else str(self.exited_on),
            "ledger": self.ledger.to_json(),
        }

    def load(self, data: Any) -> None:
        if not isinstance(data, dict):
            raise ValueError(f"memory: expected an object, got {data!r}")
        reason, seq, expiry = (
            data.get("exit_reason"),
            data.get("intent_seq"),
            data.get("recenter_expiry"),
        )
        self.exit_reason = reason if isinstance(reason, str) else None
        self.intent_seq = seq if isinstance(seq, int) and not isinstance(seq, bool) else 0
        self.recenter_expiry = date.fromisoformat(expiry) if isinstance(expiry, str) else None
        exited = data.get("exited_on")
        self.exited_on = date.fromisoformat(exited) if isinstance(exited, str) else None
        self.ledger = Ledger.from_json(data.get("ledger"))


def decision_event(memory: Memory, now: datetime, name: str, detail: str) -> RecordEvent | None:
    """A decision line for the journal (the Sheets "Bot Logs" row kind `bot_log`), the first
    time `name` happens today (None after that)."""
    if name in memory.decisions_today:
        return None
    memory.decisions_today.add(name)
    message = kv("decision", name=name, detail=detail)
    logger.info(message)
    return bot_log_record(component=BOT_NAME, day=memory.day, name=name, now=now, message=message)


def safety_event(now: datetime, name: str, description: str, state: str) -> RecordEvent:
    """A safety event for the breaker and the operator (logged at ERROR)."""
    logger.error(kv("safety_event", name=name, state=state, description=description))
    day = now.astimezone(NY).date()
    return safety_record(day=day, name=name, now=now, state=state, description=description)


def leg_of(option: PricedOption, quantity: int) -> Leg:
    c = option.contract
    return Leg(c.uic, c.strike, c.put_call, c.expiry, quantity)


def weekly_theta_usd(snap: Snapshot, straddle: Straddle) -> Decimal:
    """The straddle's time decay over a week, USD per position, from the legs' quoted theta
    (per share per day); a leg without greeks counts 0 (DATA-002, logged)."""
    total = Decimal(0)
    for leg in straddle.legs:
        quote = snap.quotes.get(leg.uic)
        theta = quote.greeks.theta if quote is not None and quote.greeks is not None else None
        if theta is None or not math.isfinite(theta):
            logger.warning(kv("theta_missing", uic=leg.uic))
            continue
        total += Decimal(str(abs(theta))) * CONTRACT_MULTIPLIER * leg.quantity * DAYS_PER_WEEK
    return total


def flash_event(
    monitor: FlashMonitor,
    cfg: DeltaNeutralStrategyConfig,
    now: datetime,
    spot: Decimal,
    state: str,
) -> RecordEvent | None:
    """A `flash_move` safety event when SPY moved `flash_move_percent` within the window
    (MKT-002: the breaker and the operator see it; the bot's own exits are unchanged)."""
    monitor.add(now, spot)
    move = monitor.move_percent()
    if move < Decimal(str(cfg.flash_move_percent)):
        return None
    monitor.clear()
    detail = f"SPY moved {move:.2f}% within {cfg.flash_move_window_minutes} min"
    return safety_event(now, "flash_move", detail, state)
