"""`calypso health`: exit codes and JSON on an empty CALYPSO_HOME and with real journals."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from shared.cli import health_cmd
from shared.cli.main import main
from shared.clock import ManualClock
from tests.shared.health.factories import (
    NOW,
    active_unit,
    fake_probes,
    token_entry,
    write_config,
    write_journal,
    write_log,
    write_token_cache,
)

ROOT = Path(__file__).resolve().parents[2]
BOTS = ("iron_fly_0dte", "delta_neutral", "rolling_put_diagonal")
PER_BOT = {"service_running", "log_fresh", "memory", "journal_writable", "recent_errors"}
MACHINE = {"disk_space", "token_cache", "market_hours_horizon", "event_calendar_horizon"}


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("CALYPSO_HOME", str(tmp_path))
    for name in ("CALYPSO_BOTS", "CALYPSO_SAXO_ENV", "JOURNAL_STREAM"):
        monkeypatch.delenv(name, raising=False)
    return tmp_path


def _health(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, dict[str, Any]]:
    code = main(["health", "--json", *args])
    return code, json.loads(capsys.readouterr().out)


def _assert_every_check_reported(document: dict[str, Any]) -> None:
    seen = {(c["name"], c["bot"]) for c in document["checks"]}
    expected = {(name, bot) for name in PER_BOT for bot in BOTS} | {(n, None) for n in MACHINE}
    assert seen == expected
    assert all(c["reason"] for c in document["checks"])


def test_empty_home_reports_each_check_with_a_reason_and_exits_non_zero(
    home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, document = _health(capsys)
    assert code == 1
    assert document["ok"] is False
    _assert_every_check_reported(document)
    by_key = {(c["name"], c["bot"]): c for c in document["checks"]}
    assert "no journal" in by_key[("journal_writable", "delta_neutral")]["reason"]
    assert "not running" in by_key[("service_running", "iron_fly_0dte")]["reason"]
    assert "calypso auth login" in by_key[("token_cache", None)]["reason"]


def test_empty_home_through_a_real_process(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("CALYPSO_BOTS", "JOURNAL_STREAM")}
    env["CALYPSO_HOME"] = str(tmp_path)
    env.pop("CALYPSO_SAXO_ENV", None)
    done = subprocess.run(
        [sys.executable, "-m", "shared.cli", "health", "--json"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 1, done.stderr
    document = json.loads(done.stdout)
    assert document["ok"] is False
    _assert_every_check_reported(document)
    assert "health_summary ok=False" in done.stderr


def test_journals_present_are_read(home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    for bot in BOTS:
        write_journal(home, bot)
    _, document = _health(capsys)
    journal_checks = [c for c in document["checks"] if c["name"] == "journal_writable"]
    assert [c["ok"] for c in journal_checks] == [True, True, True]
    assert all(c["details"]["schema_version"] >= 1 for c in journal_checks)
    assert [(c["details"]["bot_state"], c["details"]["open_trades"]) for c in journal_checks] == [
        ("in_position", 1)
    ] * 3


def test_healthy_machine_exits_zero_with_a_table(
    home: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    for bot in BOTS:
        write_journal(home, bot)
        write_log(home, bot, ["ok"], modified=NOW - timedelta(minutes=1))
        write_config(home, bot, "sim")
    entry = token_entry(
        NOW,
        access_in=timedelta(minutes=10),
        refresh_in=timedelta(minutes=50),
        age=timedelta(minutes=10),
    )
    write_token_cache(home, {"sim": entry})
    probes = fake_probes(
        units={f"{bot}.service": active_unit(500 + i) for i, bot in enumerate(BOTS)},
        rss={500: 2**27, 501: 2**27, 502: 2**27},
    )
    monkeypatch.setattr(health_cmd, "_CLOCK", ManualClock(NOW))
    monkeypatch.setattr(health_cmd, "_PROBES", lambda: probes)
    assert main(["health"]) == 0
    out = capsys.readouterr().out
    assert "healthy" in out
    assert "FAIL" not in out


def test_bot_flag_limits_the_per_bot_checks(home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _, document = _health(capsys, "--bot", "delta_neutral")
    assert {c["bot"] for c in document["checks"]} == {"delta_neutral", None}


def test_unknown_bot_in_the_environment_is_a_usage_error(
    home: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CALYPSO_BOTS", "iron_fly_0dte,ironfly")
    assert main(["health"]) == 2
    assert "unknown bot 'ironfly' in $CALYPSO_BOTS" in capsys.readouterr().err
