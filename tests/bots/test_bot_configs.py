"""What every bot's config must satisfy: a complete example, a documented README, local defaults."""

from __future__ import annotations

import json

import pytest

from shared import paths
from shared.config.docs import field_docs, readme_with_table
from shared.config_loader import BOT_CONFIG_MODELS, parse_bot_config
from tests.bots.config_helpers import example, leaf_keys


@pytest.mark.parametrize("bot", paths.BOT_NAMES)
def test_example_sets_every_key_so_operators_see_them_all(bot: str) -> None:
    assert leaf_keys(example(bot)) == {doc.key for doc in field_docs(BOT_CONFIG_MODELS[bot])}


@pytest.mark.parametrize("bot", paths.BOT_NAMES)
def test_readme_table_documents_every_key(bot: str) -> None:
    readme = (paths.code_root() / "bots" / bot / "README.md").read_text()
    model = BOT_CONFIG_MODELS[bot]
    assert readme_with_table(readme, model) == readme, "run: calypso config docs --write-readmes"


@pytest.mark.parametrize("bot", paths.BOT_NAMES)
def test_example_runs_in_local_mode_with_defaults(bot: str) -> None:
    # The shipped example is the model's defaults, spelled out.
    minimal = {"config_version": 1, "bot": {"name": bot, "environment": "local"}, "strategy": {}}
    from_defaults = parse_bot_config(bot, json.dumps(minimal))
    from_example = parse_bot_config(bot, json.dumps(example(bot)))
    assert from_example.bot.environment == "local"
    assert from_example.strategy == from_defaults.strategy
    assert from_example.execution == from_defaults.execution
    assert from_example.loop == from_defaults.loop
