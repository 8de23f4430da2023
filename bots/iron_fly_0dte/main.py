"""Entry point of the iron_fly_0dte bot: names its strategy; the shared runtime does the rest.

`python -m bots.iron_fly_0dte [--env live|sim|local] [--dry-run] [--config FILE] [--sim-url URL]`
is the same as `calypso run iron_fly_0dte ...`.
"""

from __future__ import annotations

import importlib
from collections.abc import Sequence
from typing import Any

from shared.event_calendar import EventCalendar
from shared.runtime.startup import StrategyNotImplemented, main_for
from shared.strategy_contract import Strategy

BOT = "iron_fly_0dte"


def strategy_factory(config: Any, calendar: EventCalendar) -> Strategy:
    """The bot's strategy for a validated config; StrategyNotImplemented until it exists."""
    try:
        module = importlib.import_module("bots.iron_fly_0dte.strategy")
        cls = module.IronFlyStrategy
    except (ModuleNotFoundError, AttributeError) as exc:
        raise StrategyNotImplemented(
            f"the iron_fly_0dte strategy is not implemented yet ({exc})"
        ) from None
    if hasattr(cls, "from_bot_config"):
        strategy: Strategy = cls.from_bot_config(config)
    else:
        strategy = cls(config=config.strategy, calendar=calendar)
    return strategy


def main(argv: Sequence[str] | None = None) -> int:
    return main_for(BOT, strategy_factory, argv)
