"""The Sheets mirror inside a bot: a background thread that the trading loop never waits on.

`build_mirror(loaded, clock=...)` returns a `SheetsMirror`, or a `DisabledMirror` (same
methods, does nothing) when the config turns the mirror off or no credentials are available;
either way it says so once. The runtime calls `start()`, `notify()` after queuing outbox rows
(never blocks: it only sets an event), and `stop(timeout_s)` at shutdown.

The thread is the journal's `OutboxWorker` (`shared.journal.outbox_worker`): its own journal
connection, the bot's sheets lock (so `calypso sheets sync` cannot deliver the same outbox at
the same time), a loop of flushes with outage backoff. Undelivered rows simply stay in the
outbox, across restarts.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from shared import paths
from shared.clock import Clock
from shared.journal import Journal
from shared.journal.outbox_worker import MirrorStatus, OutboxWorker  # noqa: F401 (re-exported)
from shared.logger_service import kv
from shared.sheets.client import DEFAULT_TIMEOUT_S, GspreadBackend, SheetsApiError, SheetsBackend
from shared.sheets.credentials import CredentialsError, ServiceAccount, resolve_service_account
from shared.sheets.sender import DeliveryPolicy, OutboxSender

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


class SheetsMirror(OutboxWorker):
    """Delivers the bot's outbox to its spreadsheet from a daemon thread (`OutboxWorker`)."""

    topic = "sheets"
    thread_prefix = "sheets-mirror"

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
        self._policy = policy or DeliveryPolicy()
        super().__init__(
            bot=bot,
            journal_path=journal_path,
            lock_path=sheets_lock_path(journal_path),
            clock=clock,
            batch_rows=self._policy.batch_rows,
            idle_interval_s=idle_interval_s,
            batch_window_s=batch_window_s,
            outage_backoff_s=outage_backoff_s,
            outage_backoff_max_s=outage_backoff_max_s,
        )
        self._connect_backend = connect
        self._sleep = sleep

    def _connect(self, journal: Journal) -> OutboxSender | None:
        try:
            backend = self._connect_backend()
        except (SheetsApiError, CredentialsError) as exc:
            self._update(last_error=str(exc))
            logger.warning(kv("sheets_connect_failed", bot=self._bot, error=exc))
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
        logger.error(kv("sheets_mirror_off", bot=bot, reason="bad_credentials", error=exc))
        return DisabledMirror(f"bad credentials: {exc}")
    if account is None:
        return _disabled(bot, "no_credentials")
    assert section.spreadsheet_name is not None  # the config model requires it when enabled
    logger.info(kv(
        "sheets_mirror_on",
        bot=bot,
        spreadsheet=section.spreadsheet_name.replace(" ", "_"),
        service_account=account.client_email,
        credentials=account.source.replace(" ", ":", 1).replace(" ", "_"),
    ))
    return SheetsMirror(
        bot=bot,
        journal_path=journal_path or paths.journal_path(bot, home),
        connect=gspread_connect(account, section.spreadsheet_name, timeout_s=timeout_s),
        clock=clock,
        policy=policy,
    )


def _disabled(bot: str, reason: str) -> DisabledMirror:
    logger.info(kv("sheets_mirror_off", bot=bot, reason=reason, action="trading_continues"))
    return DisabledMirror(reason)
