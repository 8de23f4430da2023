"""Is a bot running? systemd's answer when its unit is installed, else the single-instance lock."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from shared import instance_lock, paths
from shared.health.probes import ServiceProbe

Source = Literal["systemd", "lock"]


@dataclass(frozen=True)
class ServiceState:
    """How a bot's process stands. `state` is display text such as `active (running)`."""

    bot: str
    unit: str
    source: Source
    running: bool
    state: str
    pid: int | None

    def to_json(self) -> dict[str, Any]:
        return {
            "unit": self.unit,
            "source": self.source,
            "running": self.running,
            "state": self.state,
            "pid": self.pid,
        }


def unit_name(bot: str) -> str:
    """The systemd unit that runs `bot` (deploy/systemd/<bot>.service)."""
    return f"{bot}.service"


def service_state(bot: str, *, home: Path, probe: ServiceProbe) -> ServiceState:
    """The state of `bot`: from `systemctl show` when systemd knows its unit, else from the lock
    file `CALYPSO_HOME/data/<bot>.lock` (a bot run by hand or under `calypso demo`).

    Never raises for a missing unit, lock file or systemctl; reading changes nothing.
    """
    unit = unit_name(bot)
    properties = probe.unit_properties(unit)
    if properties is not None:
        active = properties.get("ActiveState", "unknown")
        sub = properties.get("SubState", "unknown")
        pid_text = properties.get("MainPID", "0")
        pid = int(pid_text) if pid_text.isdigit() and int(pid_text) > 0 else None
        return ServiceState(bot, unit, "systemd", active == "active", f"{active} ({sub})", pid)
    try:
        held = instance_lock.is_held(bot, home)
        pid = instance_lock.holder_pid(bot, home) if held else None
    except OSError as exc:
        return ServiceState(bot, unit, "lock", False, f"lock unreadable: {exc.strerror}", None)
    if held:
        holder = f"pid {pid}" if pid is not None else "pid unknown"
        return ServiceState(bot, unit, "lock", True, f"running (lock held by {holder})", pid)
    return ServiceState(
        bot, unit, "lock", False, "not running (unit not installed, lock free)", None
    )


BOTS_ENV_VAR = "CALYPSO_BOTS"


def selected_bots(requested: Sequence[str] | None, environ: Mapping[str, str]) -> list[str]:
    """The bots to report on: `requested` (from `--bot`), else $CALYPSO_BOTS (names separated
    by spaces or commas: the bots this VM runs), else every bot. Order follows BOT_NAMES.

    Raises ValueError naming an unknown bot and listing the valid ones.
    """
    if requested:
        names = list(requested)
        source = "--bot"
    else:
        names = environ.get(BOTS_ENV_VAR, "").replace(",", " ").split()
        source = f"${BOTS_ENV_VAR}"
    if not names:
        return list(paths.BOT_NAMES)
    unknown = [name for name in names if name not in paths.BOT_NAMES]
    if unknown:
        raise ValueError(
            f"unknown bot {unknown[0]!r} in {source}; valid bots: {', '.join(paths.BOT_NAMES)}"
        )
    return [bot for bot in paths.BOT_NAMES if bot in names]
