"""The process boundary of `calypso status` and `calypso health`: systemctl, /proc, disk usage.

Each probe is a small Protocol with one real implementation here; tests pass fakes (or point the
real ones at files under tmp_path). Nothing here changes the system: `systemctl show` only reads.
"""

from __future__ import annotations

import logging
import shutil
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Final, Protocol

from shared.logger_service import kv

logger = logging.getLogger(__name__)

SYSTEMCTL_TIMEOUT_S: Final = 5.0
SHOW_PROPERTIES: Final = ("LoadState", "ActiveState", "SubState", "MainPID")


@dataclass(frozen=True)
class CommandResult:
    """Exit code and standard output of a finished command."""

    returncode: int
    stdout: str


class CommandRunner(Protocol):
    """Runs a command; None when the program does not exist on this machine."""

    def __call__(self, argv: Sequence[str], *, timeout_s: float) -> CommandResult | None: ...


class ServiceProbe(Protocol):
    """systemd's view of a unit: its `systemctl show` properties, or None when systemd cannot
    tell (no systemctl, systemd not running, unit not installed)."""

    def unit_properties(self, unit: str) -> Mapping[str, str] | None: ...


class ProcessProbe(Protocol):
    """Resident memory of a live process in bytes; None when the process does not exist."""

    def rss_bytes(self, pid: int) -> int | None: ...


class DiskProbe(Protocol):
    """Free bytes (for an unprivileged user) on the filesystem holding `path`."""

    def free_bytes(self, path: Path) -> int: ...


@dataclass(frozen=True)
class SystemProbes:
    """The three probes a status or health run needs, injected as one bundle."""

    service: ServiceProbe
    process: ProcessProbe
    disk: DiskProbe


def run_command(argv: Sequence[str], *, timeout_s: float) -> CommandResult | None:
    """Run `argv` without a shell; None when the program is missing. A timeout is exit 124."""
    if shutil.which(argv[0]) is None:
        return None
    try:
        done = subprocess.run(
            list(argv), capture_output=True, text=True, timeout=timeout_s, check=False
        )
    except subprocess.TimeoutExpired:
        logger.warning(kv("command_timeout", command=argv[0], timeout_s=timeout_s))
        return CommandResult(124, "")
    except OSError as exc:
        logger.warning(kv("command_failed", command=argv[0], error=exc.strerror))
        return None
    return CommandResult(done.returncode, done.stdout)


def parse_show_output(text: str) -> dict[str, str]:
    """`systemctl show` output (`Key=value` lines) as a dict; other lines are ignored."""
    properties: dict[str, str] = {}
    for line in text.splitlines():
        key, sep, value = line.partition("=")
        if sep and key.strip():
            properties[key.strip()] = value.strip()
    return properties


class SystemctlProbe:
    """`systemctl show -p LoadState,ActiveState,SubState,MainPID <unit>` through a runner."""

    def __init__(self, runner: CommandRunner = run_command) -> None:
        self._runner = runner

    def unit_properties(self, unit: str) -> Mapping[str, str] | None:
        result = self._runner(
            ["systemctl", "show", "-p", ",".join(SHOW_PROPERTIES), unit],
            timeout_s=SYSTEMCTL_TIMEOUT_S,
        )
        if result is None or result.returncode != 0:
            # No systemctl, or systemd is not PID 1 (containers, CI): fall back to the lock.
            return None
        properties = parse_show_output(result.stdout)
        if properties.get("LoadState", "not-found") in ("not-found", ""):
            return None
        return properties


class ProcStatusProbe:
    """Reads `VmRSS` from `<proc_root>/<pid>/status` (Linux /proc; kB in the file)."""

    def __init__(self, proc_root: Path = Path("/proc")) -> None:
        self._root = proc_root

    def rss_bytes(self, pid: int) -> int | None:
        try:
            text = (self._root / str(pid) / "status").read_text(encoding="ascii", errors="replace")
        except (FileNotFoundError, ProcessLookupError, NotADirectoryError):
            return None
        return parse_vm_rss(text)


def parse_vm_rss(status_text: str) -> int | None:
    """Bytes from the `VmRSS:  1234 kB` line of /proc/<pid>/status; 0 for kernel threads (no
    line), None when the line is malformed."""
    for line in status_text.splitlines():
        if line.startswith("VmRSS:"):
            parts = line.split()
            if len(parts) >= 2 and parts[1].isdigit():
                unit = parts[2].lower() if len(parts) > 2 else "kb"
                scale = {"kb": 1024, "mb": 1024**2, "gb": 1024**3}.get(unit)
                return None if scale is None else int(parts[1]) * scale
            return None
    return 0


class ShutilDiskProbe:
    """Free space from `shutil.disk_usage` (what an unprivileged user may still write)."""

    def free_bytes(self, path: Path) -> int:
        return shutil.disk_usage(path).free


def default_probes() -> SystemProbes:
    """The real probes: systemctl, /proc, shutil.disk_usage."""
    return SystemProbes(service=SystemctlProbe(), process=ProcStatusProbe(), disk=ShutilDiskProbe())
