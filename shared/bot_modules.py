"""The one place a bot's module is imported by its name (`bots.<bot>.<part>`).

The bots sit above `shared/` in the layering, so shared code never imports them statically;
the config registry, the run command, the demo and the strategy loader look them up here, like
plugins (`tests/test_architecture.py` keeps it the only place).
"""

from __future__ import annotations

import importlib
from types import ModuleType

from shared import paths


def bot_module(bot: str, part: str) -> ModuleType:
    """`bots.<bot>.<part>` (e.g. part "config", "main", "strategy"), imported.

    Raises ValueError for a bot not in `paths.BOT_NAMES`; ModuleNotFoundError when the bot has
    no such module.
    """
    if bot not in paths.BOT_NAMES:
        raise ValueError(f"unknown bot {bot!r} (valid: {', '.join(paths.BOT_NAMES)})")
    return importlib.import_module(f"bots.{bot}.{part}")
