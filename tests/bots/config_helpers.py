"""Helpers shared by the per-bot config tests: the shipped example and parsing shortcuts."""

from __future__ import annotations

import json
from typing import Any

import pytest

from shared import paths
from shared.config_loader import ConfigError, parse_bot_config


def example(bot: str) -> dict[str, Any]:
    """The bot's shipped config.example.json as a dict."""
    loaded: dict[str, Any] = json.loads(paths.bot_example_config_path(bot).read_text())
    return loaded


def parse_strategy(bot: str, **changes: Any) -> Any:
    """The validated strategy section of the example with `changes` applied."""
    data = example(bot)
    data["strategy"].update(changes)
    return parse_bot_config(bot, json.dumps(data)).strategy


def strategy_problem(bot: str, **changes: Any) -> str:
    """The single `key: message` problem that `changes` cause (fails if not exactly one)."""
    with pytest.raises(ConfigError) as info:
        parse_strategy(bot, **changes)
    (problem,) = info.value.problems
    return f"{problem.key}: {problem.message}"


def leaf_keys(data: dict[str, Any], prefix: str = "") -> set[str]:
    """Dotted paths of every non-object value in `data`."""
    keys: set[str] = set()
    for key, value in data.items():
        if isinstance(value, dict):
            keys |= leaf_keys(value, f"{prefix}{key}.")
        else:
            keys.add(f"{prefix}{key}")
    return keys
