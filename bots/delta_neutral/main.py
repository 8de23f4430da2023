"""Entry point of the delta_neutral bot: names its strategy; the shared runtime does the rest.

`python -m bots.delta_neutral [--env live|sim|local] [--dry-run] [--config FILE] [--sim-url URL]`
is the same as `calypso run delta_neutral ...`.
"""

from __future__ import annotations

from collections.abc import Sequence

from shared.runtime.startup import main_for
from shared.runtime.strategy_loader import strategy_factory_for

BOT = "delta_neutral"

strategy_factory = strategy_factory_for(BOT, "bots.delta_neutral.strategy", "DeltaNeutralStrategy")


def main(argv: Sequence[str] | None = None) -> int:
    """Run the bot (what its systemd unit runs); returns the process exit code."""
    return main_for(BOT, strategy_factory, argv)
