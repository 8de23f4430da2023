"""systemd's notify protocol (READY, STATUS, WATCHDOG, STOPPING) over NOTIFY_SOCKET, stdlib only.

Watchdog rule: call `notify_watchdog()` from the main loop after a healthy iteration, never from
a timer thread (a thread would keep a hung loop looking alive); ping every
`watchdog_interval()` seconds, half of systemd's WatchdogSec.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Mapping


def sd_notify(state: str, *, environ: Mapping[str, str] = os.environ) -> bool:
    """Send `state` (e.g. "READY=1") to systemd; False when not run by systemd.

    `NOTIFY_SOCKET` is an absolute path or, with a leading `@`, a Linux abstract socket name.
    Raises OSError when the socket cannot be reached and ValueError for an address of another
    kind: the caller logs it (systemd may then kill a service that never said READY).
    """
    address = environ.get("NOTIFY_SOCKET", "")
    if not address:
        return False
    if address.startswith("@"):
        target = "\0" + address[1:]
    elif address.startswith("/"):
        target = address
    else:
        raise ValueError(f"NOTIFY_SOCKET must be an absolute path or start with '@': {address!r}")
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC) as sock:
        sock.connect(target)
        sock.sendall(state.encode("utf-8"))
    return True


def notify_ready(*, environ: Mapping[str, str] = os.environ) -> bool:
    """Tell systemd start-up is complete (Type=notify units wait for this)."""
    return sd_notify("READY=1", environ=environ)


def notify_status(text: str, *, environ: Mapping[str, str] = os.environ) -> bool:
    """Set the one-line status `systemctl status` shows (newlines become spaces)."""
    one_line = " ".join(text.split())
    return sd_notify(f"STATUS={one_line}", environ=environ)


def notify_watchdog(*, environ: Mapping[str, str] = os.environ) -> bool:
    """Feed systemd's watchdog (after a healthy loop iteration only)."""
    return sd_notify("WATCHDOG=1", environ=environ)


def notify_stopping(*, environ: Mapping[str, str] = os.environ) -> bool:
    """Tell systemd a clean shutdown has begun."""
    return sd_notify("STOPPING=1", environ=environ)


def watchdog_interval(environ: Mapping[str, str] = os.environ) -> float | None:
    """Seconds between watchdog pings: half of WATCHDOG_USEC; None when no watchdog is set.

    None also when WATCHDOG_PID names another process (the watchdog is not ours). Raises
    ValueError for a malformed WATCHDOG_USEC.
    """
    raw = environ.get("WATCHDOG_USEC", "")
    if not raw:
        return None
    pid = environ.get("WATCHDOG_PID", "")
    if pid and pid.strip() != str(os.getpid()):
        return None
    try:
        usec = int(raw)
    except ValueError as exc:
        raise ValueError(f"WATCHDOG_USEC must be an integer of microseconds, got {raw!r}") from exc
    if usec <= 0:
        return None
    return usec / 2 / 1_000_000
