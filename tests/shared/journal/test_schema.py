"""Journal schema: pragmas, numbered migrations from package data, versions, atomic migration."""

from __future__ import annotations

import sqlite3
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from shared.clock import ManualClock, WallClock
from shared.journal import Journal, JournalError, schema
from shared.journal.schema import Migration, migrate, split_statements

EXPECTED_TABLES = {
    "order_intents",
    "orders",
    "fills",
    "trades",
    "bot_state",
    "breaker_state",
    "positions",
    "positions_snapshot",
    "safety_events",
    "outbox",
}


def _indexes(path: Path) -> set[str]:
    with sqlite3.connect(path) as conn:
        rows = conn.execute("SELECT name FROM sqlite_master WHERE type = 'index'").fetchall()
    return {row[0] for row in rows if not row[0].startswith("sqlite_autoindex")}


def _tables(path: Path) -> set[str]:
    with sqlite3.connect(path) as conn:
        rows = conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'").fetchall()
    return {row[0] for row in rows} - {"sqlite_sequence"}


def test_bundled_migrations_are_found_as_package_data_and_numbered_from_one() -> None:
    migrations = schema.bundled_migrations()
    assert [m.version for m in migrations] == list(range(1, len(migrations) + 1))
    assert migrations[0].name == "0001_initial.sql"


def test_open_creates_directories_and_every_table(tmp_path: Path, clock: ManualClock) -> None:
    path = tmp_path / "deep" / "data" / "bot.sqlite"
    Journal.open(path, clock=clock).close()
    assert _tables(path) == EXPECTED_TABLES


def test_a_version_1_journal_upgrades_keeping_its_trades_and_dropping_daily_pnl(
    journal_path: Path, clock: ManualClock
) -> None:
    # A journal as the 0001 script left it, with a closed trade and its stored daily_pnl row.
    journal_path.parent.mkdir(parents=True)
    conn = sqlite3.connect(journal_path, isolation_level=None)
    assert migrate(conn, where="v1", migrations=schema.bundled_migrations()[:1]) == 1
    conn.execute(
        "INSERT INTO trades (bot, label, quantity, opened_at, closed_at, exit_reason) VALUES "
        "('iron_fly_0dte', 'fly-1', 1, '2026-03-02T15:00:00.000000+00:00', "
        "'2026-03-02T16:00:00.000000+00:00', 'target')"
    )
    conn.executemany(
        "INSERT INTO fills (trade_id, leg, uic, side, open_close, price, quantity, multiplier, "
        "commission_usd, filled_at, simulated) VALUES (1, 'short_call', 1001, ?, ?, ?, 1, 100, "
        "'1.10', ?, 0)",
        [
            ("sell", "open", "2.50", "2026-03-02T15:00:00.000000+00:00"),
            ("buy", "close", "1.00", "2026-03-02T16:00:00.000000+00:00"),
        ],
    )
    conn.execute(
        "INSERT INTO daily_pnl VALUES ('2026-03-02', '147.80', '2.20', 1, 1, 0, "
        "'2026-03-02T16:00:00.000000+00:00')"
    )
    conn.close()

    with Journal.open(journal_path, clock=clock) as journal:
        assert journal.schema_version() == len(schema.bundled_migrations())
        (trade,) = journal.trades()
        assert (trade.label, trade.exit_reason, len(trade.fills)) == ("fly-1", "target", 2)
        assert trade.pnl_usd == Decimal("147.80")
        assert journal.daily_pnl(date(2026, 3, 2)).realized_pnl_usd == Decimal("147.80")
        assert journal.has_trade_labelled("fly-1")
        assert journal.traded_uics() == {1001}
    assert "daily_pnl" not in _tables(journal_path)
    assert {"trades_label", "fills_uic"} <= _indexes(journal_path)
    with Journal.open_readonly(journal_path) as reader:  # readers accept the new version
        assert reader.schema_version() == len(schema.bundled_migrations())


def test_open_sets_wal_foreign_keys_and_version(journal: Journal, journal_path: Path) -> None:
    conn = journal._conn
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert conn.execute("PRAGMA foreign_keys").fetchone()[0] == 1
    assert journal.synchronous_level() == 1  # NORMAL between transactions
    assert journal.schema_version() == len(schema.bundled_migrations())


def test_reopening_does_not_migrate_again(journal_path: Path, clock: ManualClock) -> None:
    with Journal.open(journal_path, clock=clock) as journal:
        journal.save_state("iron_fly_0dte", "IDLE", {"n": 1})
    with Journal.open(journal_path, clock=clock) as journal:
        assert journal.load_state("iron_fly_0dte") is not None
        assert journal.schema_version() == len(schema.bundled_migrations())


def test_database_newer_than_code_is_refused_with_a_clear_error(
    journal_path: Path, clock: ManualClock
) -> None:
    Journal.open(journal_path, clock=clock).close()
    with sqlite3.connect(journal_path) as conn:
        conn.execute("PRAGMA user_version = 99")
    with pytest.raises(JournalError, match=r"schema version 99, newer than this code"):
        Journal.open(journal_path, clock=clock)
    with pytest.raises(JournalError, match=r"newer than this code"):
        Journal.open_readonly(journal_path)


def test_failing_migration_rolls_back_whole_and_keeps_the_old_version(tmp_path: Path) -> None:
    conn = sqlite3.connect(tmp_path / "m.sqlite", isolation_level=None)
    steps = [
        Migration(1, "0001_a.sql", "CREATE TABLE a (x INTEGER);"),
        Migration(2, "0002_b.sql", "CREATE TABLE b (x INTEGER);\nINSERT INTO nowhere VALUES (1);"),
    ]
    with pytest.raises(JournalError, match=r"0002_b\.sql"):
        migrate(conn, where="test", migrations=steps)
    names = {row[0] for row in conn.execute("SELECT name FROM sqlite_master")}
    assert names == {"a"}
    assert schema.schema_version(conn) == 1
    conn.close()


def test_migrate_applies_only_newer_steps(tmp_path: Path) -> None:
    conn = sqlite3.connect(tmp_path / "m.sqlite", isolation_level=None)
    first = [Migration(1, "0001_a.sql", "CREATE TABLE a (x INTEGER);")]
    assert migrate(conn, where="test", migrations=first) == 1
    second = [*first, Migration(2, "0002_b.sql", "CREATE TABLE b (x INTEGER);")]
    assert migrate(conn, where="test", migrations=second) == 2
    assert migrate(conn, where="test", migrations=second) == 2
    conn.close()


def test_split_statements_keeps_trigger_bodies_whole() -> None:
    sql = (
        "-- header\nCREATE TABLE t (x INTEGER);\n"
        "CREATE TRIGGER tr AFTER INSERT ON t BEGIN\n  UPDATE t SET x = 1;\n  SELECT 1;\nEND;\n"
        "-- trailing comment\n"
    )
    statements = split_statements(sql)
    assert len(statements) == 2
    assert statements[1].startswith("CREATE TRIGGER") and statements[1].endswith("END;")


def test_split_statements_refuses_an_unterminated_statement() -> None:
    with pytest.raises(JournalError, match="incomplete statement"):
        split_statements("CREATE TABLE t (x INTEGER)")


def test_open_readonly_refuses_a_missing_file_and_a_non_journal(tmp_path: Path) -> None:
    with pytest.raises(JournalError, match="no journal at"):
        Journal.open_readonly(tmp_path / "missing.sqlite")
    junk = tmp_path / "junk.sqlite"
    junk.write_bytes(b"this is not sqlite at all" * 100)
    with pytest.raises(JournalError, match="is not an SQLite database"):
        Journal.open_readonly(junk)


@pytest.mark.parametrize("opener", ["open", "open_readonly"])
def test_an_empty_or_directory_journal_is_refused_never_recreated(
    tmp_path: Path, opener: str
) -> None:
    empty = tmp_path / "empty.sqlite"
    empty.write_bytes(b"")
    folder = tmp_path / "folder.sqlite"
    folder.mkdir()
    open_journal = getattr(Journal, opener)
    kwargs = {"clock": WallClock()} if opener == "open" else {}

    with pytest.raises(JournalError, match="is empty \\(0 bytes\\)"):
        open_journal(empty, **kwargs)
    with pytest.raises(JournalError, match="is a directory"):
        open_journal(folder, **kwargs)
    assert empty.read_bytes() == b""
