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


def test_a_read_only_directory_is_named(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Root may write anywhere, so the permission answer is taken from the filesystem boundary.
    read_only = tmp_path / "home"
    read_only.mkdir()
    monkeypatch.setattr(paths.os, "access", lambda path, mode: Path(path) != read_only)

    with pytest.raises(paths.HomeDirError, match=f"{read_only} is not writable"):
        paths.ensure_writable_dir(read_only)


def test_a_missing_home_is_created_with_data_and_the_bot_logs(tmp_path: Path) -> None:
    home = tmp_path / "new-home"

    paths.prepare_home("iron_fly_0dte", home)

    assert (home / "data").is_dir() and (home / "logs" / "iron_fly_0dte").is_dir()


def test_a_parent_that_is_a_file_is_named(tmp_path: Path) -> None:
    (tmp_path / "data").write_text("x")

    with pytest.raises(paths.HomeDirError, match="data is a file, not a directory"):
        paths.prepare_home(None, tmp_path)
