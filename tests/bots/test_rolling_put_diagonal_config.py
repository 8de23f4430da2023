"""Rolling Put Diagonal config: spec defaults, bounds, cross-field rules, example, README."""

from __future__ import annotations

import json
import re
from datetime import time
from decimal import Decimal
from typing import Any

import pytest

from bots.rolling_put_diagonal.config import RollingPutDiagonalInstruments
from bots.rolling_put_diagonal.config import RollingPutDiagonalStrategy as StrategySection
from shared.config_loader import ConfigError, parse_bot_config
from shared.paths import code_root
from tests.bots import config_helpers

BOT = "rolling_put_diagonal"


def example() -> dict[str, Any]:
    return config_helpers.example(BOT)


def parse_strategy(**changes: Any) -> Any:
    return config_helpers.parse_strategy(BOT, **changes)


def strategy_problem(**changes: Any) -> str:
    return config_helpers.strategy_problem(BOT, **changes)


def test_defaults_follow_the_strategy_spec() -> None:
    s = parse_strategy()
    assert (s.long_put_target_dte, s.long_put_target_delta) == (14, -0.33)
    assert s.long_put_delta_tolerance == 0.05
    assert s.long_roll_delta_threshold == -0.20
    assert s.long_roll_bp_threshold_usd == Decimal(1200)  # the account's margin used, USD
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
        ({"long_roll_bp_threshold_usd": -1},
         "strategy.long_roll_bp_threshold_usd: must be >= 0"),
    ],
)
def test_bounds(changes: dict[str, Any], expected: str) -> None:
    assert expected in strategy_problem(**changes)


def test_old_dry_run_key_is_rejected() -> None:
    assert "unknown key" in strategy_problem(dry_run=True)


@pytest.mark.parametrize(
    ("section", "key", "value"),
    [
        ("strategy", "short_put", {"target_dte": 1, "target_delta": -0.5}),  # never used
        ("strategy", "long_put", {"roll_bp_threshold": 1200}),  # now long_roll_bp_threshold_usd
        ("strategy", "management", {"roll_time_hour": 12}),  # now short_roll_time_et
        ("strategy", "weekly_trend_filter", True),  # never computed
        ("circuit_breaker", "order_timeout_seconds", 60),  # now the execution section
        ("email_alerts", "enabled", False),
    ],
)
def test_the_earlier_implementations_dead_keys_are_errors(section: str, key: str,
                                                          value: Any) -> None:  # fmt: skip
    data = example()
    data.setdefault(section, {})[key] = value
    with pytest.raises(ConfigError) as info:
        parse_bot_config(BOT, json.dumps(data))
    assert any("unknown key" in p.message or "Extra inputs" in p.message
               for p in info.value.problems), info.value.problems  # fmt: skip


def test_every_strategy_key_is_read_by_the_bot() -> None:
    """No dead configuration: each strategy key is read by the bot's code (config.py's own
    cross-checks do not count)."""
    folder = code_root() / "bots" / BOT
    code = "\n".join(f.read_text() for f in folder.glob("*.py") if f.name != "config.py")
    keys = set(StrategySection.model_fields) | set(RollingPutDiagonalInstruments.model_fields)
    unread = sorted(k for k in keys if not re.search(rf"\.{k}\b", code))
    assert unread == []


def test_dry_run_is_off_unless_asked_for() -> None:
    """Orders go to the broker unless the operator asks for a dry run (`--dry-run`, or
    `bot.dry_run` set on purpose): no default hides the live order path."""
    data = example()
    assert data["bot"]["dry_run"] is False
    del data["bot"]["dry_run"]
    assert parse_bot_config(BOT, json.dumps(data)).bot.dry_run is False
