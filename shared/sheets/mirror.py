"""The Sheets mirror inside a bot: a background thread that the trading loop never waits on.

`build_mirror(loaded, clock=...)` returns a `SheetsMirror`, or a `DisabledMirror` (same
methods, does nothing) when the config turns the mirror off or no credentials are available;
either way it says so once. The runtime calls `start()`, `notify()` after queuing outbox rows
(never blocks: it only sets an event), and `stop(timeout_s)` at shutdown.

The thread opens its OWN journal connection, holds the bot's sheets lock (so
`calypso sheets sync` cannot deliver the same outbox at the same time), and loops: wait for
a notify or `idle_interval_s`, flush, and during an outage back off up to
`outage_backoff_max_s`. Undelivered rows simply stay in the outbox, across restarts.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from filelock import FileLock, Timeout

from shared import paths
from shared.clock import Clock
from shared.journal import Journal
from shared.sheets.client import DEFAULT_TIMEOUT_S, GspreadBackend, SheetsApiError, SheetsBackend
from shared.sheets.credentials import CredentialsError, ServiceAccount, resolve_service_account
from shared.sheets.sender import DeliveryPolicy, OutboxSender, SenderStopped

if TYPE_CHECKING:
    from shared.config_loader import LoadedConfig

logger = logging.getLogger(__name__)

Connect = Callable[[], SheetsBackend]


class MirrorControl(Protocol):
    """What the runtime needs from a mirror, enabled or not."""

    @property
    def enabled(self) -> bool: ...

    def start(self) -> None: ...

    def notify(self) -> None: ...

    def stop(self, timeout_s: float = 5.0) -> bool: ...


def sheets_lock_path(journal_path: Path) -> Path:
    """The lock file that lets one process at a time deliver a journal's outbox."""
    return journal_path.with_name(journal_path.name + ".sheets.lock")


class DisabledMirror:
    """A mirror that is off: every call does nothing. `reason` says why."""

    enabled = False

    def __init__(self, reason: str) -> None:
        self.reason = reason

    def start(self) -> None:
        return None

    def notify(self) -> None:
        return None

    def stop(self, timeout_s: float = 5.0) -> bool:
        return True


@dataclass(frozen=True)
class MirrorStatus:
    """A snapshot for status and health output; times UTC."""

    running: bool
    last_success_at: datetime | None
    last_error: str | None
    consecutive_failures: int
    delivered_total: int


class SheetsMirror:
    """Delivers the bot's outbox to its spreadsheet from a daemon thread."""

    enabled = True

    def __init__(
        self,
        *,
        bot: str,
        journal_path: Path,
        connect: Connect,
        clock: Clock,
        policy: DeliveryPolicy | None = None,
        sleep: Callable[[float], None] | None = None,
        idle_interval_s: float = 5.0,
        batch_window_s: float = 0.5,
        outage_backoff_s: float = 15.0,
        outage_backoff_max_s: float = 300.0,
    ) -> None:
        self._bot = bot
        self._journal_path = journal_path
        self._connect = connect
        self._clock = clock
        self._policy = policy or DeliveryPolicy()
        self._sleep = sleep
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
            target=self._run, name=f"sheets-mirror-{self._bot}", daemon=True
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
            logger.warning("sheets_mirror_stop_timeout bot=%s timeout_s=%s", self._bot, timeout_s)
        return stopped

    def status(self) -> MirrorStatus:
        with self._lock:
            return self._status

    # --- the thread ---------------------------------------------------------------------

    def _update(self, **changes: object) -> None:
        with self._lock:
            self._status = replace(self._status, **changes)  # type: ignore[arg-type]

    def _pause(self, seconds: float) -> None:
        self._stopping.wait(seconds)

    def _run(self) -> None:
        self._update(running=True)
        lock = FileLock(str(sheets_lock_path(self._journal_path)), timeout=0)
        journal: Journal | None = None
        try:
            journal = Journal.open(self._journal_path, clock=self._clock)
            self._loop(journal, lock)
        except Exception:
            logger.exception("sheets_mirror_crashed bot=%s action=mirror_stopped", self._bot)
        finally:
            if lock.is_locked:
                lock.release()
            if journal is not None:
                journal.close()
            self._update(running=False)
            logger.info("sheets_mirror_stopped bot=%s", self._bot)

    def _loop(self, journal: Journal, lock: FileLock) -> None:
        sender: OutboxSender | None = None
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
                    "sheets_flush_failed bot=%s error=%s", self._bot, type(exc).__name__
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
                        "sheets_recovered bot=%s after_failures=%s delivered=%s",
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
                if result.considered >= self._policy.batch_rows:
                    continue  # a backlog: keep going (the pacers keep us under quota)
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
                    "sheets_unavailable bot=%s failures=%s retry_in_s=%.0f error=%s",
                    self._bot,
                    failures,
                    delay,
                    result.error,
                )
                self._pause(delay)

    def _new_sender(self, journal: Journal, lock: FileLock) -> OutboxSender | None:
        if not lock.is_locked:
            try:
                lock.acquire()
            except Timeout:
                logger.info("sheets_lock_busy bot=%s holder=another_process", self._bot)
                return None
        try:
            backend = self._connect()
        except (SheetsApiError, CredentialsError) as exc:
            self._update(last_error=str(exc))
            logger.warning("sheets_connect_failed bot=%s error=%s", self._bot, exc)
            return None
        return OutboxSender(
            bot=self._bot,
            journal=journal,
            backend=backend,
            clock=self._clock,
            sleep=self._sleep or self._pause,
            stop_requested=self._stopping.is_set,
            policy=self._policy,
        )

    def _wait_for_work(self) -> None:
        if self._wake.wait(self._idle_interval_s) and not self._stopping.is_set():
            self._pause(self._batch_window_s)  # let a burst of rows gather into one batch
        self._wake.clear()

    def _outage_delay_s(self, failures: int) -> float:
        delay = self._outage_backoff_s * 2 ** max(0, failures - 1)
        return float(min(self._outage_backoff_max_s, delay))


def gspread_connect(
    account: ServiceAccount, spreadsheet_name: str, *, timeout_s: float = DEFAULT_TIMEOUT_S
) -> Connect:
    """A `Connect` that signs in with the service account and opens `spreadsheet_name`."""

    def connect() -> SheetsBackend:
        return GspreadBackend.open(account.credentials(), spreadsheet_name, timeout_s=timeout_s)

    return connect


def build_mirror(
    loaded: LoadedConfig,
    *,
    clock: Clock,
    journal_path: Path | None = None,
    home: Path | None = None,
    policy: DeliveryPolicy | None = None,
    timeout_s: float = DEFAULT_TIMEOUT_S,
) -> SheetsMirror | DisabledMirror:
    """The bot's mirror per its `sheets` config and resolved secrets; logs once what it is.

    Never raises for Sheets problems: bad or absent credentials give a DisabledMirror (the
    bot trades normally, rows keep accumulating in the outbox for later delivery).
    """
    bot = loaded.bot
    section = loaded.config.sheets
    if not section.enabled:
        return _disabled(bot, "disabled_in_config")
    try:
        account = resolve_service_account(section, loaded.secrets.sheets_credentials, home=home)
    except CredentialsError as exc:
        logger.error("sheets_mirror_off bot=%s reason=bad_credentials error=%s", bot, exc)
        return DisabledMirror(f"bad credentials: {exc}")
    if account is None:
        return _disabled(bot, "no_credentials")
    assert section.spreadsheet_name is not None  # the config model requires it when enabled
    logger.info(
        "sheets_mirror_on bot=%s spreadsheet=%s service_account=%s credentials=%s",
        bot,
        section.spreadsheet_name.replace(" ", "_"),
        account.client_email,
        account.source.replace(" ", ":", 1).replace(" ", "_"),
    )
    return SheetsMirror(
        bot=bot,
        journal_path=journal_path or paths.journal_path(bot, home),
        connect=gspread_connect(account, section.spreadsheet_name, timeout_s=timeout_s),
        clock=clock,
        policy=policy,
    )


def _disabled(bot: str, reason: str) -> DisabledMirror:
    logger.info("sheets_mirror_off bot=%s reason=%s action=trading_continues", bot, reason)
    return DisabledMirror(reason)
