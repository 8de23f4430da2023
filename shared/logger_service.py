"""Logging setup for daemons and tools: `event key=value` lines, journald priorities, a rotating
per-bot file, and redaction so that tokens and app secrets can never be printed.

Under systemd (JOURNAL_STREAM set) lines go to stderr with a `<N>` syslog-priority prefix and no
timestamp (journald adds both). In a terminal they carry an America/New_York timestamp.
`CALYPSO_HOME/logs/<bot>/bot.log` rotates by size. Google Sheets delivery lives beside this module.
"""

from __future__ import annotations

import logging
import logging.handlers
import os
import re
import sys
import threading
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any
from zoneinfo import ZoneInfo

from shared import paths

NEW_YORK = ZoneInfo("America/New_York")
LOG_FILE_MAX_BYTES = 10 * 1024 * 1024
LOG_FILE_BACKUPS = 10
REDACTED = "***REDACTED***"

_JOURNALD_PRIORITY = {
    logging.CRITICAL: 2,
    logging.ERROR: 3,
    logging.WARNING: 4,
    logging.INFO: 6,
    logging.DEBUG: 7,
}

# Secret-shaped text, whatever secret it is: bearer tokens, JWTs, OAuth fields in URLs, JSON or
# key=value text. The value part is replaced; the key stays so the line remains readable.
_SECRET_PATTERNS: tuple[re.Pattern[str], ...] = (
    re.compile(r"(?i)(bearer\s+)[A-Za-z0-9._~+/=-]{8,}"),
    re.compile(r"eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*"),
    re.compile(
        r"(?i)(\b(?:access_token|refresh_token|app_secret|appsecret|client_secret|private_key|"
        r"password|authorization|code)[\"']?\s*[:=]\s*[\"']?)([^\"'&\s,}]{4,})"
    ),
)

# Longest first, so a secret that contains another is replaced whole. Rebuilt on registration
# (rare) and swapped in one assignment, so `redact` (every log line) reads it without a lock.
_known_secrets: tuple[str, ...] = ()
_known_lock = threading.Lock()


def register_secret(value: str | None) -> None:
    """Redact this exact value from every log line from now on (values under 6 chars ignored)."""
    global _known_secrets
    if value and len(value) >= 6:
        with _known_lock:
            if value not in _known_secrets:
                _known_secrets = tuple(sorted({*_known_secrets, value}, key=len, reverse=True))


def redact(text: str) -> str:
    """`text` with registered secrets and secret-shaped substrings replaced by a marker."""
    for secret in _known_secrets:
        if secret in text:
            text = text.replace(secret, REDACTED)
    for pattern in _SECRET_PATTERNS:
        if pattern.groups >= 1:
            text = pattern.sub(lambda m: m.group(1) + REDACTED, text)
        else:
            text = pattern.sub(REDACTED, text)
    return text


def kv(event: str, **fields: Any) -> str:
    """Render one log event as `event key=value ...`; values with spaces are double-quoted."""
    parts = [event]
    for key, value in fields.items():
        text = "null" if value is None else str(value)
        if not text or any(ch.isspace() for ch in text) or '"' in text:
            text = '"' + text.replace('"', '\\"') + '"'
        parts.append(f"{key}={text}")
    return " ".join(parts)


class RedactingFormatter(logging.Formatter):
    """Formats a record (message and traceback) and then redacts secrets from the result."""

    def __init__(self, *, journald: bool, with_timestamp: bool) -> None:
        super().__init__()
        self._journald = journald
        self._with_timestamp = with_timestamp

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:
        moment = datetime.fromtimestamp(record.created, tz=UTC).astimezone(NEW_YORK)
        return moment.isoformat(timespec="milliseconds")

    def format(self, record: logging.LogRecord) -> str:
        body = f"{record.levelname} {record.name}: {record.getMessage()}"
        if record.exc_info:
            body += "\n" + self.formatException(record.exc_info)
        if record.stack_info:
            body += "\n" + self.formatStack(record.stack_info)
        body = redact(body)
        if self._journald:
            priority = _JOURNALD_PRIORITY.get(record.levelno, 6)
            return "\n".join(f"<{priority}>{line}" for line in body.splitlines())
        if self._with_timestamp:
            return f"{self.formatTime(record)} {body}"
        return body


class RedactingFilter(logging.Filter):
    """Redacts a record's message in place, so that handlers we do not own see it redacted too."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message:
            record.msg = cleaned
            record.args = None
        return True


def running_under_systemd() -> bool:
    """True when stderr is connected to journald (systemd sets JOURNAL_STREAM)."""
    return bool(os.environ.get("JOURNAL_STREAM"))


def configure_logging(
    bot: str | None,
    *,
    level: str = "INFO",
    home: Path | None = None,
    log_to_file: bool = True,
    stream: IO[str] | None = None,
    quiet_libraries: Iterable[str] = ("urllib3", "websocket", "aiohttp.access", "yfinance"),
) -> Path | None:
    """Install handlers on the root logger; returns the log file path (None without a file).

    Idempotent: calling it again replaces the handlers it installed before. Creates
    `CALYPSO_HOME/logs/<bot>/` when `bot` is given and `log_to_file` is true.
    """
    root = logging.getLogger()
    for handler in list(root.handlers):
        if getattr(handler, "_calypso", False):
            root.removeHandler(handler)
            handler.close()
    root.setLevel(level.upper())

    journald = running_under_systemd()
    console = logging.StreamHandler(stream or sys.stderr)
    console.setFormatter(RedactingFormatter(journald=journald, with_timestamp=not journald))
    console.addFilter(RedactingFilter())
    console._calypso = True  # type: ignore[attr-defined]
    root.addHandler(console)

    log_path: Path | None = None
    if bot and log_to_file:
        directory = paths.log_dir(bot, home)
        directory.mkdir(parents=True, exist_ok=True)
        log_path = directory / "bot.log"
        file_handler = logging.handlers.RotatingFileHandler(
            log_path, maxBytes=LOG_FILE_MAX_BYTES, backupCount=LOG_FILE_BACKUPS, encoding="utf-8"
        )
        file_handler.setFormatter(RedactingFormatter(journald=False, with_timestamp=True))
        file_handler.addFilter(RedactingFilter())
        file_handler._calypso = True  # type: ignore[attr-defined]
        root.addHandler(file_handler)

    for name in quiet_libraries:
        logging.getLogger(name).setLevel(logging.WARNING)
    return log_path
