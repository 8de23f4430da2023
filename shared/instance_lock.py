"""One running process per bot: an exclusive lock on `CALYPSO_HOME/data/<bot>.lock`.

The lock is a kernel `flock` held on an open file for the process lifetime, so it is released by
the kernel however the process ends (SIGKILL included): there is never a stale lock to clean up
and never a reason to kill anything by name. The holder writes its pid into the lock file after
locking it, so a second starter can name the process in the way; the file is never truncated by
a process that does not hold the lock.

Uses `fcntl.flock` directly rather than `filelock`, which silently falls back to a
file-exists lock on filesystems without flock; such a lock would survive a crash and block the
restart systemd is about to attempt.
"""

from __future__ import annotations

import fcntl
import logging
import os
import re
from pathlib import Path

from shared import paths
from shared.logger_service import kv

logger = logging.getLogger(__name__)

_BOT_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]*$")


class InstanceAlreadyRunning(RuntimeError):
    """Another process holds the bot's lock."""

    def __init__(self, bot: str, pid: int | None, lock_path: Path) -> None:
        holder = f"pid {pid}" if pid is not None else "another process (pid unknown)"
        super().__init__(f"bot {bot} is already running: {holder} holds {lock_path}")
        self.bot = bot
        self.pid = pid
        self.lock_path = lock_path


def lock_path(bot: str, home: Path | None = None) -> Path:
    """`CALYPSO_HOME/data/<bot>.lock`; ValueError for a name that is not a plain identifier."""
    if not _BOT_NAME.match(bot):
        raise ValueError(f"invalid bot name for a lock: {bot!r}")
    return paths.data_dir(home) / f"{bot}.lock"


def _read_pid(fd: int) -> int | None:
    try:
        text = os.pread(fd, 32, 0).decode("ascii", "replace").strip()
    except OSError:
        return None
    return int(text) if text.isdigit() else None


def _try_lock(fd: int) -> bool:
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


class InstanceLock:
    """The single-instance lock of `bot`: `acquire()` at start, held until `release()`/exit."""

    def __init__(self, bot: str, home: Path | None = None) -> None:
        self.bot = bot
        self.path = lock_path(bot, home)
        self._fd: int | None = None

    @property
    def held(self) -> bool:
        return self._fd is not None

    def acquire(self) -> InstanceLock:
        """Take the lock without waiting; creates `CALYPSO_HOME/data/` if needed.

        Raises InstanceAlreadyRunning (naming the bot and the holder's pid) when another
        process, or another InstanceLock in this one, holds it.
        """
        if self._fd is not None:
            return self
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
        try:
            if not _try_lock(fd):
                raise InstanceAlreadyRunning(self.bot, _read_pid(fd), self.path)
            os.ftruncate(fd, 0)
            os.pwrite(fd, f"{os.getpid()}\n".encode("ascii"), 0)
        except BaseException:
            os.close(fd)
            raise
        self._fd = fd
        logger.info(kv("instance_lock_acquired", bot=self.bot, pid=os.getpid(), path=self.path))
        return self

    def release(self) -> None:
        """Give the lock up (the pid stays in the file; it is only read while locked)."""
        if self._fd is None:
            return
        fd, self._fd = self._fd, None
        try:
            fcntl.flock(fd, fcntl.LOCK_UN)
        finally:
            os.close(fd)

    def __enter__(self) -> InstanceLock:
        return self.acquire()

    def __exit__(self, *exc_info: object) -> None:
        self.release()


def _probe(bot: str, home: Path | None) -> tuple[bool, int | None]:
    """(held by some process, the holder's pid if readable). Never creates files."""
    path = lock_path(bot, home)
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    except FileNotFoundError:
        return False, None
    try:
        if _try_lock(fd):
            fcntl.flock(fd, fcntl.LOCK_UN)
            return False, None
        return True, _read_pid(fd)
    finally:
        os.close(fd)


def holder_pid(bot: str, home: Path | None = None) -> int | None:
    """The pid holding `bot`'s lock; None when nobody holds it (or its pid is not written yet)."""
    return _probe(bot, home)[1]


def is_held(bot: str, home: Path | None = None) -> bool:
    """True when a process currently holds `bot`'s lock (for `calypso status`)."""
    return _probe(bot, home)[0]
