"""`calypso sheets sync`: a real config, key file, journal and the fake Sheets API."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import responses
from filelock import FileLock

from shared import paths
from shared.cli import sheets_cmd
from shared.cli.main import main
from shared.clock import ManualClock
from shared.journal import Journal
from shared.sheets.mirror import sheets_lock_path
from shared.sheets.payloads import TradeRow, enqueue
from shared.sheets.sender import DeliveryPolicy
from tests.shared.sheets.fake_sheets import FakeSheets
from tests.shared.sheets.service_account import install_token_endpoint, write_key_file

BOT = "iron_fly_0dte"
AT = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)


@pytest.fixture
def fake() -> Iterator[FakeSheets]:
    sheets = FakeSheets(title="Iron_Fly_0DTE_Log")
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        sheets.install(mock)
        install_token_endpoint(mock)
        yield sheets


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """CALYPSO_HOME with an operator config (Sheets on, key file) and two queued trades."""
    monkeypatch.setenv("CALYPSO_HOME", str(tmp_path))
    # Real pacing is 4 s between writes; the test runs the same code without the wall waits.
    fast = DeliveryPolicy(writes_per_minute=60_000, reads_per_minute=60_000, max_attempts=2,
                          backoff_base_s=0.001)
    monkeypatch.setattr(sheets_cmd, "POLICY", fast)
    for var in ("GCP_PROJECT", "GOOGLE_CLOUD_PROJECT"):
        monkeypatch.delenv(var, raising=False)
    write_config(tmp_path, enabled=True)
    write_key_file(tmp_path / "keys" / "sheets.json")
    with Journal.open(paths.journal_path(BOT, tmp_path), clock=ManualClock(AT)) as journal:
        for trade_id in (1, 2):
            row = TradeRow(timestamp=AT, trade_id=trade_id, action="CLOSE", pnl_usd=Decimal(5))
            enqueue(journal, row.to_outbox(BOT))
    return tmp_path


def write_config(home: Path, *, enabled: bool) -> None:
    data = json.loads(paths.bot_example_config_path(BOT).read_text())
    data["sheets"] = {
        "enabled": enabled,
        "spreadsheet_name": "Iron_Fly_0DTE_Log",
        "credentials_secret": None,
        "credentials_file": "keys/sheets.json",
    }
    target = paths.bot_config_path(BOT, home)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(json.dumps(data))


def sync_json(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, dict[str, Any]]:
    code = main(["sheets", "sync", BOT, "--json", *args])
    return code, json.loads(capsys.readouterr().out)["bots"][0]


def test_sync_delivers_pending_rows_once(
    home: Path, fake: FakeSheets, capsys: pytest.CaptureFixture[str]
) -> None:
    code, report = sync_json(capsys)

    assert code == 0
    assert report["status"] == "delivered"
    assert report["delivered"] == 2 and report["pending"] == 0
    assert [r["Trade ID"] for r in fake.records("Trades")] == [1, 2]


def test_second_sync_finds_nothing_pending(
    home: Path, fake: FakeSheets, capsys: pytest.CaptureFixture[str]
) -> None:
    sync_json(capsys)

    code, report = sync_json(capsys)

    assert code == 0 and report["status"] == "nothing_pending"
    assert len(fake.records("Trades")) == 2


def test_sync_is_busy_while_the_bots_mirror_holds_the_lock(
    home: Path, fake: FakeSheets, capsys: pytest.CaptureFixture[str]
) -> None:
    lock = FileLock(str(sheets_lock_path(paths.journal_path(BOT, home))), timeout=0)
    with lock:
        code, report = sync_json(capsys)

    assert code == 0 and report["status"] == "busy"
    assert fake.calls == []


def test_sync_reports_sheets_down_with_rows_still_pending(
    home: Path, fake: FakeSheets, capsys: pytest.CaptureFixture[str]
) -> None:
    fake.outage(503)

    code, report = sync_json(capsys)

    assert code == 1
    assert report["status"] == "error" and "503" in report["detail"]
    assert report["pending"] == 2


def test_sync_of_a_bot_with_sheets_disabled_changes_nothing(
    home: Path, fake: FakeSheets, capsys: pytest.CaptureFixture[str]
) -> None:
    write_config(home, enabled=False)

    code, report = sync_json(capsys)

    assert code == 0 and report["status"] == "disabled"
    assert fake.calls == []


def test_unknown_bot_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["sheets", "sync", "iron_condor"]) == 2
    assert "unknown bot 'iron_condor'" in capsys.readouterr().err
