"""The per-bot single-instance lock, contended by a real second process."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from shared.instance_lock import InstanceAlreadyRunning, InstanceLock, holder_pid, is_held

BOT = "delta_neutral"

HOLDER = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from shared.instance_lock import InstanceLock
    lock = InstanceLock(sys.argv[1], Path(sys.argv[2])).acquire()
    print("locked", flush=True)
    sys.stdin.read()  # hold until the parent closes stdin or kills us
    """
)


@pytest.fixture
def holder(tmp_path: Path) -> Iterator[subprocess.Popen[str]]:
    """A separate process holding BOT's lock under tmp_path."""
    proc = subprocess.Popen(
        [sys.executable, "-c", HOLDER, BOT, str(tmp_path)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == "locked"
    yield proc
    if proc.poll() is None:
        proc.kill()
    proc.wait(timeout=10)


def test_a_second_acquirer_fails_fast_naming_the_bot_and_pid(
    tmp_path: Path, holder: subprocess.Popen[str]
) -> None:
    with pytest.raises(InstanceAlreadyRunning) as caught:
        InstanceLock(BOT, tmp_path).acquire()
    assert caught.value.pid == holder.pid
    assert f"bot {BOT} is already running: pid {holder.pid}" in str(caught.value)


def test_status_sees_the_lock_held_by_another_process(
    tmp_path: Path, holder: subprocess.Popen[str]
) -> None:
    assert is_held(BOT, tmp_path)
    assert holder_pid(BOT, tmp_path) == holder.pid
    assert not is_held("iron_fly_0dte", tmp_path)


def test_the_lock_is_free_again_after_the_holder_is_killed(
    tmp_path: Path, holder: subprocess.Popen[str]
) -> None:
    os.kill(holder.pid, signal.SIGKILL)
    holder.wait(timeout=10)
    with InstanceLock(BOT, tmp_path) as lock:
        assert lock.held
        assert holder_pid(BOT, tmp_path) == os.getpid()
    assert not is_held(BOT, tmp_path)


def test_two_locks_in_one_process_also_exclude_each_other(tmp_path: Path) -> None:
    with InstanceLock(BOT, tmp_path), pytest.raises(InstanceAlreadyRunning):
        InstanceLock(BOT, tmp_path).acquire()


def test_lock_lives_under_calypso_home_data(tmp_path: Path) -> None:
    with InstanceLock(BOT, tmp_path) as lock:
        assert lock.path == tmp_path / "data" / f"{BOT}.lock"
        assert lock.path.read_text().strip() == str(os.getpid())


def test_checking_status_never_creates_files(tmp_path: Path) -> None:
    assert not is_held(BOT, tmp_path)
    assert not (tmp_path / "data").exists()


def test_a_bot_name_with_a_path_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="invalid bot name"):
        InstanceLock("../etc/passwd", tmp_path)
