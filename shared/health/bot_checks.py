"""Health checks of one bot: process up, log fresh, memory, journal writable, recent errors.

Each function returns one Verdict and never raises for a missing file or process. None of
them writes to the bot's files or signals its process.
"""

from __future__ import annotations

import os
import sqlite3
import stat
from datetime import UTC, datetime, timedelta
from pathlib import Path

from shared import market_hours, paths
from shared.health.logscan import recent_errors
from shared.health.probes import ProcessProbe
from shared.health.service import ServiceState
from shared.health.verdict import (
    ERROR_WINDOW,
    GIB,
    LOG_STALE_AFTER,
    MEMORY_LIMIT_BYTES,
    Verdict,
    describe_age,
    failed,
    passed,
)
from shared.journal import Journal, JournalError


def log_file(bot: str, home: Path) -> Path:
    """`CALYPSO_HOME/logs/<bot>/bot.log`, the file the bot's logger writes."""
    return paths.log_dir(bot, home) / "bot.log"


def check_service_running(service: ServiceState) -> Verdict:
    """Passes when systemd reports the unit active, or (no unit) a process holds the bot's lock."""
    name, bot = "service_running", service.bot
    details = service.to_json()
    if service.running:
        return passed(
            name, f"{service.unit} {service.state} via {service.source}", bot=bot, details=details
        )
    if service.source == "systemd":
        reason = f"{service.unit} is {service.state}: see `journalctl -u {service.bot} -n 50`"
    else:
        reason = f"{service.bot} is {service.state}"
    return failed(name, reason, bot=bot, details=details)


def check_log_fresh(bot: str, *, home: Path, now: datetime) -> Verdict:
    """`bot.log` written within LOG_STALE_AFTER while the market is open; outside market hours
    any age passes (a sleeping bot may log rarely). A missing file always fails."""
    name = "log_fresh"
    path = log_file(bot, home)
    try:
        modified = datetime.fromtimestamp(path.stat().st_mtime, tz=UTC)
    except FileNotFoundError:
        return failed(
            name,
            f"no log file at {path} (has the bot started here?)",
            bot=bot,
            details={"path": str(path)},
        )
    except OSError as exc:
        return failed(
            name, f"cannot stat {path}: {exc.strerror}", bot=bot, details={"path": str(path)}
        )
    age = now - modified
    open_now = market_hours.is_market_open(now)
    details = {
        "path": str(path),
        "modified_at": modified.isoformat(),
        "age_s": round(age.total_seconds()),
        "market_open": open_now,
        "max_age_s": round(LOG_STALE_AFTER.total_seconds()),
    }
    if not open_now:
        return passed(
            name,
            f"market closed: freshness not required (last write {describe_age(age)} ago)",
            bot=bot,
            details=details,
        )
    if age <= LOG_STALE_AFTER:
        return passed(name, f"last write {describe_age(age)} ago", bot=bot, details=details)
    limit = describe_age(LOG_STALE_AFTER)
    return failed(
        name,
        f"market open but {path} last written {describe_age(age)} ago (limit {limit})",
        bot=bot,
        details=details,
    )


def check_memory(service: ServiceState, probe: ProcessProbe) -> Verdict:
    """The running process's resident memory (RSS) is under MEMORY_LIMIT_BYTES."""
    name, bot = "memory", service.bot
    limit_mib = MEMORY_LIMIT_BYTES // 2**20
    if service.pid is None:
        why = "not running" if not service.running else "running but its pid is unknown"
        return failed(
            name,
            f"{bot} is {why}: no process to measure",
            bot=bot,
            details={"limit_mib": limit_mib},
        )
    rss = probe.rss_bytes(service.pid)
    if rss is None:
        return failed(
            name,
            f"pid {service.pid} has no readable /proc status (process gone?)",
            bot=bot,
            details={"pid": service.pid, "limit_mib": limit_mib},
        )
    rss_mib = round(rss / 2**20, 1)
    details = {"pid": service.pid, "rss_mib": rss_mib, "limit_mib": limit_mib}
    if rss < MEMORY_LIMIT_BYTES:
        return passed(name, f"RSS {rss_mib} MiB (limit {limit_mib} MiB)", bot=bot, details=details)
    return failed(
        name,
        f"RSS {rss / GIB:.2f} GiB is over the {limit_mib} MiB limit: restart the bot "
        f"outside an entry (`sudo systemctl restart {bot}`)",
        bot=bot,
        details=details,
    )


def _access_problem(path: Path, *, directory: bool) -> str | None:
    mode = os.R_OK | os.W_OK | (os.X_OK if directory else 0)
    if os.access(path, mode, effective_ids=True):
        return None
    kind = "directory" if directory else "file"
    return f"{kind} {path} is not readable and writable by uid {os.geteuid()}"


def check_journal_writable(bot: str, *, home: Path) -> Verdict:
    """The journal can be written by the user running this check, without writing to it.

    Method (cannot disturb a running bot, takes no write lock): the data directory and the
    journal file, `-wal` and `-shm` must be read/write for this user; the side files must
    belong to the journal's owner (a root-owned `-shm` locks the bot out); and a read-only
    open must find this code's schema version. Details carry the saved bot state and the
    number of open trades read on the way.
    """
    name = "journal_writable"
    path = paths.journal_path(bot, home)
    if not path.is_file():
        return failed(
            name,
            f"no journal at {path} (the bot creates it at its first start)",
            bot=bot,
            details={"path": str(path)},
        )
    problems: list[str] = []
    directory_problem = _access_problem(path.parent, directory=True)
    if directory_problem:
        problems.append(directory_problem)
    owner = path.stat().st_uid
    for candidate in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        try:
            info = candidate.stat()
        except FileNotFoundError:
            continue
        if not stat.S_ISREG(info.st_mode):
            problems.append(f"{candidate} is not a regular file")
            continue
        if info.st_uid != owner:
            problems.append(f"{candidate} belongs to uid {info.st_uid}, the journal to uid {owner}")
        access = _access_problem(candidate, directory=False)
        if access:
            problems.append(access)
    details: dict[str, object] = {
        "path": str(path),
        "owner_uid": owner,
        "checked_as_uid": os.geteuid(),
    }
    try:
        with Journal.open_readonly(path) as journal:
            details["schema_version"] = journal.schema_version()
            state = journal.load_state(bot)
            details["bot_state"] = None if state is None else state.state
            details["open_trades"] = len(journal.open_trades())
    except JournalError as exc:
        problems.append(str(exc))
    except sqlite3.Error as exc:
        problems.append(f"{path} cannot be opened: {exc}")
    if problems:
        return failed(name, "; ".join(problems), bot=bot, details=details)
    return passed(
        name,
        f"{path} writable, schema version {details['schema_version']}",
        bot=bot,
        details=details,
    )


def check_recent_errors(
    bot: str, *, home: Path, now: datetime, window: timedelta = ERROR_WINDOW
) -> Verdict:
    """No ERROR or CRITICAL line in `bot.log` during the last `window` (default 15 minutes)."""
    name = "recent_errors"
    path = log_file(bot, home)
    minutes = round(window.total_seconds() / 60)
    details: dict[str, object] = {"path": str(path), "window_minutes": minutes}
    if not path.exists():
        return passed(name, f"no log file at {path}: nothing to scan", bot=bot, details=details)
    try:
        errors = recent_errors(path, now - window)
    except OSError as exc:
        return failed(name, f"cannot read {path}: {exc.strerror}", bot=bot, details=details)
    details["count"] = len(errors)
    details["latest"] = [f"{e.at.isoformat()} {e.level} {e.message}" for e in errors[-3:]]
    if not errors:
        return passed(name, f"no ERROR lines in the last {minutes} min", bot=bot, details=details)
    return failed(
        name,
        f"{len(errors)} ERROR line(s) in the last {minutes} min; latest: {errors[-1].message}",
        bot=bot,
        details=details,
    )
