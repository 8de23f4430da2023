"""`calypso alerts test|pending|notify-unit` against a real SMTP server on loopback, with the
destination URL in an environment secret and the bot's config and journal under CALYPSO_HOME."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from filelock import FileLock

from shared import paths, secret_manager
from shared.alerts.queue import ALERT_CHANNEL
from shared.alerts.worker import alerts_lock_path
from shared.cli.main import main
from shared.journal import Journal
from tests.shared.alerts.conftest import Inbox, free_port, smtp_url

BOT = "iron_fly_0dte"
SYSTEMD_CRASH = {"SERVICE_RESULT": "exit-code", "EXIT_CODE": "exited", "EXIT_STATUS": "1"}


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, smtp_inbox: Inbox) -> Path:
    """CALYPSO_HOME where iron_fly_0dte sends every severity to the SMTP server (`email`) and
    criticals to a closed port (`pager`, down)."""
    monkeypatch.setenv("CALYPSO_HOME", str(tmp_path))
    monkeypatch.setattr(secret_manager, "metadata_project_id", lambda **_: None)  # not on GCP
    monkeypatch.setenv("CALYPSO_SECRET_CALYPSO_ALERTS_EMAIL", smtp_inbox.url)
    monkeypatch.setenv("CALYPSO_SECRET_CALYPSO_ALERTS_PAGER", smtp_url(free_port()))
    for name in SYSTEMD_CRASH:
        monkeypatch.delenv(name, raising=False)
    config = json.loads(paths.bot_example_config_path(BOT).read_text())
    config["alerts"] = {
        "enabled": True,
        "destinations": [
            {"name": "email", "url_secret": "calypso-alerts-email", "min_severity": "info"},
            {"name": "pager", "url_secret": "calypso-alerts-pager", "min_severity": "critical"},
        ],
        "repeat_window_minutes": 30,
    }
    target = paths.bot_config_path(BOT)
    target.parent.mkdir(parents=True)
    target.write_text(json.dumps(config))
    return tmp_path


def pending_rows() -> list[dict[str, object]]:
    with Journal.open_readonly(paths.journal_path(BOT)) as journal:
        return [row.payload for row in journal.outbox_pending(100, ALERT_CHANNEL)]


def test_a_crashed_bot_unit_alerts_at_once_and_a_failed_destination_waits(
    home: Path, smtp_inbox: Inbox, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    for name, value in SYSTEMD_CRASH.items():
        monkeypatch.setenv(name, value)

    code = main(["alerts", "notify-unit", "iron_fly_0dte.service"])

    assert code == 1  # the pager is down
    assert "queued 2 in iron_fly_0dte's journal; delivered 1, failed 1" in capsys.readouterr().out
    (mail,) = smtp_inbox.received
    assert (
        mail["Subject"] == "[CALYPSO iron_fly_0dte.service] CRITICAL: "
        "iron_fly_0dte.service exited (exit-code)"
    )
    assert "status=1" in smtp_inbox.bodies()[0]
    assert [row["destination"] for row in pending_rows()] == ["pager"]

    assert main(["alerts", "pending"]) == 0
    out = capsys.readouterr().out
    assert "iron_fly_0dte #" in out and "-> pager [critical]" in out and "attempts=1" in out
    assert "mailto" not in out  # the URL is a secret


def test_a_clean_stop_sends_nothing(home: Path, smtp_inbox: Inbox) -> None:
    assert main(["alerts", "notify-unit", "iron_fly_0dte.service"]) == 0
    assert smtp_inbox.received == []
    assert not paths.journal_path(BOT).exists()


def test_while_the_bot_holds_its_alerts_lock_the_alert_is_left_to_the_bot(
    home: Path, smtp_inbox: Inbox, capsys: pytest.CaptureFixture[str]
) -> None:
    paths.journal_path(BOT).parent.mkdir(parents=True, exist_ok=True)
    with FileLock(str(alerts_lock_path(paths.journal_path(BOT)))):
        code = main(["alerts", "notify-unit", "calypso-health.service", "--failed"])

    assert code == 0
    assert "its running sender delivers them" in capsys.readouterr().out
    assert smtp_inbox.received == []
    assert {row["title"] for row in pending_rows()} == {"calypso-health.service failed"}


def test_alerts_test_says_which_destination_succeeded(
    home: Path, smtp_inbox: Inbox, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["alerts", "test", "--bot", BOT])

    out = capsys.readouterr().out
    assert code == 1
    assert f"{BOT}: email: delivered" in out
    refused = "destination pager: the service refused or was unreachable"
    assert f"{BOT}: pager: FAILED ({refused})" in out
    assert len(smtp_inbox.received) == 1
    assert "test alert" in smtp_inbox.received[0]["Subject"]
