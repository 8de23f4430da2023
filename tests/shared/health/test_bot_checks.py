"""Per-bot health checks against real files under tmp_path and a real journal."""

from __future__ import annotations

import os
import sqlite3
from datetime import timedelta
from pathlib import Path

import pytest

from shared.health.bot_checks import (
    check_journal_writable,
    check_log_fresh,
    check_memory,
    check_recent_errors,
    check_service_running,
)
from shared.health.service import ServiceState
from shared.journal import Journal
from tests.shared.health.factories import BOT, NOW, WEEKEND, FakeProc, write_journal, write_log

GIB = 1024**3


def _running(pid: int | None = 4242) -> ServiceState:
    return ServiceState(BOT, f"{BOT}.service", "systemd", True, "active (running)", pid)


# --- service_running -------------------------------------------------------------------------


def test_service_check_passes_for_an_active_unit() -> None:
    assert check_service_running(_running()).ok


def test_service_check_for_a_failed_unit_points_at_the_unit_journal() -> None:
    state = ServiceState(BOT, f"{BOT}.service", "systemd", False, "failed (failed)", None)
    verdict = check_service_running(state)
    assert not verdict.ok
    assert f"journalctl -u {BOT}" in verdict.reason


# --- log_fresh -------------------------------------------------------------------------------


def test_log_written_recently_during_market_hours_is_fresh(tmp_path: Path) -> None:
    write_log(tmp_path, BOT, ["x"], modified=NOW - timedelta(minutes=29))
    assert check_log_fresh(BOT, home=tmp_path, now=NOW).ok


def test_log_silent_for_over_30_minutes_during_market_hours_fails(tmp_path: Path) -> None:
    write_log(tmp_path, BOT, ["x"], modified=NOW - timedelta(minutes=31))
    verdict = check_log_fresh(BOT, home=tmp_path, now=NOW)
    assert not verdict.ok
    assert verdict.details["market_open"] is True


def test_old_log_outside_market_hours_passes(tmp_path: Path) -> None:
    write_log(tmp_path, BOT, ["x"], modified=WEEKEND - timedelta(hours=20))
    verdict = check_log_fresh(BOT, home=tmp_path, now=WEEKEND)
    assert verdict.ok
    assert "market closed" in verdict.reason


def test_missing_log_fails_even_outside_market_hours(tmp_path: Path) -> None:
    verdict = check_log_fresh(BOT, home=tmp_path, now=WEEKEND)
    assert not verdict.ok
    assert "no log file" in verdict.reason


# --- memory ----------------------------------------------------------------------------------


def test_memory_under_one_gib_passes() -> None:
    verdict = check_memory(_running(4242), FakeProc({4242: 300 * 2**20}))
    assert verdict.ok
    assert verdict.details["rss_mib"] == 300.0


def test_memory_at_one_gib_fails() -> None:
    assert not check_memory(_running(4242), FakeProc({4242: GIB})).ok


def test_memory_of_a_stopped_bot_fails_with_a_reason() -> None:
    stopped = ServiceState(BOT, f"{BOT}.service", "lock", False, "not running", None)
    verdict = check_memory(stopped, FakeProc())
    assert not verdict.ok
    assert "not running" in verdict.reason


def test_memory_of_a_vanished_pid_fails() -> None:
    assert not check_memory(_running(999_999), FakeProc()).ok


# --- journal_writable ------------------------------------------------------------------------


def test_real_journal_is_writable_and_reports_its_schema_version(tmp_path: Path) -> None:
    path = write_journal(tmp_path)
    verdict = check_journal_writable(BOT, home=tmp_path)
    assert verdict.ok, verdict.reason
    assert verdict.details["schema_version"] >= 1
    assert verdict.details["path"] == str(path)


def test_journal_check_leaves_the_data_unchanged(tmp_path: Path) -> None:
    path = write_journal(tmp_path)
    before = _dump(path)
    check_journal_writable(BOT, home=tmp_path)
    assert _dump(path) == before


def test_journal_check_does_not_block_a_writer_holding_the_write_lock(tmp_path: Path) -> None:
    path = write_journal(tmp_path)
    writer = sqlite3.connect(path, isolation_level=None)
    writer.execute("BEGIN IMMEDIATE")
    try:
        verdict = check_journal_writable(BOT, home=tmp_path)
    finally:
        writer.execute("ROLLBACK")
        writer.close()
    assert verdict.ok, verdict.reason


def test_missing_journal_fails_with_a_reason(tmp_path: Path) -> None:
    verdict = check_journal_writable(BOT, home=tmp_path)
    assert not verdict.ok
    assert "no journal" in verdict.reason


def test_file_that_is_not_a_journal_fails(tmp_path: Path) -> None:
    path = tmp_path / "data" / f"{BOT}.sqlite"
    path.parent.mkdir(parents=True)
    path.write_bytes(b"this is not a database" * 100)
    verdict = check_journal_writable(BOT, home=tmp_path)
    assert not verdict.ok
    assert str(path) in verdict.reason


@pytest.mark.skipif(os.geteuid() == 0, reason="root may write any file")
def test_read_only_journal_file_fails(tmp_path: Path) -> None:
    path = write_journal(tmp_path)
    path.chmod(0o444)
    verdict = check_journal_writable(BOT, home=tmp_path)
    assert not verdict.ok
    assert "not readable and writable" in verdict.reason


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to give a file another owner")
def test_side_file_owned_by_another_user_fails(tmp_path: Path) -> None:
    path = write_journal(tmp_path)
    shm = path.with_name(path.name + "-shm")
    shm.write_bytes(b"")
    os.chown(shm, 65534, 65534)
    verdict = check_journal_writable(BOT, home=tmp_path)
    assert not verdict.ok
    assert "belongs to uid 65534" in verdict.reason


def _dump(path: Path) -> list[str]:
    with Journal.open_readonly(path) as journal:
        return [repr(journal.trades()), repr(journal.load_state(BOT)), repr(journal.positions())]


# --- recent_errors ---------------------------------------------------------------------------


def _line(minutes_ago: int, level: str, message: str) -> str:
    at = (NOW - timedelta(minutes=minutes_ago)).astimezone()
    return f"{at.isoformat(timespec='milliseconds')} {level} bots.x: {message}"


def test_error_lines_inside_the_window_fail_the_check(tmp_path: Path) -> None:
    write_log(
        tmp_path,
        BOT,
        [
            _line(40, "ERROR", "old failure"),
            _line(10, "INFO", "tick"),
            _line(5, "ERROR", "order_rejected reason=WouldExceedMargin"),
            "Traceback (most recent call last):",
        ],
        modified=NOW,
    )
    verdict = check_recent_errors(BOT, home=tmp_path, now=NOW)
    assert not verdict.ok
    assert verdict.details["count"] == 1
    assert "WouldExceedMargin" in verdict.reason


def test_only_old_errors_pass(tmp_path: Path) -> None:
    write_log(tmp_path, BOT, [_line(16, "ERROR", "old"), _line(1, "WARNING", "meh")], modified=NOW)
    assert check_recent_errors(BOT, home=tmp_path, now=NOW).ok


def test_errors_just_rotated_into_bot_log_1_are_found(tmp_path: Path) -> None:
    write_log(tmp_path, BOT, [_line(1, "INFO", "fresh file")], modified=NOW)
    rotated = tmp_path / "logs" / BOT / "bot.log.1"
    rotated.write_text(_line(3, "CRITICAL", "stream dead") + "\n", "utf-8")
    verdict = check_recent_errors(BOT, home=tmp_path, now=NOW)
    assert not verdict.ok
    assert verdict.details["count"] == 1


def test_error_messages_are_redacted_in_the_verdict(tmp_path: Path) -> None:
    write_log(
        tmp_path,
        BOT,
        [_line(2, "ERROR", "auth failed Authorization: Bearer abc.def.ghi")],
        modified=NOW,
    )
    verdict = check_recent_errors(BOT, home=tmp_path, now=NOW)
    assert "abc.def.ghi" not in verdict.reason
    assert "abc.def.ghi" not in str(verdict.details)
