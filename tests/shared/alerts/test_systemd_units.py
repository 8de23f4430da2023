"""The shipped systemd units alert: every bot and the token keeper after an unclean stop
(`ExecStopPost=`), and they and the health check when they enter `failed` (`OnFailure=`), through
the `calypso alerts notify-unit` command the CLI really parses."""

from __future__ import annotations

import shlex
from pathlib import Path

import pytest

from shared import paths
from shared.cli.main import build_parser

UNITS = Path(__file__).resolve().parents[3] / "deploy" / "systemd"
DAEMONS = [f"{bot}.service" for bot in paths.BOT_NAMES] + ["calypso-token-keeper.service"]


def directives(unit: str) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for line in (UNITS / unit).read_text().splitlines():
        line = line.strip()
        if line and not line.startswith(("#", ";", "[")) and "=" in line:
            key, value = line.split("=", 1)
            found.setdefault(key.strip(), []).append(value.strip())
    return found


def calypso_args(command: str) -> list[str]:
    """The arguments after the `calypso` executable of an Exec line (`-` prefix: failure ok)."""
    executable, *args = shlex.split(command.removeprefix("-"))
    assert executable.endswith("/calypso"), command
    return args


@pytest.mark.parametrize("unit", DAEMONS)
def test_a_daemon_alerts_after_an_unclean_stop_and_when_it_fails(unit: str) -> None:
    found = directives(unit)
    (stop_post,) = found["ExecStopPost"]
    assert stop_post.startswith("-")  # a failed alert never fails the unit's stop
    args = calypso_args(stop_post)
    assert args == ["alerts", "notify-unit", "%n"]
    parsed = build_parser().parse_args([*args[:-1], unit])
    assert parsed.unit == unit and not parsed.failed
    assert found["OnFailure"] == ["calypso-alert@%n.service"]


def test_the_health_check_alerts_when_it_fails() -> None:
    assert directives("calypso-health.service")["OnFailure"] == ["calypso-alert@%n.service"]


def test_the_failure_template_runs_notify_unit_failed_for_the_failed_unit() -> None:
    (start,) = directives("calypso-alert@.service")["ExecStart"]
    args = calypso_args(start)
    assert args == ["alerts", "notify-unit", "%i", "--failed"]
    parsed = build_parser().parse_args(["alerts", "notify-unit", "calypso-health.service",
                                        "--failed"])  # fmt: skip
    assert parsed.failed and parsed.func.__name__ == "run_notify_unit"
