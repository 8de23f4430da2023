"""Which bots the demo can run: those whose strategy exists, asked of each bot package.

A bot is implemented when its `bots/<bot>/main.py` factory builds a strategy from the shipped
example config; `StrategyNotImplemented` means not yet. Nothing here is a hard-coded list.
Bots are looked up by name (`shared.bot_registry`), because `shared/` sits below `bots/`.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from shared import paths
from shared.config_loader import ConfigError, load_bot_config
from shared.event_calendar import EventCalendar
from shared.logger_service import kv
from shared.runtime.strategy_loader import StrategyNotImplemented, bot_strategy_factory

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class BotAvailability:
    """Whether `bot` can run in the demo; `reason` says why not (empty when it can)."""

    bot: str
    implemented: bool
    reason: str = ""
    # The strategy keeps positions from one day to the next (its class says so with
    # `HOLDS_OVERNIGHT = True`): it never reaches a "done for the day" state, so a demo day
    # with it runs to the close (about 10 real minutes a day at 40x).
    holds_overnight: bool = False


def probe_bot(bot: str, calendar: EventCalendar | None = None) -> BotAvailability:
    """Build `bot`'s strategy from its example config through its `main.strategy_factory`.

    Never raises: a missing strategy, a bad example config or a failing factory is reported
    in `reason` (a broken factory is a bug worth showing, so its error is kept).
    """
    if bot not in paths.BOT_NAMES:
        return BotAvailability(bot, False, f"unknown bot (valid: {', '.join(paths.BOT_NAMES)})")
    try:
        factory = bot_strategy_factory(bot)
        config = load_bot_config(bot, paths.bot_example_config_path(bot)).config
        strategy = factory(config, calendar or EventCalendar())
    except StrategyNotImplemented as exc:
        return BotAvailability(bot, False, str(exc))
    except ConfigError as exc:
        return BotAvailability(bot, False, f"its example config is invalid: {exc}")
    except Exception as exc:  # a broken factory must not hide the other bots
        logger.warning(kv("demo_probe_failed", bot=bot, error=exc))
        return BotAvailability(bot, False, f"its strategy factory failed: {exc!r}")
    overnight = bool(getattr(strategy, "HOLDS_OVERNIGHT", False))
    return BotAvailability(bot, True, holds_overnight=overnight)


def probe_all() -> list[BotAvailability]:
    """Every known bot (paths.BOT_NAMES order) with its availability."""
    calendar = EventCalendar()
    return [probe_bot(bot, calendar) for bot in paths.BOT_NAMES]
