"""`calypso config check` and `calypso config docs`, through `main()` and a real process."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import requests
import responses

from shared import paths, secret_manager
from shared.cli.main import main
from shared.secret_manager import METADATA_PROJECT_URL

IRON_FLY = "iron_fly_0dte"


@pytest.fixture(autouse=True)
def _empty_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A CALYPSO_HOME with no operator configs, so the shipped examples are used."""
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("CALYPSO_HOME", str(home))
    return home


def example(bot: str = IRON_FLY) -> dict[str, Any]:
    return json.loads(paths.bot_example_config_path(bot).read_text())


def misspelled_copy(tmp_path: Path) -> Path:
    data = example()
    data["strategy"]["max_vix_entr"] = 20
    path = tmp_path / "iron fly (copy).json"
    path.write_text(json.dumps(data, indent=2))
    return path


def test_check_all_accepts_the_shipped_examples(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["config", "check", "--all"]) == 0
    out = capsys.readouterr().out
    for bot in paths.BOT_NAMES:
        assert f"OK {bot} {paths.bot_example_config_path(bot)}" in out


def test_no_bot_and_no_all_checks_every_bot(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["config", "check"]) == 0
    assert capsys.readouterr().out.count("OK ") == len(paths.BOT_NAMES)


def test_misspelled_key_exits_2_naming_key_and_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = misspelled_copy(tmp_path)
    assert main(["config", "check", IRON_FLY, "--config", str(bad)]) == 2
    out = capsys.readouterr().out
    assert f"{bad}: strategy.max_vix_entr: unknown key (not a CALYPSO setting)" in out


def test_invalid_operator_config_under_home_fails_the_whole_check(
    _empty_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    operator_file = paths.bot_config_path("delta_neutral", _empty_home)
    operator_file.parent.mkdir(parents=True)
    data = example("delta_neutral")
    data["circuit_breaker"]["window_size"] = 3
    operator_file.write_text(json.dumps(data))
    assert main(["config", "check"]) == 2
    out = capsys.readouterr().out
    assert f"ERROR delta_neutral {operator_file}" in out
    assert f"OK {IRON_FLY}" in out


def test_unknown_bot_exits_2_naming_the_valid_ones(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["config", "check", "iron_condor"]) == 2
    err = capsys.readouterr().err
    assert "iron_condor" in err
    assert "iron_fly_0dte, delta_neutral, rolling_put_diagonal" in err


@pytest.mark.parametrize(
    "argv",
    [
        ["config", "check", "--config", "x.json"],
        ["config", "check", "--all", "--config", "x.json"],
        ["config", "check", IRON_FLY, "--all"],
    ],
)
def test_bad_argument_combinations_exit_2(
    argv: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(argv) == 2
    assert "calypso config check:" in capsys.readouterr().err


def test_json_output_is_plain_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = misspelled_copy(tmp_path)
    assert main(["config", "check", IRON_FLY, "--config", str(bad), "--json"]) == 2
    report = json.loads(capsys.readouterr().out)
    assert report["ok"] is False
    (result,) = report["results"]
    assert result["file"] == str(bad)
    assert [p["key"] for p in result["problems"]] == ["strategy.max_vix_entr"]


@responses.activate
def test_secrets_flag_checks_the_named_secrets_exist(
    tmp_path: Path,
    _empty_home: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for var in ("GCP_PROJECT", "GOOGLE_CLOUD_PROJECT"):
        monkeypatch.delenv(var, raising=False)
    secret_manager.clear_gcp_detection_cache()
    responses.get(METADATA_PROJECT_URL, body=requests.ConnectionError("not on GCP"))
    data = example()
    data["bot"]["environment"] = "sim"
    config = tmp_path / "sim.json"
    config.write_text(json.dumps(data))
    secrets_file = _empty_home / "secrets.json"
    secrets_file.write_text(json.dumps({"calypso-account-config": "{}"}))
    secrets_file.chmod(0o600)
    try:
        code = main(["config", "check", IRON_FLY, "--config", str(config), "--secrets"])
    finally:
        secret_manager.clear_gcp_detection_cache()
    assert code == 2
    out = capsys.readouterr().out
    assert "account.saxo_credentials_secret: secret 'calypso-saxo-credentials' not found" in out


def test_docs_prints_every_key_of_a_bot(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["config", "docs", IRON_FLY]) == 0
    assert "| `strategy.max_vix_entry` | `20.0` | >= 5.0, <= 80.0 |" in capsys.readouterr().out


def test_config_without_an_action_prints_help_and_exits_2(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["config"]) == 2
    assert "check" in capsys.readouterr().out


def test_real_process_accepts_examples_and_rejects_the_typo(
    tmp_path: Path, _empty_home: Path
) -> None:
    env = {**os.environ, "CALYPSO_HOME": str(_empty_home)}
    command = [sys.executable, "-m", "shared.cli", "config", "check"]
    good = subprocess.run(
        [*command, "--all"], capture_output=True, text=True, env=env, timeout=60, check=False
    )
    assert good.returncode == 0, good.stdout + good.stderr
    assert good.stdout.count("OK ") == len(paths.BOT_NAMES)

    bad_file = misspelled_copy(tmp_path)
    bad = subprocess.run(
        [*command, IRON_FLY, "--config", str(bad_file)],
        capture_output=True,
        text=True,
        env={**env, "COLUMNS": "40"},  # a narrow terminal must not split the path or key
        timeout=60,
        check=False,
    )
    assert bad.returncode == 2
    assert f"{bad_file}: strategy.max_vix_entr: unknown key" in bad.stdout


def test_ok_line_for_a_sim_config_says_secrets_were_not_checked(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = example()
    data["bot"]["environment"] = "sim"
    config = tmp_path / "sim.json"
    config.write_text(json.dumps(data))
    assert main(["config", "check", IRON_FLY, "--config", str(config)]) == 0
    assert "sim: secrets not checked" in capsys.readouterr().out
