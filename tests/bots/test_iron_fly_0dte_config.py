"""Iron Fly 0DTE config: spec defaults, bounds, cross-field rules, example, README."""

from __future__ import annotations

import json
from datetime import time
from decimal import Decimal
from typing import Any

import pytest

from shared.config_loader import parse_bot_config
from tests.bots import config_helpers

BOT = "iron_fly_0dte"


def example() -> dict[str, Any]:
    return config_helpers.example(BOT)


def parse_strategy(**changes: Any) -> Any:
    return config_helpers.parse_strategy(BOT, **changes)


def strategy_problem(**changes: Any) -> str:
    return config_helpers.strategy_problem(BOT, **changes)


def test_defaults_follow_the_strategy_spec() -> None:
    s = parse_strategy()
    assert s.max_vix_entry == 20
    assert s.profit_target_usd_per_contract == Decimal(75)
    assert s.max_loss_usd_per_contract == Decimal(400)
    assert s.max_hold_minutes == 60
    assert (s.opening_range_start_et, s.entry_time_et) == (time(9, 30), time(10, 0))
    assert s.wing_touch_tolerance_points == Decimal("0.10")
    assert s.max_vix_spike_percent == 5
    assert (s.flash_move_percent, s.flash_move_window_minutes) == (2, 5)
    assert (s.max_entry_attempts, s.entry_attempt_spacing_seconds) == (3, 15)
    assert (s.min_wing_width_points, s.manual_wing_width_points) == (5, None)
    assert s.midpoint_tolerance_percent == 70
    assert s.require_price_in_range and s.require_price_near_midpoint
    assert s.fomc_day_blackout and s.economic_data_blackout
    assert (s.max_range_late_start_minutes, s.entry_window_minutes) == (5, 5)
    assert (s.entry_report_timeout_seconds, s.close_retry_seconds) == (300, 60)


def test_instrument_defaults_are_the_working_saxo_ids() -> None:
    i = parse_strategy().instruments
    assert (i.underlying_uic, i.underlying_asset_type) == (4913, "CfdOnIndex")
    assert (i.option_root_uic, i.vix_uic) == (128, 10606)


def test_orders_default_to_market_per_leg() -> None:
    data = example()
    del data["execution"]
    assert parse_bot_config(BOT, json.dumps(data)).execution.order_style == "market"


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        (
            {"profit_target_usd_per_contract": 400},
            "must be below max_loss_usd_per_contract",
        ),
        ({"opening_range_start_et": "10:00"}, "must be after opening_range_start_et"),
        ({"entry_time_et": "12:30", "max_hold_minutes": 60}, "ends after 13:00 ET"),
        ({"entry_time_et": "11:40", "entry_window_minutes": 25, "max_hold_minutes": 60},
         "ends after 13:00 ET"),
        ({"min_wing_width_points": 50, "max_wing_width_points": 40}, "must not exceed"),
        ({"min_wing_width_points": 7}, "multiple of 5"),
        ({"manual_wing_width_points": 12}, "multiple of 5"),
        ({"manual_wing_width_points": 150}, "must lie within"),
    ],
)
def test_cross_field_rules(changes: dict[str, Any], expected: str) -> None:
    message = strategy_problem(**changes)
    assert message.startswith("strategy: ")
    assert expected in message


def test_a_manual_wing_within_bounds_is_accepted() -> None:
    assert parse_strategy(manual_wing_width_points=25).manual_wing_width_points == 25


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"max_vix_entry": 4}, "strategy.max_vix_entry: must be >= 5.0 (got 4)"),
        ({"max_hold_minutes": 0}, "strategy.max_hold_minutes: must be >= 1 (got 0)"),
        ({"position_size_contracts": 21}, "strategy.position_size_contracts: must be <= 20"),
        ({"wing_touch_tolerance_points": 0.123}, "no more than 2 decimal places"),
        ({"entry_time_et": "09:00"}, "within the regular session 09:30-16:00 ET"),
        ({"instruments": {"underlying_uic": 0}}, "strategy.instruments.underlying_uic"),
        ({"entry_window_minutes": 0}, "strategy.entry_window_minutes: must be >= 1"),
        ({"close_retry_seconds": 5.0}, "strategy.close_retry_seconds: must be >= 10"),
        ({"max_range_late_start_minutes": 31}, "strategy.max_range_late_start_minutes"),
    ],
)
def test_bounds(changes: dict[str, Any], expected: str) -> None:
    assert expected in strategy_problem(**changes)
