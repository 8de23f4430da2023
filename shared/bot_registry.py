"""The one place bots are loaded by name: `bots.<bot>.<part>` for a bot in `paths.BOT_NAMES`.

`shared/` sits below `bots/` and never imports a bot statically; the config loader, the
strategy loader, `calypso run` and the demo all ask this module instead.
"""

from __future__ import annotations

import importlib
from types import ModuleType

from shared import paths


def bot_module(bot: str, part: str) -> ModuleType:
    """Import `bots.<bot>.<part>` (e.g. `config`, `strategy`, `main`).

    Raises KeyError for a bot that is not in `paths.BOT_NAMES`, ModuleNotFoundError when the
    bot has no such module.
    """
    if bot not in paths.BOT_NAMES:
        raise KeyError(bot)
    return importlib.import_module(f"bots.{bot}.{part}")
