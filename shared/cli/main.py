"""Entry point of the `calypso` command: argparse subcommands, each registered by its module."""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

# Each module exposes `register(subparsers)` and sets `func` on the parsers it adds; the key is
# the command that module registers. Only commands that work are listed here.
COMMAND_MODULES: dict[str, str] = {
    "calendar": "calendar_cmd",
    "config": "config_cmd",
    "journal": "journal_cmd",
    "auth": "auth_cmd",
    "saxo": "saxo_cmd",
    "token-keeper": "token_keeper_cmd",
    "sim": "sim_cmd",
    "status": "status_cmd",
    "health": "health_cmd",
    "sheets": "sheets_cmd",
    "alerts": "alerts_cmd",
    "run": "run_cmd",
    "demo": "demo_cmd",
    "backtest": "backtest_cmd",
}


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The `calypso` parser: every subcommand, or only `command` (a COMMAND_MODULES key).

    One subcommand imports only its own module: `calypso run` starts without loading the
    simulator, the backtester or the calendar importer (about a second of start-up each time
    systemd or a test starts a bot).
    """
    parser = argparse.ArgumentParser(
        prog="calypso", description="CALYPSO operator command: run, inspect and test the bots."
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    names = (command,) if command is not None else tuple(COMMAND_MODULES)
    for name in names:
        module = importlib.import_module(f"shared.cli.{COMMAND_MODULES[name]}")
        module.register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run `calypso` with `argv`; returns the process exit code."""
    arguments = list(sys.argv[1:] if argv is None else argv)
    # A known command first builds only its parser; anything else (no command, --help, a typo)
    # gets the full parser, whose help and "invalid choice" error list every command.
    command = arguments[0] if arguments and arguments[0] in COMMAND_MODULES else None
    parser = build_parser(command)
    args = parser.parse_args(arguments)
    func = getattr(args, "func", None)
    if func is None:
        parser.print_help()
        return 2
    code: int = func(args)
    return code


if __name__ == "__main__":
    sys.exit(main())
