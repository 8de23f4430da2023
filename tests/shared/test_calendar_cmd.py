"""`calypso calendar`: run through the real CLI entry point and once as a real process."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from shared.cli import calendar_cmd
from shared.cli.main import main
from shared.clock import ManualClock

REPO_ROOT = Path(__file__).resolve().parents[2]
REQUIRED_KEYS = {"date", "trading_day", "open", "close", "early_close", "holiday", "events"}
EVENT_KINDS = {"fomc", "fomc_decision", "cpi", "ppi", "nfp", "earnings"}


def run_json(capsys: pytest.CaptureFixture[str], day: str) -> dict[str, Any]:
    code = main(["calendar", day, "--json"])
    out = capsys.readouterr().out
    assert code == 0
    report: dict[str, Any] = json.loads(out)
    return report


def test_day_after_thanksgiving_is_a_half_day(capsys: pytest.CaptureFixture[str]) -> None:
    report = run_json(capsys, "2026-11-27")

    assert set(report) >= REQUIRED_KEYS
    assert report["date"] == "2026-11-27"
    assert report["trading_day"] is True
    assert report["open"] == "2026-11-27T09:30:00-05:00"
    assert report["close"] == "2026-11-27T13:00:00-05:00"
    assert report["early_close"] is True
    assert report["holiday"] is None
    assert report["index_options_close"] == "2026-11-27T13:15:00-05:00"


@pytest.mark.parametrize(
    ("day", "word"), [("2026-07-03", "Independence Day"), ("2025-01-09", "Carter")]
)
def test_closed_days_have_no_session_and_a_holiday_name(
    capsys: pytest.CaptureFixture[str], day: str, word: str
) -> None:
    report = run_json(capsys, day)

    assert report["trading_day"] is False
    assert report["open"] is None and report["close"] is None
    assert report["early_close"] is False
    assert word in report["holiday"]


def test_fomc_decision_day_lists_both_fomc_kinds(capsys: pytest.CaptureFixture[str]) -> None:
    report = run_json(capsys, "2026-04-29")

    kinds = [event["kind"] for event in report["events"]]
    assert "fomc_decision" in kinds and "fomc" in kinds
    assert set(kinds) <= EVENT_KINDS
    assert all(event["name"] for event in report["events"])


def test_bad_date_exits_2_naming_the_value(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["calendar", "2026-02-30", "--json"])

    captured = capsys.readouterr()
    assert code == 2
    assert "2026-02-30" in captured.err and "YYYY-MM-DD" in captured.err
    assert captured.out == ""


def test_today_and_tomorrow_use_the_new_york_date(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # 03:00Z on Nov 27 is still Thanksgiving evening (22:00) in New York.
    monkeypatch.setattr(
        calendar_cmd, "_CLOCK", ManualClock(datetime(2026, 11, 27, 3, 0, tzinfo=UTC))
    )

    today = run_json(capsys, "today")
    tomorrow = run_json(capsys, "tomorrow")

    assert today["date"] == "2026-11-26" and today["holiday"] == "Thanksgiving Day"
    assert tomorrow["date"] == "2026-11-27" and tomorrow["early_close"] is True


def test_table_output_shows_the_early_close(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["calendar", "2026-11-27"])

    out = capsys.readouterr().out
    assert code == 0
    assert "13:00" in out and "early close" in out and "13:15" in out


def test_real_process_prints_plain_json() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "shared.cli", "calendar", "2026-11-27", "--json"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["close"] == "2026-11-27T13:00:00-05:00" and report["early_close"] is True
