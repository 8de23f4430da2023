"""ERROR and CRITICAL lines of a bot's own log file written after a given instant.

The file lines are `<ISO time with offset> <LEVEL> <logger>: <message>` (logger_service's file
format, times America/New_York). Only the tail of `bot.log` is read, plus `bot.log.1` when it
was written inside the window (a size rotation may have just moved recent lines there).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Final

from shared.logger_service import redact

TAIL_BYTES: Final = 2 * 1024 * 1024
MAX_MESSAGE_CHARS: Final = 240
_LINE = re.compile(r"^(\d{4}-\d{2}-\d{2}T\S+) (ERROR|CRITICAL) (.*)$")


@dataclass(frozen=True)
class ErrorLine:
    """One ERROR/CRITICAL log line: when (UTC), its level, and the (redacted) message."""

    at: datetime
    level: str
    message: str


def _tail_lines(path: Path, limit: int) -> Iterator[str]:
    with path.open("rb") as handle:
        size = handle.seek(0, 2)
        start = max(0, size - limit)
        handle.seek(start)
        data = handle.read()
    if start > 0:
        data = data.split(b"\n", 1)[1] if b"\n" in data else b""
    yield from data.decode("utf-8", errors="replace").splitlines()


def parse_error_line(line: str) -> ErrorLine | None:
    """The ErrorLine of `line`, or None for other levels, continuation lines or bad times."""
    match = _LINE.match(line)
    if match is None:
        return None
    try:
        at = datetime.fromisoformat(match.group(1))
    except ValueError:
        return None
    if at.tzinfo is None:
        return None
    message = redact(match.group(3))
    if len(message) > MAX_MESSAGE_CHARS:
        message = message[: MAX_MESSAGE_CHARS - 3] + "..."
    return ErrorLine(at.astimezone(UTC), match.group(2), message)


def recent_errors(
    log_file: Path, since: datetime, *, tail_bytes: int = TAIL_BYTES
) -> list[ErrorLine]:
    """ERROR/CRITICAL lines at or after `since` (aware) in `log_file` and its newest rotation,
    oldest first. A missing file yields []; OSError from reading propagates."""
    found: list[ErrorLine] = []
    rotated = log_file.with_name(log_file.name + ".1")
    candidates = [rotated, log_file]
    for path in candidates:
        try:
            modified = datetime.fromtimestamp(path.stat().st_mtime, tz=UTC)
        except FileNotFoundError:
            continue
        if modified < since:
            continue
        for line in _tail_lines(path, tail_bytes):
            parsed = parse_error_line(line)
            if parsed is not None and parsed.at >= since:
                found.append(parsed)
    return found
