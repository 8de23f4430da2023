"""Loading bot configs: file errors, key-path messages, envelope rules, secrets, file lookup."""

from __future__ import annotations

import copy
import json
import logging
from pathlib import Path
from typing import Any

import pytest

from shared import paths
from shared.config_loader import (
    BOT_CONFIG_MODELS,
    ConfigError,
    ResolvedSecrets,
    find_config_path,
    load_bot_config,
)
from shared.secret_manager import SecretStoreError

IRON_FLY = "iron_fly_0dte"
VALUE = "s3cr3t-VALUE-9f2c"  # must never show up in a message or a log record


class DictStore:
    """A SecretStore over a dict; `fail` makes every read raise."""

    def __init__(self, values: dict[str, str] | None = None, *, fail: bool = False) -> None:
        self.values = dict(values or {})
        self.fail = fail

    def get(self, name: str) -> str | None:
        if self.fail:
            raise SecretStoreError(f"store offline reading {name!r}")
        return self.values.get(name)

    def put(self, name: str, value: str) -> None:
        self.values[name] = value


def example(bot: str = IRON_FLY) -> dict[str, Any]:
    return json.loads(paths.bot_example_config_path(bot).read_text())


def write(tmp_path: Path, data: dict[str, Any] | str, name: str = "config.json") -> Path:
    path = tmp_path / name
    path.write_text(data if isinstance(data, str) else json.dumps(data, indent=2))
    return path


def with_changes(section: str, bot: str = IRON_FLY, **changes: Any) -> dict[str, Any]:
    data = copy.deepcopy(example(bot))
    data[section].update(changes)
    return data


def problems(exc: pytest.ExceptionInfo[ConfigError]) -> dict[str, str]:
    return {p.key: p.message for p in exc.value.problems}


# --- the shipped examples -------------------------------------------------------------------


@pytest.mark.parametrize("bot", paths.BOT_NAMES)
def test_shipped_example_loads_in_local_mode_without_secrets(bot: str) -> None:
    loaded = load_bot_config(bot, paths.bot_example_config_path(bot), secrets=DictStore())
    assert loaded.config.bot.environment == "local"
    assert loaded.is_example
    assert loaded.secrets == ResolvedSecrets()


def test_registry_covers_every_bot() -> None:
    assert set(BOT_CONFIG_MODELS) == set(paths.BOT_NAMES)


# --- file-level errors ----------------------------------------------------------------------


def test_missing_file_is_named(tmp_path: Path) -> None:
    path = tmp_path / "nope.json"
    with pytest.raises(ConfigError, match="config file not found") as info:
        load_bot_config(IRON_FLY, path)
    assert str(path) in str(info.value)


def test_invalid_json_gives_file_line_and_column(tmp_path: Path) -> None:
    path = write(tmp_path, '{\n  "config_version": 1,\n  "bot": }\n')
    with pytest.raises(ConfigError, match="line 3 column 10") as info:
        load_bot_config(IRON_FLY, path)
    assert str(info.value).startswith(str(path))


def test_duplicate_key_is_an_error(tmp_path: Path) -> None:
    text = json.dumps(example(), indent=2).replace(
        '"max_vix_entry": 20.0', '"max_vix_entry": 20.0, "max_vix_entry": 30.0'
    )
    with pytest.raises(ConfigError, match="more than once") as info:
        load_bot_config(IRON_FLY, write(tmp_path, text))
    assert "max_vix_entry" in problems(info)


def test_nan_is_refused(tmp_path: Path) -> None:
    text = json.dumps(example()).replace('"max_vix_entry": 20.0', '"max_vix_entry": NaN')
    with pytest.raises(ConfigError, match="NaN"):
        load_bot_config(IRON_FLY, write(tmp_path, text))


def test_top_level_must_be_an_object(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="JSON object"):
        load_bot_config(IRON_FLY, write(tmp_path, "[1, 2]"))


def test_unknown_bot_lists_the_valid_ones(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="valid bots: iron_fly_0dte, delta_neutral"):
        load_bot_config("iron_condor", write(tmp_path, example()))


# --- key-level errors -----------------------------------------------------------------------


def test_misspelled_key_names_file_and_key_path_and_suggests(tmp_path: Path) -> None:
    path = write(tmp_path, with_changes("strategy", max_vix_entr=20))
    with pytest.raises(ConfigError) as info:
        load_bot_config(IRON_FLY, path)
    (problem,) = info.value.problems
    assert (problem.file, problem.key) == (path, "strategy.max_vix_entr")
    assert "unknown key (not a CALYPSO setting)" in problem.message
    assert "did you mean 'max_vix_entry'" in problem.message


def test_unknown_top_level_section_is_an_error(tmp_path: Path) -> None:
    data = example()
    data["saxo_api"] = {"environment": "sim"}
    with pytest.raises(ConfigError) as info:
        load_bot_config(IRON_FLY, write(tmp_path, data))
    assert problems(info) == {"saxo_api": "unknown key (not a CALYPSO setting)"}


def test_out_of_bounds_value_names_the_bound(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as info:
        load_bot_config(IRON_FLY, write(tmp_path, with_changes("strategy", max_vix_entry=95)))
    assert problems(info)["strategy.max_vix_entry"] == "must be <= 80.0 (got 95)"


def test_every_problem_is_reported_at_once(tmp_path: Path) -> None:
    data = with_changes("strategy", max_vix_entry=95, max_hold_minutes=0)
    data["loop"]["heartbeat_seconds"] = 1
    with pytest.raises(ConfigError) as info:
        load_bot_config(IRON_FLY, write(tmp_path, data))
    assert set(problems(info)) == {
        "strategy.max_vix_entry",
        "strategy.max_hold_minutes",
        "loop.heartbeat_seconds",
    }


def test_string_for_a_number_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as info:
        load_bot_config(IRON_FLY, write(tmp_path, with_changes("strategy", max_vix_entry="20")))
    assert "strategy.max_vix_entry" in problems(info)


def test_string_for_a_boolean_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as info:
        load_bot_config(IRON_FLY, write(tmp_path, with_changes("bot", dry_run="false")))
    assert "bot.dry_run" in problems(info)


def test_list_item_error_uses_an_index_in_the_path(tmp_path: Path) -> None:
    data = with_changes("execution", ladder_steps_percent=[0, "x"])
    with pytest.raises(ConfigError) as info:
        load_bot_config(IRON_FLY, write(tmp_path, data))
    assert "execution.ladder_steps_percent[1]" in problems(info)


def test_missing_required_key_is_named(tmp_path: Path) -> None:
    data = example()
    del data["bot"]["environment"]
    with pytest.raises(ConfigError) as info:
        load_bot_config(IRON_FLY, write(tmp_path, data))
    assert problems(info) == {"bot.environment": "required key is missing"}


def test_unknown_environment_lists_the_choices(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as info:
        load_bot_config(IRON_FLY, write(tmp_path, with_changes("bot", environment="prod")))
    assert problems(info)["bot.environment"] == "must be 'live', 'sim' or 'local'"


def test_newer_config_version_is_refused(tmp_path: Path) -> None:
    data = example()
    data["config_version"] = 2
    with pytest.raises(ConfigError) as info:
        load_bot_config(IRON_FLY, write(tmp_path, data))
    assert "config_version" in problems(info)


def test_config_of_another_bot_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path, example("delta_neutral"))
    with pytest.raises(ConfigError) as info:
        load_bot_config(IRON_FLY, path)
    assert "is this the right file?" in problems(info)["bot"]


def test_secret_name_field_never_echoes_its_content(tmp_path: Path) -> None:
    # An operator pastes the secret itself where its name belongs.
    data = with_changes("account", saxo_credentials_secret=VALUE + " !")
    with pytest.raises(ConfigError) as info:
        load_bot_config(IRON_FLY, write(tmp_path, data))
    assert "account.saxo_credentials_secret" in problems(info)
    assert VALUE not in str(info.value)


# --- envelope cross-field rules -------------------------------------------------------------


@pytest.mark.parametrize(
    ("section", "changes", "expected"),
    [
        ("circuit_breaker", {"window_size": 4}, "cannot exceed window_size"),
        ("loop", {"poll_seconds_in_position": 10}, "must not exceed poll_seconds_idle"),
        ("loop", {"health_line_seconds": 30, "heartbeat_seconds": 60}, "at least heartbeat"),
        ("market_data", {"no_price_close_seconds": 10}, "greater than stream_stale_seconds"),
        ("execution", {"ladder_steps_percent": [5, 0]}, "must not decrease"),
        ("execution", {"ladder_steps_percent": [30]}, "between 0 and 25"),
        (
            "execution",
            {"order_style": "limit_ladder", "ladder_step_seconds": 600},
            "at most 1800 s",
        ),
        ("sheets", {"enabled": True, "spreadsheet_name": None}, "spreadsheet_name is not set"),
        (
            "sheets",
            {"enabled": True, "credentials_secret": None},
            "neither credentials_secret nor credentials_file",
        ),
        ("sheets", {"credentials_file": "/etc/sa.json"}, "not both"),
    ],
)
def test_envelope_cross_field_rules(
    tmp_path: Path, section: str, changes: dict[str, Any], expected: str
) -> None:
    with pytest.raises(ConfigError) as info:
        load_bot_config(IRON_FLY, write(tmp_path, with_changes(section, **changes)))
    (problem,) = info.value.problems
    assert problem.key.startswith(section)
    assert expected in problem.message


def test_market_order_style_ignores_a_long_ladder(tmp_path: Path) -> None:
    data = with_changes("execution", order_style="market", ladder_step_seconds=600)
    assert load_bot_config(IRON_FLY, write(tmp_path, data)).config.execution.order_style == (
        "market"
    )


def test_sections_may_be_omitted_and_take_defaults(tmp_path: Path) -> None:
    minimal = {
        "config_version": 1,
        "bot": {"name": IRON_FLY, "environment": "local"},
        "strategy": {},
    }
    config = load_bot_config(IRON_FLY, write(tmp_path, minimal)).config
    assert config.circuit_breaker.max_consecutive_failures == 5
    assert config.circuit_breaker.max_failures_in_window == 5
    assert config.circuit_breaker.window_size == 10
    assert config.loop.heartbeat_seconds == 30
    assert config.bot.dry_run is False


def test_loaded_config_is_immutable(tmp_path: Path) -> None:
    config = load_bot_config(IRON_FLY, write(tmp_path, example())).config
    with pytest.raises(ValueError, match="frozen"):
        config.strategy.max_vix_entry = 99  # type: ignore[misc]


# --- secrets --------------------------------------------------------------------------------


def sim_config(tmp_path: Path, **sheets: Any) -> Path:
    data = with_changes("bot", environment="sim")
    data["sheets"].update(sheets)
    return write(tmp_path, data)


def test_sim_resolves_named_secrets_and_masks_them(tmp_path: Path) -> None:
    store = DictStore({"calypso-saxo-credentials": VALUE, "calypso-account-config": "acct"})
    loaded = load_bot_config(IRON_FLY, sim_config(tmp_path), secrets=store)
    assert loaded.secrets.saxo_credentials is not None
    assert loaded.secrets.saxo_credentials.get_secret_value() == VALUE
    assert VALUE not in repr(loaded) and VALUE not in str(loaded.secrets)


def test_sim_without_saxo_secret_names_key_and_secret(tmp_path: Path) -> None:
    store = DictStore({"calypso-account-config": VALUE})
    with pytest.raises(ConfigError) as info:
        load_bot_config(IRON_FLY, sim_config(tmp_path), secrets=store)
    assert problems(info) == {
        "account.saxo_credentials_secret": "secret 'calypso-saxo-credentials' not found"
    }
    assert VALUE not in str(info.value)


def test_secret_store_failure_becomes_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="store offline") as info:
        load_bot_config(IRON_FLY, sim_config(tmp_path), secrets=DictStore(fail=True))
    assert set(problems(info)) == {"account.saxo_credentials_secret", "account.account_secret"}


def test_local_mode_asks_the_store_for_nothing(tmp_path: Path) -> None:
    path = write(tmp_path, example())
    assert load_bot_config(IRON_FLY, path, secrets=DictStore(fail=True)).secrets == (
        ResolvedSecrets()
    )


def test_missing_sheets_secret_disables_the_mirror_with_a_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    store = DictStore({"calypso-saxo-credentials": VALUE, "calypso-account-config": VALUE})
    path = sim_config(tmp_path, enabled=True)
    loaded = load_bot_config(IRON_FLY, path, secrets=store)
    assert loaded.secrets.sheets_credentials is None
    assert "sheets_credentials_missing" in caplog.text
    assert VALUE not in caplog.text


def test_without_a_store_only_the_file_is_checked(tmp_path: Path) -> None:
    assert load_bot_config(IRON_FLY, sim_config(tmp_path)).secrets == ResolvedSecrets()


# --- finding the file -----------------------------------------------------------------------


def test_explicit_path_wins(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CALYPSO_HOME", str(tmp_path))
    explicit = tmp_path / "elsewhere.json"
    assert find_config_path(IRON_FLY, explicit) == explicit


def test_operator_config_under_home_is_used(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CALYPSO_HOME", str(tmp_path))
    operator_file = paths.bot_config_path(IRON_FLY)
    operator_file.parent.mkdir(parents=True)
    operator_file.write_text("{}")
    assert find_config_path(IRON_FLY) == operator_file


def test_example_is_the_logged_fallback(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv("CALYPSO_HOME", str(tmp_path))
    caplog.set_level(logging.WARNING)
    assert find_config_path(IRON_FLY) == paths.bot_example_config_path(IRON_FLY)
    assert "config_using_example bot=iron_fly_0dte" in caplog.text


def test_circuit_breaker_section_maps_onto_breaker_settings() -> None:
    from shared.config.envelope import CircuitBreakerSection

    section = CircuitBreakerSection(
        max_consecutive_failures=4,
        window_size=8,
        max_failures_in_window=3,
        cooldown_minutes=7,
        trips_before_daily_halt=2,
    )
    settings = section.breaker_settings()
    thresholds = (settings.consecutive_failures, settings.window, settings.failures_in_window)
    assert thresholds == (4, 8, 3)
    assert settings.cooldown_seconds == 420.0
    assert settings.trips_before_halt == 2
