"""Entry point of the `calypso` command: argparse subcommands, each registered by its module."""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

# Each module exposes `register(subparsers)` and sets `func` on the parsers it adds.
# Only commands that work are listed here.
COMMAND_MODULES: tuple[str, ...] = (
    "calendar_cmd",
    "config_cmd",
    "journal_cmd",
    "auth_cmd",
    "saxo_cmd",
    "token_keeper_cmd",
    "sim_cmd",
    "status_cmd",
    "health_cmd",
    "sheets_cmd",
    "alerts_cmd",
    "run_cmd",
    "demo_cmd",
    "backtest_cmd",
)


def build_parser() -> argparse.ArgumentParser:
    """The full `calypso` parser with every registered subcommand."""
    parser = argparse.ArgumentParser(
        prog="calypso", description="CALYPSO operator command: run, inspect and test the bots."
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        module = importlib.import_module(f"shared.cli.{name}")
        module.register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run `calypso` with `argv`; returns the process exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    func = getattr(args, "func", None)
    if func is None:
        parser.print_help()
        return 2
    code: int = func(args)
    return code


if __name__ == "__main__":
    sys.exit(main())
