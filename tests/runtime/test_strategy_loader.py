"""Finding a bot's strategy class by name."""

from __future__ import annotations

import json

import pytest

from bots.iron_fly_0dte.strategy import IronFlyStrategy
from shared import paths
from shared.config_loader import parse_bot_config
from shared.event_calendar import EventCalendar
from shared.runtime.startup import StrategyNotImplemented
from shared.runtime.strategy_loader import strategy_factory_for


def _config(bot: str) -> object:
    text = paths.bot_example_config_path(bot).read_text()
    return parse_bot_config(bot, json.dumps(json.loads(text)))


def test_an_existing_strategy_is_built_from_the_bot_config() -> None:
    factory = strategy_factory_for(
        "iron_fly_0dte", "bots.iron_fly_0dte.strategy", "IronFlyStrategy"
    )
    strategy = factory(_config("iron_fly_0dte"), EventCalendar())
    assert isinstance(strategy, IronFlyStrategy)


@pytest.mark.parametrize(
    ("module", "cls"),
    [
        ("bots.delta_neutral.no_such_module", "DeltaNeutralStrategy"),
        ("bots.iron_fly_0dte.strategy", "NoSuchStrategy"),
    ],
)
def test_a_missing_strategy_says_not_implemented(module: str, cls: str) -> None:
    factory = strategy_factory_for("delta_neutral", module, cls)
    with pytest.raises(StrategyNotImplemented, match="delta_neutral strategy is not implemented"):
        factory(_config("delta_neutral"), EventCalendar())
