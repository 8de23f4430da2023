"""One bot as a real process for the demo: start, watch, SIGTERM, exit code."""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from shared import paths
from shared.clock import Clock, WallClock
from shared.logger_service import kv

logger = logging.getLogger(__name__)

STOP_GRACE_S = 10.0  # a bot must exit within this many real seconds of SIGTERM
KILL_AFTER_S = 15.0
# Variables that would make a demo bot talk to systemd or change its strategy's journal format.
_DROPPED_ENV = ("NOTIFY_SOCKET", "WATCHDOG_USEC", "WATCHDOG_PID", "JOURNAL_STREAM")


@dataclass(frozen=True)
class StopResult:
    """How a bot process ended: `exit_code` (negative = killed by that signal), real seconds
    from SIGTERM to exit (None when it had already exited), whether it had to be SIGKILLed."""

    exit_code: int
    stop_seconds: float | None
    killed: bool


class BotProcess:
    """`python -m shared.cli run BOT --env local --sim-url URL --config EXAMPLE` with
    CALYPSO_HOME set; stdout and stderr go to `console_log`. Own session, so a terminal's
    Ctrl-C reaches only the demo, which then stops the bots in order."""

    def __init__(
        self, bot: str, *, sim_url: str, home: Path, console_log: Path, clock: Clock | None = None
    ) -> None:
        self.bot = bot
        self.console_log = console_log
        self._clock = clock or WallClock()
        env = {key: value for key, value in os.environ.items() if key not in _DROPPED_ENV}
        env["CALYPSO_HOME"] = str(home)
        command = [
            sys.executable, "-m", "shared.cli", "run", bot, "--env", "local",
            "--sim-url", sim_url, "--config", str(paths.bot_example_config_path(bot)),
        ]  # fmt: skip
        console_log.parent.mkdir(parents=True, exist_ok=True)
        self._out: IO[bytes] = console_log.open("wb")
        self._proc = subprocess.Popen(
            command,
            cwd=paths.code_root(),
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=self._out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.pid = self._proc.pid
        self.result: StopResult | None = None
        logger.info(kv("demo_bot_started", bot=bot, pid=self.pid))

    def poll(self) -> int | None:
        """The exit code if the process has ended (recorded), else None."""
        code = self._proc.poll()
        if code is not None and self.result is None:
            self.result = StopResult(code, None, killed=False)
            self._out.close()
            logger.warning(kv("demo_bot_exited", bot=self.bot, pid=self.pid, exit_code=code))
        return code

    def send_stop(self) -> float | None:
        """SIGTERM if still running; returns the real monotonic time it was sent (else None)."""
        if self.poll() is not None:
            return None
        self._proc.send_signal(signal.SIGTERM)
        return self._clock.monotonic()

    def wait_stopped(self, sent_at: float | None) -> StopResult:
        """Wait for the exit after `send_stop`; SIGKILL after KILL_AFTER_S real seconds."""
        if sent_at is None or self.result is not None:
            assert self.result is not None
            return self.result
        killed = False
        try:
            left = max(0.0, sent_at + KILL_AFTER_S - self._clock.monotonic())
            code = self._proc.wait(timeout=left)
        except subprocess.TimeoutExpired:
            self._proc.kill()
            code = self._proc.wait()
            killed = True
        took = self._clock.monotonic() - sent_at
        self.result = StopResult(code, took, killed)
        self._out.close()
        logger.info(kv(
            "demo_bot_stopped",
            bot=self.bot,
            pid=self.pid,
            exit_code=code,
            seconds=took,
            killed=killed,
        ))  # fmt: skip
        return self.result

    def tail(self, lines: int = 15) -> list[str]:
        """The last `lines` lines the process printed (for a bot that died)."""
        try:
            text = self.console_log.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return []
        return text.splitlines()[-lines:]
