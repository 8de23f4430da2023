"""Rolling Put Diagonal config: spec defaults, bounds, cross-field rules, example, README."""

from __future__ import annotations

import json
from datetime import time
from decimal import Decimal
from typing import Any

import pytest

from bots.rolling_put_diagonal.config import RollingPutDiagonalConfig
from shared import paths
from shared.config.docs import field_docs, readme_with_table
from shared.config_loader import ConfigError, parse_bot_config

BOT = "rolling_put_diagonal"
MODEL = RollingPutDiagonalConfig


def example() -> dict[str, Any]:
    return json.loads(paths.bot_example_config_path(BOT).read_text())


def parse_strategy(**changes: Any) -> Any:
    data = example()
    data["strategy"].update(changes)
    return parse_bot_config(BOT, json.dumps(data)).strategy


def strategy_problem(**changes: Any) -> str:
    with pytest.raises(ConfigError) as info:
        parse_strategy(**changes)
    (problem,) = info.value.problems
    return f"{problem.key}: {problem.message}"


def leaf_keys(data: dict[str, Any], prefix: str = "") -> set[str]:
    keys: set[str] = set()
    for key, value in data.items():
        if isinstance(value, dict):
            keys |= leaf_keys(value, f"{prefix}{key}.")
        else:
            keys.add(f"{prefix}{key}")
    return keys


def test_example_sets_every_key_so_operators_see_them_all() -> None:
    assert leaf_keys(example()) == {doc.key for doc in field_docs(MODEL)}


def test_readme_table_documents_every_key() -> None:
    readme = (paths.code_root() / "bots" / BOT / "README.md").read_text()
    assert readme_with_table(readme, MODEL) == readme, "run: calypso config docs --write-readmes"


def test_example_runs_in_local_mode_with_defaults() -> None:
    # The shipped example is the model's defaults, spelled out.
    minimal = {"config_version": 1, "bot": {"name": BOT, "environment": "local"}, "strategy": {}}
    from_defaults = parse_bot_config(BOT, json.dumps(minimal))
    from_example = parse_bot_config(BOT, json.dumps(example()))
    assert from_example.bot.environment == "local"
    assert from_example.strategy == from_defaults.strategy
    assert from_example.execution == from_defaults.execution
    assert from_example.loop == from_defaults.loop


def test_defaults_follow_the_strategy_spec() -> None:
    s = parse_strategy()
    assert (s.long_put_target_dte, s.long_put_target_delta) == (14, -0.33)
    assert s.long_put_delta_tolerance == 0.05
    assert s.long_roll_delta_threshold == -0.20
    assert s.long_roll_margin_usd == Decimal(1200)
    assert s.short_roll_time_et == time(12, 0)
    assert s.campaign_close_dte == 2
    assert s.max_loss_usd_per_contract == Decimal(500)
    assert (s.ema_period, s.min_green_candles_above_ema) == (9, 2)
    assert (s.macd_fast_period, s.macd_slow_period, s.macd_signal_period) == (12, 26, 9)
    assert (s.use_cci_filter, s.cci_period, s.cci_overbought) == (False, 20, 100)
    assert (s.fomc_blackout_days, s.earnings_blackout_days) == (1, 1)
    assert (s.max_opening_gap_percent, s.max_entry_spread_percent) == (2, 10)
    assert s.market_open_delay_minutes == 3
    assert s.instruments.underlying_uic == 4328771


def test_loop_defaults_suit_daily_signals() -> None:
    data = example()
    del data["loop"]
    loop = parse_bot_config(BOT, json.dumps(data)).loop
    assert (loop.poll_seconds_idle, loop.reconcile_interval_seconds) == (60, 300)


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"macd_fast_period": 26}, "must be below macd_slow_period"),
        ({"campaign_close_dte": 14}, "must be below long_put_target_dte"),
        ({"long_roll_delta_threshold": -0.30}, "freshly bought put would be rolled"),
    ],
)
def test_cross_field_rules(changes: dict[str, Any], expected: str) -> None:
    message = strategy_problem(**changes)
    assert message.startswith("strategy: ")
    assert expected in message


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"long_put_target_delta": 0.33}, "strategy.long_put_target_delta: must be <= -0.05"),
        ({"ema_period": 1}, "strategy.ema_period: must be >= 2"),
        ({"short_roll_time_et": "08:00"}, "within the regular session"),
        ({"long_roll_margin_usd": -1}, "strategy.long_roll_margin_usd: must be >= 0"),
    ],
)
def test_bounds(changes: dict[str, Any], expected: str) -> None:
    assert expected in strategy_problem(**changes)


def test_old_dry_run_key_is_rejected() -> None:
    assert "unknown key" in strategy_problem(dry_run=True)
