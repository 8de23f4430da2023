"""Finding a bot's strategy class by name."""

from __future__ import annotations

import json

import pytest

from bots.iron_fly_0dte.strategy import IronFlyStrategy
from bots.rolling_put_diagonal.strategy import RollingPutDiagonalStrategy
from shared import paths
from shared.config_loader import parse_bot_config
from shared.event_calendar import EventCalendar
from shared.runtime.strategy_loader import StrategyNotImplemented, strategy_factory_for


def _config(bot: str) -> object:
    text = paths.bot_example_config_path(bot).read_text()
    return parse_bot_config(bot, json.dumps(json.loads(text)))


def test_an_existing_strategy_is_built_from_the_bot_config() -> None:
    factory = strategy_factory_for("iron_fly_0dte", "IronFlyStrategy")
    strategy = factory(_config("iron_fly_0dte"), EventCalendar())
    assert isinstance(strategy, IronFlyStrategy)


def test_the_rolling_put_diagonal_is_built_from_its_example_config() -> None:
    factory = strategy_factory_for("rolling_put_diagonal", "RollingPutDiagonalStrategy")
    strategy = factory(_config("rolling_put_diagonal"), EventCalendar())
    assert isinstance(strategy, RollingPutDiagonalStrategy)
    assert strategy.state_name() == "campaign:flat"


@pytest.mark.parametrize(
    ("bot", "cls"),
    [("rolling_put_diagonal", "NoSuchStrategy"), ("iron_fly_0dte", "NoSuchStrategy")],
)
def test_a_missing_strategy_says_not_implemented(bot: str, cls: str) -> None:
    factory = strategy_factory_for(bot, cls)
    with pytest.raises(StrategyNotImplemented, match=f"{bot} strategy is not implemented"):
        factory(_config(bot), EventCalendar())


@pytest.mark.parametrize(
    ("bot", "cls"),
    [("delta_neutral", "DeltaNeutralStrategy"),
     ("rolling_put_diagonal", "RollingPutDiagonalStrategy")],
)
def test_the_strategy_gets_the_process_calendar_that_rereads_the_overlay(
    bot: str, cls: str
) -> None:
    # The runtime re-reads the operator's overlay (events_local.json) into this calendar each
    # day; a strategy with a calendar of its own would see an import only after a restart.
    calendar = EventCalendar()
    strategy = strategy_factory_for(bot, cls)(_config(bot), calendar)
    assert strategy._calendar is calendar  # type: ignore[attr-defined]
