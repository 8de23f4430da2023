"""sd_notify over a real AF_UNIX datagram socket, and the watchdog interval."""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from shared.systemd_notify import (
    notify_ready,
    notify_status,
    notify_stopping,
    notify_watchdog,
    sd_notify,
    watchdog_interval,
)


@pytest.fixture
def listener(tmp_path: Path) -> Iterator[tuple[socket.socket, str]]:
    """A datagram socket bound in tmp_path, as systemd's NOTIFY_SOCKET would be."""
    path = tmp_path / "n.sock"
    assert len(str(path)) < 100, "AF_UNIX paths must stay under 108 bytes"
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(str(path))
    sock.settimeout(2)
    yield sock, str(path)
    sock.close()


def test_ready_and_watchdog_reach_the_socket(listener: tuple[socket.socket, str]) -> None:
    sock, path = listener
    env = {"NOTIFY_SOCKET": path}
    assert notify_ready(environ=env) is True
    assert notify_watchdog(environ=env) is True
    assert sock.recv(256) == b"READY=1"
    assert sock.recv(256) == b"WATCHDOG=1"


def test_status_is_one_line_and_stopping_is_sent(listener: tuple[socket.socket, str]) -> None:
    sock, path = listener
    env = {"NOTIFY_SOCKET": path}
    notify_status("holding iron fly\nP&L +42.00", environ=env)
    notify_stopping(environ=env)
    assert sock.recv(256) == b"STATUS=holding iron fly P&L +42.00"
    assert sock.recv(256) == b"STOPPING=1"


def test_abstract_namespace_socket_is_used_for_a_leading_at() -> None:
    name = f"calypso-test-{uuid.uuid4().hex}"
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        sock.bind("\0" + name)
        sock.settimeout(2)
        assert sd_notify("READY=1", environ={"NOTIFY_SOCKET": "@" + name}) is True
        assert sock.recv(256) == b"READY=1"


def test_not_under_systemd_returns_false() -> None:
    assert sd_notify("READY=1", environ={}) is False
    assert notify_watchdog(environ={"NOTIFY_SOCKET": ""}) is False


def test_a_missing_socket_raises_for_the_caller_to_log(tmp_path: Path) -> None:
    with pytest.raises(OSError):
        sd_notify("READY=1", environ={"NOTIFY_SOCKET": str(tmp_path / "gone.sock")})


def test_a_relative_socket_address_is_refused() -> None:
    with pytest.raises(ValueError, match="NOTIFY_SOCKET"):
        sd_notify("READY=1", environ={"NOTIFY_SOCKET": "run/notify"})


def test_watchdog_interval_is_half_of_watchdog_usec() -> None:
    assert watchdog_interval({"WATCHDOG_USEC": "30000000"}) == 15.0
    assert (
        watchdog_interval({"WATCHDOG_USEC": "30000000", "WATCHDOG_PID": str(os.getpid())}) == 15.0
    )


def test_watchdog_interval_is_none_without_a_watchdog_for_this_process() -> None:
    assert watchdog_interval({}) is None
    assert watchdog_interval({"WATCHDOG_USEC": "0"}) is None
    assert watchdog_interval({"WATCHDOG_USEC": "30000000", "WATCHDOG_PID": "1"}) is None


def test_a_malformed_watchdog_usec_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="WATCHDOG_USEC"):
        watchdog_interval({"WATCHDOG_USEC": "30s"})
