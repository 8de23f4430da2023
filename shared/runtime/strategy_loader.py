"""Find a bot's strategy class by name, so each bot's `main.py` only names it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from shared.bot_modules import bot_module
from shared.event_calendar import EventCalendar
from shared.runtime.startup import StrategyNotImplemented
from shared.strategy_contract import Strategy

StrategyFactory = Callable[[Any, EventCalendar], Strategy]


def strategy_factory_for(bot: str, module_name: str, class_name: str) -> StrategyFactory:
    """A factory building `module_name.class_name` (a module of the bot's package,
    `bots.<bot>.<part>`) for a validated bot config.

    The class is imported when the factory is called, so a bot whose strategy does not exist
    yet raises StrategyNotImplemented (exit 2) instead of failing at import. A class with
    `from_bot_config(config)` gets the whole config; otherwise it is built from the strategy
    section and the event calendar.
    """

    def build(config: Any, calendar: EventCalendar) -> Strategy:
        try:
            part = module_name.removeprefix(f"bots.{bot}.")
            if part == module_name:
                raise ModuleNotFoundError(f"{module_name} is not a module of bots.{bot}")
            cls = getattr(bot_module(bot, part), class_name)
        except (ModuleNotFoundError, AttributeError) as exc:
            raise StrategyNotImplemented(
                f"the {bot} strategy is not implemented yet ({exc})"
            ) from None
        if hasattr(cls, "from_bot_config"):
            strategy: Strategy = cls.from_bot_config(config)
        else:
            strategy = cls(config=config.strategy, calendar=calendar)
        return strategy

    return build
