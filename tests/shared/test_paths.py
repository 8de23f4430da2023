"""CALYPSO_HOME and the paths under it."""

from __future__ import annotations

from pathlib import Path

import pytest

from shared import paths


def test_calypso_home_env_wins(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CALYPSO_HOME", str(tmp_path))
    assert paths.calypso_home() == tmp_path.resolve()
    assert paths.journal_path("iron_fly_0dte") == tmp_path.resolve() / "data/iron_fly_0dte.sqlite"
    assert paths.log_dir("delta_neutral") == tmp_path.resolve() / "logs/delta_neutral"


def test_checkout_root_is_the_default_home(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CALYPSO_HOME", raising=False)
    home = paths.calypso_home()
    assert (home / "pyproject.toml").is_file()
    assert (home / "bots" / "iron_fly_0dte").is_dir()


def test_example_configs_live_beside_each_bot() -> None:
    for bot in paths.BOT_NAMES:
        assert paths.bot_example_config_path(bot).parent.name == "config"
        assert paths.bot_example_config_path(bot).parent.parent.name == bot
