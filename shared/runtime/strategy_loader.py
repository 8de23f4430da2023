"""Build a bot's strategy class, found by name through the bot registry, so each bot's
`main.py` only names its class."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from shared.bot_registry import bot_module
from shared.event_calendar import EventCalendar
from shared.strategy_contract import Strategy

StrategyFactory = Callable[[Any, EventCalendar], Strategy]


class StrategyNotImplemented(RuntimeError):
    """The bot's strategy class does not exist yet."""


def strategy_factory_for(bot: str, class_name: str) -> StrategyFactory:
    """A factory building `bots.<bot>.strategy.<class_name>` for a validated bot config.

    The class is imported when the factory is called, so a bot whose strategy does not exist
    yet raises StrategyNotImplemented (exit 2) instead of failing at import. A class with
    `from_bot_config(config, calendar)` gets the whole config and the process's calendar (the
    one the runtime re-reads the operator's overlay into); otherwise it is built from the
    strategy section and the calendar.
    """

    def build(config: Any, calendar: EventCalendar) -> Strategy:
        try:
            cls = getattr(bot_module(bot, "strategy"), class_name)
        except (ModuleNotFoundError, AttributeError) as exc:
            raise StrategyNotImplemented(
                f"the {bot} strategy is not implemented yet ({exc})"
            ) from None
        if hasattr(cls, "from_bot_config"):
            strategy: Strategy = cls.from_bot_config(config, calendar)
        else:
            strategy = cls(config=config.strategy, calendar=calendar)
        return strategy

    return build


def bot_strategy_factory(bot: str) -> StrategyFactory:
    """The factory `bots.<bot>.main` names (its `strategy_factory`)."""
    factory: StrategyFactory = bot_module(bot, "main").strategy_factory
    return factory
