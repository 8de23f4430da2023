"""`calypso config check [BOT|--all] [--config FILE]`: validate bot configs, name every problem."""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.text import Text

from shared import paths
from shared.config.docs import markdown_table, readme_with_table
from shared.config.envelope import SAXO_ENVIRONMENTS
from shared.config_loader import (
    BOT_CONFIG_MODELS,
    ConfigError,
    ConfigProblem,
    find_config_path,
    load_bot_config,
)
from shared.runtime.secret_checks import saxo_credential_problems, sheets_credential_problems
from shared.secret_manager import SecretStore, SecretStoreError, default_secret_store

EXIT_OK = 0
EXIT_INVALID = 2


@dataclass(frozen=True)
class CheckResult:
    """The outcome for one bot's config file."""

    bot: str
    file: Path
    is_example: bool
    problems: tuple[ConfigProblem, ...]
    environment: str = ""
    secrets_checked: bool = False

    @property
    def ok(self) -> bool:
        return not self.problems


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add `config` and its `check` action to the `calypso` parser."""
    parser = subparsers.add_parser(
        "config", help="validate bot config files", description="Bot config files."
    )
    actions = parser.add_subparsers(dest="config_action", metavar="ACTION")
    check = actions.add_parser(
        "check",
        help="validate configs; every error names the file and the key",
        description="Validate bot configs. With no BOT and no --all, checks all bots. "
        "Exit 0 when all are valid, 2 otherwise.",
    )
    check.add_argument(
        "bot", nargs="?", metavar="BOT", help=f"one of: {', '.join(BOT_CONFIG_MODELS)}"
    )
    check.add_argument("--all", action="store_true", help="check every bot (the default)")
    check.add_argument(
        "--config",
        type=Path,
        metavar="FILE",
        help="check this file instead of the bot's config.json (only with one BOT)",
    )
    check.add_argument(
        "--secrets",
        action="store_true",
        help="also fetch the secrets each config names from the default secret store",
    )
    check.add_argument("--json", action="store_true", help="machine-readable output")
    check.set_defaults(func=run_check)
    docs = actions.add_parser(
        "docs",
        help="print every config key of a bot (Markdown table)",
        description="Print the config keys of BOT with defaults, bounds and meaning, or "
        "rewrite the tables in every bots/<bot>/README.md.",
    )
    docs.add_argument("bot", nargs="?", metavar="BOT", help="the bot whose keys to print")
    docs.add_argument(
        "--write-readmes", action="store_true", help="rewrite the README config tables"
    )
    docs.set_defaults(func=run_docs)
    parser.set_defaults(func=lambda _args: _print_help(parser))


def _print_help(parser: argparse.ArgumentParser) -> int:
    parser.print_help()
    return EXIT_INVALID


def _select_bots(args: argparse.Namespace) -> tuple[list[str], str | None]:
    """The bots to check, or an error message for a bad combination of arguments."""
    valid = ", ".join(BOT_CONFIG_MODELS)
    if args.bot is not None and args.bot not in BOT_CONFIG_MODELS:
        return [], f"unknown bot {args.bot!r}; valid bots: {valid}"
    if args.bot is not None and args.all:
        return [], "give a BOT or --all, not both"
    if args.config is not None and args.bot is None:
        return [], "--config FILE needs exactly one BOT (e.g. config check iron_fly_0dte ...)"
    if args.bot is not None:
        return [args.bot], None
    return list(BOT_CONFIG_MODELS), None


def check_one(bot: str, explicit: Path | None, store: SecretStore | None) -> CheckResult:
    """Validate one bot's config (and its secrets when `store` is given)."""
    file = find_config_path(bot, explicit)
    try:
        loaded = load_bot_config(bot, file, secrets=store)
    except ConfigError as exc:
        return CheckResult(bot=bot, file=file, is_example=False, problems=exc.problems)
    # What `run` and `sheets sync` will parse, with their own models: a secret that exists but
    # does not parse, or a credentials file they would refuse, is a problem here too.
    problems = sheets_credential_problems(loaded)
    if store is not None:
        problems = saxo_credential_problems(loaded, loaded.config.bot.environment) + problems
    return CheckResult(
        bot=bot,
        file=file,
        is_example=loaded.is_example,
        problems=tuple(problems),
        environment=loaded.config.bot.environment,
        secrets_checked=store is not None,
    )


def run_check(args: argparse.Namespace) -> int:
    """Handler of `calypso config check`; returns 0 when every config is valid, else 2."""
    bots, error = _select_bots(args)
    if error is not None:
        print(f"calypso config check: {error}", file=sys.stderr)
        return EXIT_INVALID
    try:
        store = default_secret_store() if args.secrets else None
    except SecretStoreError as exc:
        print(f"calypso config check: secret store unavailable: {exc}", file=sys.stderr)
        return EXIT_INVALID
    results = [check_one(bot, args.config, store) for bot in bots]
    if args.json:
        print(json.dumps(_as_json(results), indent=2))
    else:
        _print_results(results)
    return EXIT_OK if all(result.ok for result in results) else EXIT_INVALID


def _as_json(results: list[CheckResult]) -> dict[str, Any]:
    return {
        "ok": all(result.ok for result in results),
        "results": [
            {
                "bot": result.bot,
                "file": str(result.file),
                "ok": result.ok,
                "example": result.is_example,
                "environment": result.environment or None,
                "secrets_checked": result.secrets_checked,
                "problems": [
                    {"file": str(p.file), "key": p.key, "message": p.message}
                    for p in result.problems
                ],
            }
            for result in results
        ],
    }


def _print_results(results: list[CheckResult]) -> None:
    # soft_wrap: a path or key must never be broken across lines (operators grep for them).
    console = Console(file=sys.stdout, soft_wrap=True, highlight=False)
    for result in results:
        if result.ok:
            line = Text("OK", style="bold green") + Text(f" {result.bot} {result.file}")
            if result.is_example:
                line += Text(" (shipped example: --env local only)", style="dim")
            if result.environment in SAXO_ENVIRONMENTS and not result.secrets_checked:
                line += Text(f" ({result.environment}: secrets not checked, see --secrets)")
            console.print(line)
            continue
        console.print(Text("ERROR", style="bold red") + Text(f" {result.bot} {result.file}"))
        for problem in result.problems:
            console.print(Text(f"  {problem}"))
    invalid = sum(not result.ok for result in results)
    summary = f"{len(results)} config(s) checked, {invalid} invalid"
    console.print(Text(summary, style="bold red" if invalid else "green"))


def run_docs(args: argparse.Namespace) -> int:
    """Handler of `calypso config docs`: print one bot's key table, or rewrite the READMEs."""
    if args.write_readmes:
        for bot, model in BOT_CONFIG_MODELS.items():
            readme = paths.code_root() / "bots" / bot / "README.md"
            text = readme.read_text(encoding="utf-8")
            updated = readme_with_table(text, model)
            if updated != text:
                readme.write_text(updated, encoding="utf-8")
                print(f"updated {readme}")
        return EXIT_OK
    if args.bot not in BOT_CONFIG_MODELS:
        print(
            f"calypso config docs: give a BOT, one of: {', '.join(BOT_CONFIG_MODELS)}",
            file=sys.stderr,
        )
        return EXIT_INVALID
    print(markdown_table(BOT_CONFIG_MODELS[args.bot]), end="")
    return EXIT_OK
