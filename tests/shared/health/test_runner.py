"""The whole health run: all checks pass on a healthy machine; a crashing check is a failure."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from shared.clock import ManualClock
from shared.health.probes import SystemProbes
from shared.health.runner import run_health
from shared.health.verdict import all_ok, report_json
from tests.shared.health.factories import (
    NOW,
    FakeProc,
    FakeSystemd,
    active_unit,
    fake_probes,
    token_entry,
    write_config,
    write_journal,
    write_log,
    write_token_cache,
)

BOTS = ["iron_fly_0dte", "delta_neutral", "rolling_put_diagonal"]


@pytest.fixture(autouse=True)
def _no_keeper_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CALYPSO_SAXO_ENV", raising=False)


def _healthy_home(home: Path) -> SystemProbes:
    for bot in BOTS:
        write_journal(home, bot)
        write_log(home, bot, ["ok"], modified=NOW - timedelta(minutes=2))
        write_config(home, bot, "live")
    entry = token_entry(
        NOW,
        access_in=timedelta(minutes=15),
        refresh_in=timedelta(minutes=55),
        age=timedelta(minutes=5),
    )
    write_token_cache(home, {"live": entry})
    units = {f"{bot}.service": active_unit(1000 + i) for i, bot in enumerate(BOTS)}
    return fake_probes(units=units, rss={1000: 2**28, 1001: 2**28, 1002: 2**28})


def test_healthy_machine_passes_every_check(tmp_path: Path) -> None:
    probes = _healthy_home(tmp_path)
    verdicts = run_health(home=tmp_path, bots=BOTS, clock=ManualClock(NOW), probes=probes)
    assert [v.reason for v in verdicts if not v.ok] == []
    assert len(verdicts) == 5 * len(BOTS) + 4
    assert report_json(verdicts)["ok"] is True


def test_one_stopped_bot_makes_the_run_unhealthy_and_is_logged(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    probes = _healthy_home(tmp_path)
    assert isinstance(probes.service, FakeSystemd)
    probes.service.units["delta_neutral.service"] = {
        "LoadState": "loaded",
        "ActiveState": "failed",
        "SubState": "failed",
        "MainPID": "0",
    }
    with caplog.at_level(logging.INFO, logger="shared.health.runner"):
        verdicts = run_health(home=tmp_path, bots=BOTS, clock=ManualClock(NOW), probes=probes)
    failed = {(v.name, v.bot) for v in verdicts if not v.ok}
    assert failed == {("service_running", "delta_neutral"), ("memory", "delta_neutral")}
    assert not all_ok(verdicts)
    summary = [r for r in caplog.records if r.getMessage().startswith("health_summary")]
    assert summary[-1].levelno == logging.WARNING
    assert "service_running:delta_neutral" in summary[-1].getMessage()


class ExplodingDisk:
    def free_bytes(self, path: Path) -> int:
        raise RuntimeError("probe bug")


def test_a_crashing_check_fails_alone_and_the_others_still_run(tmp_path: Path) -> None:
    probes = _healthy_home(tmp_path)
    broken = SystemProbes(
        service=probes.service,
        process=FakeProc({1000: 2**28, 1001: 2**28, 1002: 2**28}),
        disk=ExplodingDisk(),
    )
    verdicts = run_health(home=tmp_path, bots=BOTS, clock=ManualClock(NOW), probes=broken)
    failed = [v for v in verdicts if not v.ok]
    assert [(v.name, v.reason) for v in failed] == [
        ("disk_space", "check crashed: RuntimeError: probe bug")
    ]


def test_a_passed_check_with_a_warning_is_logged_as_a_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    probes = _healthy_home(tmp_path)
    clock = ManualClock(datetime(2026, 11, 20, 15, tzinfo=UTC))  # 41 days before 2026-12-31

    with caplog.at_level(logging.INFO, logger="shared.health.runner"):
        verdicts = run_health(home=tmp_path, bots=BOTS, clock=clock, probes=probes)

    calendar = next(v for v in verdicts if v.name == "event_calendar_horizon")
    assert calendar.ok and calendar.warning
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert any(m.startswith("health_warning check=event_calendar_horizon") for m in warnings)
