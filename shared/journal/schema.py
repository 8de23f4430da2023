"""Journal schema: connection pragmas and the numbered `.sql` migrations applied at open.

Migrations are package data (`shared/journal/migrations/NNNN_name.sql`), found through
`importlib.resources`. The schema version is `PRAGMA user_version`; each migration runs in one
transaction (BEGIN IMMEDIATE) with its version bump, so a crash mid-migration changes nothing.
"""

from __future__ import annotations

import logging
import re
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import resources

from shared.journal.models import JournalError
from shared.logger_service import kv

logger = logging.getLogger(__name__)

BUSY_TIMEOUT_MS = 5_000
_MIGRATION_NAME = re.compile(r"^(\d{4})_[a-z0-9_]+\.sql$")


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    sql: str


def bundled_migrations() -> list[Migration]:
    """The migrations shipped with the package, in version order.

    Raises JournalError when the numbering has a gap or a duplicate (a packaging mistake).
    """
    folder = resources.files("shared.journal").joinpath("migrations")
    found: list[Migration] = []
    for entry in folder.iterdir():
        match = _MIGRATION_NAME.match(entry.name)
        if match and entry.is_file():
            found.append(Migration(int(match.group(1)), entry.name, entry.read_text("utf-8")))
    found.sort(key=lambda migration: migration.version)
    expected = list(range(1, len(found) + 1))
    if [migration.version for migration in found] != expected:
        names = ", ".join(migration.name for migration in found) or "none"
        raise JournalError(
            f"journal migrations must be numbered 0001.. without gaps; found {names}"
        )
    return found


def configure_connection(conn: sqlite3.Connection, *, read_only: bool = False) -> None:
    """Per-connection pragmas: WAL, synchronous=NORMAL, foreign keys, busy timeout."""
    conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    conn.execute("PRAGMA foreign_keys = ON")
    if not read_only:
        mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
        if str(mode).lower() != "wal":
            raise JournalError(f"journal could not switch to WAL mode (got {mode})")
        conn.execute("PRAGMA synchronous = NORMAL")


def schema_version(conn: sqlite3.Connection) -> int:
    return int(conn.execute("PRAGMA user_version").fetchone()[0])


def check_version(found: int, known: int, *, where: str) -> None:
    """Refuse a database written by newer code (its schema is unknown to this code)."""
    if found > known:
        raise JournalError(
            f"journal {where} has schema version {found}, newer than this code knows ({known}); "
            "upgrade CALYPSO before opening it"
        )


def migrate(
    conn: sqlite3.Connection, *, where: str, migrations: Sequence[Migration] | None = None
) -> int:
    """Apply the migrations newer than the database's version; returns the final version.

    Idempotent: an up-to-date database is left untouched, and concurrent openers migrate once.
    `conn` must be in autocommit mode (isolation_level=None). Raises JournalError for a
    database newer than the code or a failing migration (which is rolled back whole).
    """
    steps = list(migrations) if migrations is not None else bundled_migrations()
    latest = steps[-1].version if steps else 0
    current = schema_version(conn)
    check_version(current, latest, where=where)
    for step in steps:
        if step.version <= current:
            continue
        conn.execute("BEGIN IMMEDIATE")
        try:
            # Another process may have migrated while we waited for the write lock.
            current = schema_version(conn)
            if step.version <= current:
                conn.execute("ROLLBACK")
                continue
            for statement in split_statements(step.sql):
                conn.execute(statement)
            conn.execute(f"PRAGMA user_version = {step.version}")
            conn.execute("COMMIT")
        except sqlite3.Error as exc:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise JournalError(f"journal migration {step.name} failed on {where}: {exc}") from exc
        logger.info(kv("journal_migrated", path=where, version=step.version, name=step.name))
        current = step.version
    return current


def split_statements(sql: str) -> list[str]:
    """The complete SQL statements of a script, in order (comments stay with their statement).

    Raises JournalError for a trailing statement without its terminating semicolon.
    """
    statements: list[str] = []
    buffer = ""
    for line in sql.splitlines(keepends=True):
        buffer += line
        if sqlite3.complete_statement(buffer):
            statements.append(buffer.strip())
            buffer = ""
    leftover = [
        line for line in buffer.splitlines() if line.strip() and not line.strip().startswith("--")
    ]
    if leftover:
        raise JournalError(f"journal migration ends with an incomplete statement: {leftover[0]!r}")
    return statements
