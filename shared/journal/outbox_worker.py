"""The background thread that delivers one channel of a journal's outbox (Sheets, alerts).

The trading loop only queues rows (local SQLite) and calls `notify()` (sets an event, never
blocks). The thread opens its OWN journal connection, holds the channel's lock file (so a CLI
flush of the same outbox cannot deliver the same rows at the same time), and loops: wait for a
notify or `idle_interval_s`, flush, and during an outage back off from `outage_backoff_s`
doubling up to `outage_backoff_max_s`. Undelivered rows simply stay in the outbox, across
restarts. A subclass says how to build its channel's sender (`_connect`) and names the thread
and log lines (`topic`, `thread_prefix`).
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import ClassVar, Protocol

from filelock import FileLock, Timeout

from shared.clock import Clock
from shared.journal.store import Journal
from shared.logger_service import kv

logger = logging.getLogger(__name__)


class SenderStopped(Exception):
    """The sender was asked to stop while waiting; nothing more was sent."""


class FlushOutcome(Protocol):
    """What a sender's `flush` reports."""

    @property
    def ok(self) -> bool: ...

    considered: int
    delivered: int
    error: str | None


class OutboxFlusher(Protocol):
    def flush(self, limit: int | None = None) -> FlushOutcome: ...


@dataclass(frozen=True)
class MirrorStatus:
    """A snapshot for status and health output; times UTC."""

    running: bool
    last_success_at: datetime | None
    last_error: str | None
    consecutive_failures: int
    delivered_total: int


class OutboxWorker:
    """Delivers one outbox channel of `bot`'s journal from a daemon thread."""

    enabled = True
    topic: ClassVar[str] = "outbox"
    thread_prefix: ClassVar[str] = "outbox-sender"

    def __init__(
        self,
        *,
        bot: str,
        journal_path: Path,
        lock_path: Path,
        clock: Clock,
        batch_rows: int,
        idle_interval_s: float = 5.0,
        batch_window_s: float = 0.5,
        outage_backoff_s: float = 15.0,
        outage_backoff_max_s: float = 300.0,
    ) -> None:
        self._bot = bot
        self._journal_path = journal_path
        self._lock_path = lock_path
        self._clock = clock
        self._batch_rows = batch_rows
        self._idle_interval_s = idle_interval_s
        self._batch_window_s = batch_window_s
        self._outage_backoff_s = outage_backoff_s
        self._outage_backoff_max_s = outage_backoff_max_s
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._status = MirrorStatus(False, None, None, 0, 0)

    # --- runtime API --------------------------------------------------------------------

    def start(self) -> None:
        """Start the sender thread (once). Returns at once: no network call happens here."""
        if self._thread is not None:
            return
        self._stopping.clear()
        self._thread = threading.Thread(
            target=self._run, name=f"{self.thread_prefix}-{self._bot}", daemon=True
        )
        self._thread.start()

    def notify(self) -> None:
        """Rows were queued: deliver soon. Never blocks."""
        self._wake.set()

    def stop(self, timeout_s: float = 5.0) -> bool:
        """Ask the thread to stop and wait up to `timeout_s`; True when it has stopped.

        Rows not yet delivered stay in the outbox for the next start.
        """
        thread = self._thread
        if thread is None:
            return True
        self._stopping.set()
        self._wake.set()
        thread.join(timeout_s)
        stopped = not thread.is_alive()
        if stopped:
            self._thread = None
        else:
            logger.warning(
                "%s_mirror_stop_timeout bot=%s timeout_s=%s", self.topic, self._bot, timeout_s
            )
        return stopped

    def status(self) -> MirrorStatus:
        with self._lock:
            return self._status

    # --- what a channel provides --------------------------------------------------------

    def _connect(self, journal: Journal) -> OutboxFlusher | None:
        """The channel's sender over `journal`, or None (reason logged) to retry later."""
        raise NotImplementedError

    # --- the thread ---------------------------------------------------------------------

    def _update(self, **changes: object) -> None:
        with self._lock:
            self._status = replace(self._status, **changes)  # type: ignore[arg-type]

    def _pause(self, seconds: float) -> None:
        self._stopping.wait(seconds)

    def _run(self) -> None:
        self._update(running=True)
        lock = FileLock(str(self._lock_path), timeout=0)
        journal: Journal | None = None
        try:
            journal = Journal.open(self._journal_path, clock=self._clock)
            self._loop(journal, lock)
        except Exception:
            logger.exception(kv(f"{self.topic}_mirror_crashed", bot=self._bot,
                                action="mirror_stopped"))  # fmt: skip
        finally:
            if lock.is_locked:
                lock.release()
            if journal is not None:
                journal.close()
            self._update(running=False)
            logger.info(kv(f"{self.topic}_mirror_stopped", bot=self._bot))

    def _loop(self, journal: Journal, lock: FileLock) -> None:
        sender: OutboxFlusher | None = None
        failures = 0
        while not self._stopping.is_set():
            if sender is None:
                sender = self._new_sender(journal, lock)
                if sender is None:
                    failures += 1
                    self._update(consecutive_failures=failures)
                    self._pause(self._outage_delay_s(failures))
                    continue
            try:
                result = sender.flush()
            except SenderStopped:
                return
            except Exception as exc:  # a bug or a journal failure: keep trading unaffected
                logger.exception(
                    "%s_flush_failed bot=%s error=%s", self.topic, self._bot, type(exc).__name__
                )
                failures += 1
                sender = None
                self._pause(self._outage_delay_s(failures))
                continue
            with self._lock:
                delivered_total = self._status.delivered_total + result.delivered
            if result.ok:
                if failures:
                    logger.info(
                        "%s_recovered bot=%s after_failures=%s delivered=%s",
                        self.topic,
                        self._bot,
                        failures,
                        result.delivered,
                    )
                failures = 0
                self._update(
                    last_success_at=self._clock.now(),
                    last_error=None,
                    consecutive_failures=0,
                    delivered_total=delivered_total,
                )
                if result.considered >= self._batch_rows:
                    continue  # a backlog: keep going (the sender paces itself)
                self._wait_for_work()
            else:
                failures += 1
                self._update(
                    last_error=result.error,
                    consecutive_failures=failures,
                    delivered_total=delivered_total,
                )
                delay = self._outage_delay_s(failures)
                logger.warning(
                    "%s_unavailable bot=%s failures=%s retry_in_s=%.0f error=%s",
                    self.topic,
                    self._bot,
                    failures,
                    delay,
                    result.error,
                )
                self._pause(delay)

    def _new_sender(self, journal: Journal, lock: FileLock) -> OutboxFlusher | None:
        if not lock.is_locked:
            try:
                lock.acquire()
            except Timeout:
                logger.info(kv(f"{self.topic}_lock_busy", bot=self._bot, holder="another_process"))
                return None
        return self._connect(journal)

    def _wait_for_work(self) -> None:
        if self._wake.wait(self._idle_interval_s) and not self._stopping.is_set():
            self._pause(self._batch_window_s)  # let a burst of rows gather into one batch
        self._wake.clear()

    def _outage_delay_s(self, failures: int) -> float:
        delay = self._outage_backoff_s * 2 ** max(0, failures - 1)
        return float(min(self._outage_backoff_max_s, delay))
