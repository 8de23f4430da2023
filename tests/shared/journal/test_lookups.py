"""Targeted journal lookups the trading loop makes (label, traded uics), against real SQLite:
the answers equal a scan of every trade, and the queries use their indexes, not a table scan."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

from shared.journal import Journal
from tests.shared.journal.factories import BOT, START, add_fill


def query_plan(journal: Journal, call: Callable[[], object]) -> str:
    """The query plan of the one statement `call` runs (traced with its bound values)."""
    conn = journal._conn
    statements: list[str] = []
    conn.set_trace_callback(statements.append)
    try:
        call()
    finally:
        conn.set_trace_callback(None)
    (statement,) = statements
    rows = conn.execute(f"EXPLAIN QUERY PLAN {statement}").fetchall()
    return " | ".join(str(row[3]) for row in rows)


def test_has_trade_labelled_sees_open_and_closed_trades_only_by_exact_label(
    journal: Journal,
) -> None:
    closed = journal.open_trade(bot=BOT, quantity=1, label="fly-2026-03-02")
    journal.close_trade(closed, "target")
    journal.open_trade(bot=BOT, quantity=1, label="fly-2026-03-03")

    assert journal.has_trade_labelled("fly-2026-03-02")
    assert journal.has_trade_labelled("fly-2026-03-03")
    assert not journal.has_trade_labelled("fly-2026-03-04")
    assert not journal.has_trade_labelled("fly-2026-03")  # no prefix match
    assert not journal.has_trade_labelled("FLY-2026-03-02")  # labels are case-sensitive


def test_has_trade_labelled_answers_from_the_label_index(journal: Journal) -> None:
    plan = query_plan(journal, lambda: journal.has_trade_labelled("fly-1"))
    assert plan == "SEARCH trades USING COVERING INDEX trades_label (label=?)"


def test_trades_labelled_returns_that_labels_trades_with_fills_oldest_first(
    journal: Journal,
) -> None:
    first = journal.open_trade(bot=BOT, quantity=1, label="fly-1", opened_at=START)
    add_fill(journal, first)
    journal.close_trade(first, "entry_failed", START + timedelta(minutes=1))
    journal.open_trade(bot=BOT, quantity=1, label="other", opened_at=START)
    second = journal.open_trade(
        bot=BOT, quantity=1, label="fly-1", opened_at=START + timedelta(minutes=2)
    )

    found = journal.trades_labelled("fly-1")

    assert [t.trade_id for t in found] == [first, second]
    assert [t.is_open for t in found] == [False, True]
    assert len(found[0].fills) == 1 and found[1].fills == ()
    assert journal.trades_labelled("nobody") == []


def test_traded_uics_are_the_uics_of_every_fill_of_open_and_closed_trades(
    journal: Journal,
) -> None:
    assert journal.traded_uics() == set()
    closed = journal.open_trade(bot=BOT, quantity=1)
    add_fill(journal, closed, uic=1001)
    add_fill(journal, closed, uic=1001, side="buy", open_close="close")
    journal.close_trade(closed, "target")
    still_open = journal.open_trade(bot=BOT, quantity=1)
    add_fill(journal, still_open, uic=2002)
    journal.open_trade(bot=BOT, quantity=1)  # no fill yet: traded nothing

    every = {f.uic for t in journal.trades() for f in t.fills}
    assert journal.traded_uics() == every == {1001, 2002}
    assert journal.traded_uics([1001, 3003, 2002, 1001]) == {1001, 2002}
    assert journal.traded_uics({3003}) == set()
    assert journal.traded_uics([]) == set()


def test_traded_uics_among_candidates_looks_each_up_in_the_uic_index(journal: Journal) -> None:
    plan = query_plan(journal, lambda: journal.traded_uics([1001, 2002]))
    assert plan.startswith("SEARCH fills USING COVERING INDEX fills_uic (uic=?)")
    assert "SCAN fills" not in plan


def test_lookups_work_on_a_read_only_journal(journal: Journal, journal_path: Path) -> None:
    trade_id = journal.open_trade(bot=BOT, quantity=1, label="fly-1")
    add_fill(journal, trade_id, uic=1001)

    with Journal.open_readonly(journal_path) as reader:
        assert reader.has_trade_labelled("fly-1")
        assert [t.trade_id for t in reader.trades_labelled("fly-1")] == [trade_id]
        assert reader.traded_uics([1001, 7]) == {1001}
