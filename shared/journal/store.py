"""The per-bot SQLite journal: open and migrate, transactions, and the read side.

One connection per Journal, used from one thread. Writes happen inside `transaction()` (BEGIN
IMMEDIATE ... COMMIT, rolled back on any exception) through the `JournalTx` it yields, or as
single-statement transactions called on the Journal itself. Connection default is
`synchronous=NORMAL` (WAL: survives any process crash; the last commits can be lost only on an
OS crash or power cut). Explicit transactions and intent writes commit with `synchronous=FULL`,
because an order intent that vanished after its order reached the broker is exactly the orphan
that intent-before-send exists to prevent; at a few commits a minute the extra fsync is free.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import date, datetime
from pathlib import Path
from typing import Any

from shared.clock import Clock, WallClock
from shared.journal import queries, schema
from shared.journal.models import (
    DailyPnl,
    IntentStatus,
    JournalError,
    OrderIntent,
    OutboxChannel,
    OutboxRow,
    PositionSnapshot,
    RealizedTotals,
    SafetyEvent,
    StoredState,
    TradeRecord,
)
from shared.journal.totals import RealizedTotalsCache
from shared.journal.writes import JournalWrites

SQLITE_HEADER = b"SQLite format 3\x00"


def existing_journal(path: Path) -> bool:
    """True when a journal file is at `path`, False when nothing is (a new one may be created).

    Raises JournalError, naming the path and what to do, for a directory, an unreadable file,
    an empty file or a file that is not SQLite: a journal that existed is never silently
    replaced by a new, empty one.
    """
    if not path.exists():
        return False
    if path.is_dir():
        raise JournalError(f"journal path {path} is a directory, not a journal file")
    try:
        with path.open("rb") as handle:
            header = handle.read(len(SQLITE_HEADER))
    except OSError as exc:
        raise JournalError(f"journal {path} cannot be read: {exc.strerror}") from None
    aside = f"move it aside (mv {path} {path}.broken) to start a new, empty journal"
    if not header:
        raise JournalError(
            f"journal {path} is empty (0 bytes): its trade history is gone; restore it from a "
            f"backup, or {aside}"
        )
    if header != SQLITE_HEADER:
        raise JournalError(
            f"journal {path} is not an SQLite database; restore it from a backup, or {aside}"
        )
    return True


class JournalTx(JournalWrites):
    """The writes of one open transaction; unusable once the transaction has ended."""

    def __init__(self, conn: sqlite3.Connection, clock: Clock) -> None:
        self._conn = conn
        self._clock = clock
        self._active = True

    @contextmanager
    def _writing(self, *, durable: bool = False) -> Iterator[sqlite3.Connection]:
        if not self._active:
            raise JournalError("this journal transaction has already ended")
        yield self._conn


class Journal(JournalWrites):
    """A bot's journal database. Create with `Journal.open` (or `open_readonly` for tools)."""

    def __init__(self, conn: sqlite3.Connection, path: Path, clock: Clock, *, read_only: bool):
        self._conn = conn
        self._clock = clock
        self.path = path
        self.read_only = read_only
        self._realized = RealizedTotalsCache()

    @classmethod
    def open(cls, path: Path, *, clock: Clock) -> Journal:
        """Open (creating directories and file) and migrate the journal at `path`.

        Only a missing file creates a new journal. Raises JournalError when the file is a
        directory, empty or not SQLite, the database is newer than this code, or a migration
        fails.
        """
        existing_journal(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(str(path), isolation_level=None)
        try:
            schema.configure_connection(conn)
            schema.migrate(conn, where=str(path))
        except sqlite3.DatabaseError as exc:
            conn.close()
            raise JournalError(f"{path} is not a usable journal: {exc}") from exc
        except BaseException:
            conn.close()
            raise
        return cls(conn, path, clock, read_only=False)

    @classmethod
    def open_readonly(cls, path: Path) -> Journal:
        """Open an existing journal for reading only (no migration, no writes).

        Raises JournalError when the file is missing, unreadable, or its schema is not this
        code's.
        """
        if not existing_journal(path):
            raise JournalError(f"no journal at {path}")
        uri = path.resolve().as_uri() + "?mode=ro"
        conn = sqlite3.connect(uri, uri=True, isolation_level=None)
        try:
            schema.configure_connection(conn, read_only=True)
            known = len(schema.bundled_migrations())
            found = schema.schema_version(conn)
            schema.check_version(found, known, where=str(path))
            if found < known:
                raise JournalError(
                    f"journal {path} has schema version {found}, older than this code's {known}; "
                    "it is migrated the next time its bot starts"
                )
        except sqlite3.DatabaseError as exc:
            conn.close()
            raise JournalError(f"{path} is not a readable journal: {exc}") from exc
        except BaseException:
            conn.close()
            raise
        return cls(conn, path, WallClock(), read_only=True)

    def close(self) -> None:
        self._conn.close()

    def __enter__(self) -> Journal:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    @contextmanager
    def transaction(self, *, durable: bool = True) -> Iterator[JournalTx]:
        """One atomic unit of writes: BEGIN IMMEDIATE, COMMIT on success, ROLLBACK on error.

        `durable` commits with synchronous=FULL (the default: explicit transactions carry
        intent + state). Raises JournalError when nested or on a read-only journal.
        """
        if self.read_only:
            raise JournalError(f"journal {self.path} is open read-only")
        if self._conn.in_transaction:
            raise JournalError("a journal transaction is already open; write through its tx")
        if durable:
            self._conn.execute("PRAGMA synchronous = FULL")
        tx = JournalTx(self._conn, self._clock)
        try:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                yield tx
                self._conn.execute("COMMIT")
            except BaseException:
                if self._conn.in_transaction:
                    self._conn.execute("ROLLBACK")
                raise
        finally:
            tx._active = False
            if durable:
                self._conn.execute("PRAGMA synchronous = NORMAL")

    @contextmanager
    def _writing(self, *, durable: bool = False) -> Iterator[sqlite3.Connection]:
        with self.transaction(durable=durable) as tx:
            yield tx._conn

    def synchronous_level(self) -> int:
        """The connection's current PRAGMA synchronous (1 NORMAL, 2 FULL); for tests and health."""
        return int(self._conn.execute("PRAGMA synchronous").fetchone()[0])

    def schema_version(self) -> int:
        return schema.schema_version(self._conn)

    def load_state(self, bot: str) -> StoredState | None:
        return queries.state(self._conn, bot)

    def load_breaker_state(self, bot: str) -> dict[str, Any] | None:
        return queries.breaker_state(self._conn, bot)

    def intent(self, request_id: str) -> OrderIntent | None:
        return queries.intent(self._conn, request_id)

    def intents(self, statuses: Sequence[IntentStatus] | None = None) -> list[OrderIntent]:
        """Every order intent (or those whose status is in `statuses`), oldest first."""
        return queries.intents(self._conn, statuses)

    def intents_without_outcome(self) -> list[OrderIntent]:
        """Intents pending, sent or unknown (what reconciliation must resolve), oldest first."""
        return queries.intents_without_outcome(self._conn)

    def trade(self, trade_id: int) -> TradeRecord:
        return queries.trade(self._conn, trade_id)

    def trades(self, since: date | None = None) -> list[TradeRecord]:
        """Trades opened on or after New York date `since` (all when None), oldest first."""
        return queries.trades(self._conn, since)

    def open_trades(self) -> list[TradeRecord]:
        return queries.open_trades(self._conn)

    def has_trade_labelled(self, label: str) -> bool:
        """True when a trade (open or closed) carries `label` (an entry's intent id): one
        indexed lookup, whatever the size of the history."""
        return queries.has_trade_labelled(self._conn, label)

    def trades_labelled(self, label: str) -> list[TradeRecord]:
        """The trades (open or closed) labelled `label`, with their fills, oldest first."""
        return queries.trades_labelled(self._conn, label)

    def traded_uics(self, among: Iterable[int] | None = None) -> set[int]:
        """The uics this journal has a fill of (any trade, open or closed); with `among`, only
        those of `among`, one indexed lookup each."""
        return queries.traded_uics(self._conn, among)

    def daily_pnl(self, day: date) -> DailyPnl:
        """Realized P&L of trades closed on New York date `day`, from their fills (USD)."""
        return queries.daily_pnl(self._conn, day)

    def realized_totals(self) -> RealizedTotals:
        """Realized P&L and counts of every closed trade so far, from their fills (USD).

        The first call reads every closed trade's fills; later calls read only what changed
        since (see `shared.journal.totals`), so a periodic dashboard does not re-read history.
        """
        return self._realized.totals(self._conn)

    def positions(self) -> tuple[datetime | None, list[PositionSnapshot]]:
        return queries.positions(self._conn)

    def safety_events(self, since: datetime | None = None) -> list[SafetyEvent]:
        return queries.safety_events(self._conn, since)

    def outbox_pending(self, limit: int, channel: OutboxChannel = "sheets") -> list[OutboxRow]:
        """Undelivered outbox rows of `channel` (Sheets unless told), oldest first, at most
        `limit`."""
        return queries.outbox_pending(self._conn, limit, channel)
