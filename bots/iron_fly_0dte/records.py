"""What one strategy call emits: its actions, and the journal records and log lines beside them.

The coordinator makes one `Recorder` per `decide`, `on_execution` or `restore` and hands it to
the lifecycles; they append orders and records to it and read nothing from it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from bots.iron_fly_0dte.config import BOT_NAME
from shared.logger_service import kv
from shared.strategy.events import bot_log_record, safety_record
from shared.strategy_contract import Action

# One logger for the strategy's decisions, whichever lifecycle takes them.
logger = logging.getLogger("bots.iron_fly_0dte.strategy")


@dataclass
class Recorder:
    """The actions of one call at `now` (UTC) for trading `day` (New York date); `state`
    gives the day's state name for safety records."""

    now: datetime
    day: date | None
    state: Callable[[], str]
    actions: list[Action] = field(default_factory=list)

    def add(self, action: Action) -> None:
        self.actions.append(action)

    def bot_log(self, name: str, **fields: Any) -> None:
        """Journal an operator-relevant line (the Sheets "Bot Logs" row kind `bot_log`)."""
        message = kv(name, **fields)
        logger.info(message)
        self.add(bot_log_record(component=BOT_NAME, day=self.day, name=name, now=self.now,
                                message=message))

    def safety(self, name: str, description: str, *, day: date | None = None) -> None:
        """Journal a safety event (ERROR log), prefixed with the day's state."""
        state = self.state()
        logger.error(kv("safety_event", name=name, state=state, description=description))
        self.add(safety_record(day=day or self.day, name=name, now=self.now, state=state,
                               description=description))


def text(value: Decimal | None) -> str | None:
    """A Decimal as exact text for a record (None stays None)."""
    return None if value is None else str(value)
