"""Delta Neutral config: spec defaults, bounds, cross-field rules, example, README."""

from __future__ import annotations

import json
from datetime import time
from decimal import Decimal
from typing import Any

import pytest

from shared.cli.main import main
from shared.config.docs import field_docs
from shared.config_loader import BOT_CONFIG_MODELS, parse_bot_config
from tests.bots import config_helpers

BOT = "delta_neutral"


def example() -> dict[str, Any]:
    return config_helpers.example(BOT)


def parse_strategy(**changes: Any) -> Any:
    return config_helpers.parse_strategy(BOT, **changes)


def strategy_problem(**changes: Any) -> str:
    return config_helpers.strategy_problem(BOT, **changes)


def test_defaults_follow_the_strategy_spec() -> None:
    s = parse_strategy()
    assert (s.max_vix_entry, s.max_vix_new_shorts) == (18, 25)
    assert s.fomc_blackout_days == 2
    assert (s.long_straddle_target_dte, s.long_exit_dte) == (120, 60)
    assert (s.recenter_threshold, s.recenter_threshold_unit) == (Decimal(5), "points")
    assert s.emergency_exit_percent == 5
    assert s.short_itm_risk_percent == 0.3
    assert s.weekly_target_return_percent == 1
    assert (s.strangle_multiplier_min, s.strangle_multiplier_max) == (1.5, 2.0)
    assert s.short_entry_fee_usd_per_leg == Decimal(2)
    assert s.max_entry_spread_percent == 1.0  # spec 0.5: see the README
    assert (s.roll_start_thursday_et, s.roll_start_friday_et) == (time(15), time(10))
    assert s.recenter_cutoff_minutes_before_close == 15
    assert s.shorts_cutoff_minutes_before_close == 10
    assert s.market_open_delay_minutes == 3
    assert (s.instruments.underlying_uic, s.instruments.vix_uic) == (36590, 10606)


def test_loop_defaults_are_slower_than_the_0dte_bot() -> None:
    data = example()
    del data["loop"]
    loop = parse_bot_config(BOT, json.dumps(data)).loop
    assert (loop.poll_seconds_idle, loop.poll_seconds_in_position) == (30, 10)


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"long_exit_dte": 120}, "must be below long_straddle_target_dte"),
        (
            {"long_straddle_target_dte": 65, "long_exit_dte": 60},
            "room for at least one weekly short",
        ),
        ({"strangle_multiplier_min": 2.5}, "must not exceed strangle_multiplier_max"),
        ({"max_vix_new_shorts": 15}, "must be at least max_vix_entry"),
    ],
)
def test_cross_field_rules(changes: dict[str, Any], expected: str) -> None:
    message = strategy_problem(**changes)
    assert message.startswith("strategy: ")
    assert expected in message


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"max_entry_spread_percent": 0}, "strategy.max_entry_spread_percent: must be >= 0.05"),
        ({"short_target_dte": 0}, "strategy.short_target_dte: must be >= 1"),
        ({"roll_start_friday_et": "17:00"}, "within the regular session"),
        ({"roll_retry_minutes": 0}, "strategy.roll_retry_minutes: must be >= 1"),
        ({"roll_retry_minutes": 61}, "strategy.roll_retry_minutes: must be <= 60"),
        ({"recenter_threshold": 0.1}, "recenter_threshold (0.1) must be within 0.50-100 points"),
        (
            {"recenter_threshold": 25, "recenter_threshold_unit": "percent"},
            "recenter_threshold (25) must be within 0.10-20 percent",
        ),
    ],
)
def test_bounds(changes: dict[str, Any], expected: str) -> None:
    assert expected in strategy_problem(**changes)


@pytest.mark.parametrize(
    "dead_key",
    ["roll_days", "short_strangle_max_multiplier", "recenter_threshold_points", "exit_dte_max"],
)
def test_old_dead_keys_are_rejected(dead_key: str) -> None:
    assert "unknown key" in strategy_problem(**{dead_key: 1})


def test_recenter_distance_in_points_is_the_threshold_in_usd() -> None:
    s = parse_strategy(recenter_threshold=4.5)
    assert s.recenter_distance_usd(Decimal(600)) == Decimal("4.5")


def test_recenter_distance_in_percent_scales_with_the_strike() -> None:
    s = parse_strategy(recenter_threshold=1, recenter_threshold_unit="percent")
    assert s.recenter_distance_usd(Decimal(600)) == Decimal(6)


def test_config_docs_command_prints_every_key(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["config", "docs", BOT]) == 0
    out = capsys.readouterr().out
    missing = [d.key for d in field_docs(BOT_CONFIG_MODELS[BOT]) if f"| `{d.key}` |" not in out]
    assert missing == []
    assert "| `strategy.recenter_threshold_unit` |" in out
