"""`calypso status`: service state, bot state, open position and today's P&L from real journals."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from shared import paths
from shared.cli import status_cmd
from shared.cli.main import main
from shared.clock import ManualClock
from shared.event_overlay import save_overlay
from shared.instance_lock import InstanceLock
from tests.shared.calendar_files import macro_overlay_2027
from tests.shared.health.factories import (
    BOT,
    NOW,
    OPEN_NET_CASH_USD,
    TODAY_PNL_USD,
    active_unit,
    fake_probes,
    write_journal,
)


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """CALYPSO_HOME in tmp_path, the clock at NOW, no systemd units installed."""
    monkeypatch.setenv("CALYPSO_HOME", str(tmp_path))
    monkeypatch.delenv("CALYPSO_BOTS", raising=False)
    monkeypatch.setattr(status_cmd, "_CLOCK", ManualClock(NOW))
    monkeypatch.setattr(status_cmd, "_PROBES", fake_probes)
    return tmp_path


def _status(
    capsys: pytest.CaptureFixture[str], *args: str, exit_code: int = 0
) -> dict[str, Any]:
    assert main(["status", "--json", *args]) == exit_code
    document: dict[str, Any] = json.loads(capsys.readouterr().out)
    return document


def _bot(document: dict[str, Any], bot: str) -> dict[str, Any]:
    return next(row for row in document["bots"] if row["bot"] == bot)


def test_bots_without_journals_report_no_journal_yet(
    home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    document = _status(capsys)
    assert [row["bot"] for row in document["bots"]] == [
        "iron_fly_0dte",
        "delta_neutral",
        "rolling_put_diagonal",
    ]
    for row in document["bots"]:
        assert row["problem"] == "no journal yet"
        assert row["service"]["running"] is False


def test_state_open_position_and_todays_pnl_come_from_the_journal(
    home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write_journal(home)
    row = _bot(_status(capsys), BOT)
    assert row["problem"] is None
    assert row["state"]["name"] == "in_position"
    (trade,) = row["open_trades"]
    assert trade["legs"] == {"short_call": -1, "short_put": -1, "long_call": 1, "long_put": 1}
    assert trade["net_cash_usd"] == OPEN_NET_CASH_USD
    assert len(row["positions"]["items"]) == 4


def test_todays_pnl_uses_the_new_york_date(home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # The journal also holds a trade closed Monday 21:00 New York (already Tuesday in UTC);
    # it must not count in Tuesday's P&L.
    write_journal(home)
    today = _bot(_status(capsys), BOT)["today"]
    assert today == {
        "date": "2026-03-03",
        "realized_pnl_usd": TODAY_PNL_USD,
        "commissions_usd": 2.61,
        "trades_closed": 1,
    }


def test_service_state_comes_from_systemd_when_the_unit_is_installed(
    home: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    probes = fake_probes(units={"delta_neutral.service": active_unit(31337)})
    monkeypatch.setattr(status_cmd, "_PROBES", lambda: probes)
    service = _bot(_status(capsys), "delta_neutral")["service"]
    assert service == {
        "unit": "delta_neutral.service",
        "source": "systemd",
        "running": True,
        "state": "active (running)",
        "pid": 31337,
    }


def test_a_bot_run_by_hand_is_seen_through_its_lock(
    home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with InstanceLock("rolling_put_diagonal", home):
        service = _bot(_status(capsys), "rolling_put_diagonal")["service"]
    assert (service["source"], service["running"]) == ("lock", True)


def test_table_shows_state_position_and_pnl(home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write_journal(home)
    assert main(["status", "--bot", BOT]) == 0
    out = capsys.readouterr().out
    assert "in_position" in out
    assert "fly 5825" in out
    assert "$247.39" in out
    assert "delta_neutral" not in out


def test_unknown_bot_is_a_usage_error(home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["status", "--bot", "iron_condor"]) == 2
    assert "unknown bot 'iron_condor'" in capsys.readouterr().err


def test_unreadable_journal_is_reported_not_raised(
    home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = home / "data" / f"{BOT}.sqlite"
    path.parent.mkdir(parents=True)
    path.write_bytes(b"garbage" * 500)
    row = _bot(_status(capsys, exit_code=1), BOT)
    assert row["problem"].startswith("journal unreadable")


def test_a_day_without_event_data_is_shown_until_the_year_is_imported(
    home: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(status_cmd, "_CLOCK", ManualClock(datetime(2027, 1, 4, 15, tzinfo=UTC)))
    facts = _status(capsys)["event_data"]
    assert facts["no_data_today"] == ["cpi", "ppi", "nfp", "earnings"]
    assert facts["assumed_event_today"] == ["cpi", "ppi", "nfp"]
    assert main(["status"]) == 0
    assert "NO cpi, ppi, nfp, earnings data for today" in capsys.readouterr().out

    save_overlay(paths.events_overlay_path(home), macro_overlay_2027())

    facts = _status(capsys)["event_data"]
    assert facts["no_data_today"] == ["earnings"] and facts["assumed_event_today"] == []
    assert facts["covered_through"]["cpi"] == "2027-12-31"
