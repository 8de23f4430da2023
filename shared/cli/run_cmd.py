"""`calypso run BOT [--env live|sim|local] [--dry-run] [--config FILE] [--sim-url URL]`.

Exactly what `python -m bots.BOT` does: the bot's `main.py` names its strategy factory and the
shared runtime (`shared.runtime.startup.run_bot`) does the rest. Exit codes in docs/RUNTIME.md.
"""

from __future__ import annotations

import argparse
from typing import Any

from shared import paths
from shared.bot_modules import bot_module
from shared.runtime.startup import add_run_arguments, run_bot


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "run",
        help="run a bot (what each systemd unit runs)",
        description="Run one bot until SIGTERM/SIGINT. Same as `python -m bots.BOT`.",
    )
    parser.add_argument("bot", choices=paths.BOT_NAMES, help="which bot")
    add_run_arguments(parser)
    parser.set_defaults(func=handle)


def handle(args: argparse.Namespace) -> int:
    module = bot_module(args.bot, "main")
    code: int = run_bot(args.bot, module.strategy_factory, args)
    return code
