"""Realized totals of every closed trade (Journal.realized_totals), against real SQLite: equal,
to the last digit, to summing `trades()` the way the dashboards did, and kept current as trades
close and late fills land, without re-reading the history when nothing changed."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shared.journal import Journal, RealizedTotals
from tests.shared.journal.factories import BOT, START, add_fill, make_clock


def summed_from_trades(journal: Journal) -> RealizedTotals:
    """The totals computed the old way: every trade read back as a record, then summed."""
    closed = [t for t in journal.trades() if not t.is_open]
    nets = [t.net_cash_usd for t in closed]
    return RealizedTotals(
        pnl_usd=sum(nets, Decimal(0)),
        commissions_usd=sum((t.commissions_usd for t in closed), Decimal(0)),
        trades_closed=len(closed),
        winners=sum(1 for net in nets if net > 0),
        losers=sum(1 for net in nets if net < 0),
    )


def assert_same(found: RealizedTotals, expected: RealizedTotals) -> None:
    assert found == expected
    # Equal text too: the sheets receive str(Decimal), where "207.4" and "207.40" differ.
    assert (str(found.pnl_usd), str(found.commissions_usd)) == (
        str(expected.pnl_usd),
        str(expected.commissions_usd),
    )


def traced(journal: Journal, call: Callable[[], object]) -> list[str]:
    statements: list[str] = []
    journal._conn.set_trace_callback(statements.append)
    try:
        call()
    finally:
        journal._conn.set_trace_callback(None)
    return statements


def round_trip(journal: Journal, *, sell: str, buy: str, commission: str = "0") -> int:
    """A closed one-contract trade: sold to open at `sell`, bought to close at `buy`."""
    trade_id = journal.open_trade(bot=BOT, quantity=1)
    add_fill(journal, trade_id, price=Decimal(sell), commission_usd=Decimal(commission))
    add_fill(
        journal,
        trade_id,
        side="buy",
        open_close="close",
        price=Decimal(buy),
        commission_usd=Decimal(commission),
    )
    journal.close_trade(trade_id, "target")
    return trade_id


def test_no_closed_trade_gives_zero_totals(journal: Journal) -> None:
    journal.open_trade(bot=BOT, quantity=1)
    totals = journal.realized_totals()
    assert totals == RealizedTotals(Decimal(0), Decimal(0), 0, 0, 0)


def test_totals_count_winners_losers_and_trades_without_fills(journal: Journal) -> None:
    round_trip(journal, sell="3.10", buy="1.00", commission="1.30")  # +207.40
    round_trip(journal, sell="1.00", buy="1.50", commission="0.65")  # -51.30
    # 1.10 x 100 is 110.00000000000001 in binary floating point: exact here, a break-even.
    round_trip(journal, sell="1.10", buy="1.10")
    journal.close_trade(journal.open_trade(bot=BOT, quantity=1), "entry_failed")  # no fills
    still_open = journal.open_trade(bot=BOT, quantity=1)
    add_fill(journal, still_open, price=Decimal("9.00"))

    totals = journal.realized_totals()

    assert totals == RealizedTotals(
        pnl_usd=Decimal("156.10"),
        commissions_usd=Decimal("3.90"),
        trades_closed=4,
        winners=1,
        losers=1,
    )
    assert_same(totals, summed_from_trades(journal))


def test_totals_follow_closes_and_ignore_fills_of_open_trades(journal: Journal) -> None:
    round_trip(journal, sell="2.00", buy="1.00")
    assert journal.realized_totals().pnl_usd == Decimal("100.00")
    open_id = journal.open_trade(bot=BOT, quantity=1)
    add_fill(journal, open_id, price=Decimal("5.00"), commission_usd=Decimal(0))

    assert journal.realized_totals().trades_closed == 1  # an open trade's fills do not count

    journal.close_trade(open_id, "expiry")
    round_trip(journal, sell="1.00", buy="3.00")  # opened and closed between two reads
    totals = journal.realized_totals()
    assert (totals.pnl_usd, totals.trades_closed, totals.winners, totals.losers) == (
        Decimal("400.00"),
        3,
        2,
        1,
    )
    assert_same(totals, summed_from_trades(journal))


def test_a_late_fill_on_a_counted_trade_changes_the_totals(journal: Journal) -> None:
    trade_id = journal.open_trade(bot=BOT, quantity=1)
    add_fill(journal, trade_id, price=Decimal("0.50"), commission_usd=Decimal(0))
    journal.close_trade(trade_id, "expiry")
    assert journal.realized_totals().winners == 1

    # The closing fill (and its commission) reported after the close turns it into a loss.
    add_fill(
        journal,
        trade_id,
        side="buy",
        open_close="close",
        price=Decimal("0.60"),
        commission_usd=Decimal("1.1000"),
    )

    totals = journal.realized_totals()
    assert (totals.pnl_usd, totals.winners, totals.losers) == (Decimal("-11.10"), 0, 1)
    assert_same(totals, summed_from_trades(journal))


def test_an_unchanged_history_is_not_read_again(journal: Journal) -> None:
    for _ in range(3):
        round_trip(journal, sell="2.00", buy="1.00")
    first = traced(journal, journal.realized_totals)
    assert any("LEFT JOIN fills" in sql for sql in first)

    again = traced(journal, journal.realized_totals)

    assert not any("LEFT JOIN fills" in sql for sql in again)
    assert not any("SCAN" in plan for plan in _plans(journal, again))


def test_a_new_close_reads_only_that_trades_fills(journal: Journal) -> None:
    for _ in range(3):
        round_trip(journal, sell="2.00", buy="1.00")
    journal.realized_totals()
    newest = round_trip(journal, sell="2.00", buy="1.50")

    statements = traced(journal, journal.realized_totals)

    (read,) = [sql for sql in statements if "LEFT JOIN fills" in sql]
    assert f"[{newest}]" in read
    plans = _plans(journal, statements)
    assert "SEARCH t USING INTEGER PRIMARY KEY (rowid=?)" in plans[-1]
    assert not any(table in plan for plan in plans for table in ("SCAN t ", "SCAN f", "SCAN tr"))
    assert journal.realized_totals().pnl_usd == Decimal("350.00")


def test_writes_by_another_connection_are_seen(journal: Journal, journal_path: Path) -> None:
    round_trip(journal, sell="2.00", buy="1.00")
    assert journal.realized_totals().trades_closed == 1

    with Journal.open(journal_path, clock=make_clock()) as other:
        round_trip(other, sell="1.00", buy="2.00")

    totals = journal.realized_totals()
    assert (totals.pnl_usd, totals.trades_closed) == (Decimal("0.00"), 2)


def test_totals_read_inside_a_rolled_back_transaction_are_not_kept(journal: Journal) -> None:
    round_trip(journal, sell="2.00", buy="1.00")
    journal.realized_totals()

    with pytest.raises(RuntimeError), journal.transaction() as tx:
        trade_id = tx.open_trade(bot=BOT, quantity=1)
        tx.record_fill(trade_id=trade_id, leg="x", uic=1, side="sell", open_close="open",
                       price=Decimal("9"), quantity=1, multiplier=100, commission_usd=Decimal(0),
                       filled_at=START, simulated=False)  # fmt: skip
        tx.close_trade(trade_id, "target")
        assert journal.realized_totals().trades_closed == 2  # this transaction's own view
        raise RuntimeError("rolled back")

    assert_same(journal.realized_totals(), summed_from_trades(journal))
    assert journal.realized_totals().trades_closed == 1


def _plans(journal: Journal, statements: list[str]) -> list[str]:
    plans = []
    for sql in statements:
        if sql.lstrip().upper().startswith("SELECT"):
            rows = journal._conn.execute(f"EXPLAIN QUERY PLAN {sql}").fetchall()
            plans.append(" | ".join(str(row[3]) for row in rows))
    return plans


# ---- property: any history, read at any points, equals the sum over trades() -----------------

PRICES = [Decimal(text) for text in ("2.50", "1.10", "0.05", "3", "0.0001", "1E+1")]
COMMISSIONS = [Decimal(text) for text in ("0", "1.10", "0.65", "0.000", "2")]

operations = st.lists(
    st.one_of(
        st.just(("open",)),
        st.tuples(
            st.just("fill"),
            st.integers(0, 7),
            st.booleans(),
            st.sampled_from(PRICES),
            st.integers(1, 3),
            st.sampled_from(COMMISSIONS),
        ),
        st.tuples(st.just("close"), st.integers(0, 7)),
        st.just(("read",)),
    ),
    max_size=40,
)


@pytest.fixture(scope="module")
def journal_paths(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    folder = tmp_path_factory.mktemp("totals")
    return (folder / f"j{n}.sqlite" for n in itertools.count())


@settings(max_examples=60, deadline=None)
@given(steps=operations)
def test_totals_read_at_any_points_equal_the_sum_over_trades(
    journal_paths: Iterator[Path], steps: list[tuple[object, ...]]
) -> None:
    with Journal.open(next(journal_paths), clock=make_clock()) as journal:
        trades: list[int] = []
        for step in steps:
            if step[0] == "open":
                trades.append(journal.open_trade(bot=BOT, quantity=1))
            elif step[0] == "fill" and trades:
                _, which, sell, price, quantity, commission = step
                assert isinstance(which, int) and isinstance(quantity, int)
                assert isinstance(price, Decimal) and isinstance(commission, Decimal)
                add_fill(journal, trades[which % len(trades)], side="sell" if sell else "buy",
                         price=price, quantity=quantity, commission_usd=commission,
                         filled_at=START + timedelta(minutes=len(steps)))  # fmt: skip
            elif step[0] == "close" and trades:
                assert isinstance(step[1], int)
                trade_id = trades[step[1] % len(trades)]
                if journal.trade(trade_id).is_open:
                    journal.close_trade(trade_id, "target")
            elif step[0] == "read":
                assert_same(journal.realized_totals(), summed_from_trades(journal))
        assert_same(journal.realized_totals(), summed_from_trades(journal))
