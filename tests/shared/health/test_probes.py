"""The process-boundary probes: `systemctl show` parsing through a fake runner, /proc files."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from shared.health.probes import (
    CommandResult,
    ProcStatusProbe,
    SystemctlProbe,
    parse_vm_rss,
    run_command,
)

LOADED = "LoadState=loaded\nActiveState=active\nSubState=running\nMainPID=4242\n"


class Runner:
    """Records the argv and answers like systemctl would."""

    def __init__(self, result: CommandResult | None) -> None:
        self.result = result
        self.calls: list[list[str]] = []

    def __call__(self, argv: Sequence[str], *, timeout_s: float) -> CommandResult | None:
        self.calls.append(list(argv))
        return self.result


def test_systemctl_probe_asks_show_for_the_four_properties_of_the_unit() -> None:
    runner = Runner(CommandResult(0, LOADED))
    properties = SystemctlProbe(runner).unit_properties("delta_neutral.service")
    assert runner.calls == [
        [
            "systemctl",
            "show",
            "-p",
            "LoadState,ActiveState,SubState,MainPID",
            "delta_neutral.service",
        ]
    ]
    assert properties == {
        "LoadState": "loaded",
        "ActiveState": "active",
        "SubState": "running",
        "MainPID": "4242",
    }


def test_unit_that_systemd_does_not_know_reads_as_not_installed() -> None:
    # systemctl show exits 0 for an unknown unit and says LoadState=not-found.
    runner = Runner(CommandResult(0, "LoadState=not-found\nActiveState=inactive\nMainPID=0\n"))
    assert SystemctlProbe(runner).unit_properties("iron_fly_0dte.service") is None


def test_systemd_not_running_or_no_systemctl_reads_as_unknown() -> None:
    # In a container: "System has not been booted with systemd" and exit 1.
    assert SystemctlProbe(Runner(CommandResult(1, ""))).unit_properties("x.service") is None
    assert SystemctlProbe(Runner(None)).unit_properties("x.service") is None


def test_run_command_reports_a_missing_program_as_none() -> None:
    assert run_command(["calypso-no-such-program-xyz"], timeout_s=1.0) is None


def test_run_command_returns_exit_code_and_stdout_of_a_real_program() -> None:
    assert run_command(["sh", "-c", "echo hi; exit 3"], timeout_s=5.0) == CommandResult(3, "hi\n")


def test_vm_rss_is_read_in_bytes_from_a_proc_status_file(tmp_path: Path) -> None:
    (tmp_path / "77").mkdir()
    (tmp_path / "77" / "status").write_text(
        "Name:\tpython\nVmPeak:\t  900000 kB\nVmRSS:\t  204800 kB\nThreads:\t4\n", "ascii"
    )
    assert ProcStatusProbe(tmp_path).rss_bytes(77) == 204800 * 1024


def test_missing_process_has_no_rss(tmp_path: Path) -> None:
    assert ProcStatusProbe(tmp_path).rss_bytes(12345) is None


def test_rss_of_this_very_process_is_plausible() -> None:
    rss = ProcStatusProbe().rss_bytes(os.getpid())
    assert rss is not None and 10 * 2**20 < rss < 8 * 2**30


def test_kernel_threads_without_vmrss_count_as_zero() -> None:
    assert parse_vm_rss("Name:\tkthreadd\nState:\tS\n") == 0
