"""The P&L rule, property-based: pnl = sum(+price if sell else -price) x multiplier x quantity
minus commissions, exact, computed from fills stored in and read back from real SQLite."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shared.journal import Journal
from tests.shared.journal.factories import BOT, START, add_fill, make_clock

SCALE = 10_000  # prices and commissions below carry at most 4 decimal places


@dataclass(frozen=True)
class FillSpec:
    sell: bool
    price_units: int  # price x SCALE
    quantity: int
    multiplier: int
    commission_units: int  # commission x SCALE


fill_specs = st.builds(
    FillSpec,
    sell=st.booleans(),
    price_units=st.integers(min_value=0, max_value=5_000 * SCALE),
    quantity=st.integers(min_value=1, max_value=50),
    multiplier=st.sampled_from([1, 10, 100]),
    commission_units=st.integers(min_value=0, max_value=25 * SCALE),
)


@pytest.fixture(scope="module")
def shared_journal(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Journal]:
    path: Path = tmp_path_factory.mktemp("pnl") / "pnl.sqlite"
    journal = Journal.open(path, clock=make_clock())
    yield journal
    journal.close()


def _oracle_units(specs: list[FillSpec]) -> int:
    """The expected P&L in 1/SCALE dollars, in integer arithmetic independent of Decimal."""
    total = 0
    for spec in specs:
        gross = spec.price_units * spec.multiplier * spec.quantity
        total += gross if spec.sell else -gross
        total -= spec.commission_units
    return total


def _record(journal: Journal, specs: list[FillSpec]) -> int:
    trade_id = journal.open_trade(bot=BOT, quantity=1)
    for n, spec in enumerate(specs):
        add_fill(
            journal,
            trade_id,
            uic=1000 + n,
            side="sell" if spec.sell else "buy",
            price=Decimal(spec.price_units) / SCALE,
            quantity=spec.quantity,
            multiplier=spec.multiplier,
            commission_usd=Decimal(spec.commission_units) / SCALE,
            filled_at=START + timedelta(seconds=n),
        )
    journal.close_trade(trade_id, "test", START + timedelta(hours=1))
    return trade_id


@settings(max_examples=60, deadline=None)
@given(specs=st.lists(fill_specs, min_size=1, max_size=8))
def test_trade_pnl_equals_the_rule_exactly(shared_journal: Journal, specs: list[FillSpec]) -> None:
    trade = shared_journal.trade(_record(shared_journal, specs))
    assert trade.pnl_usd is not None
    assert trade.pnl_usd * SCALE == _oracle_units(specs)
    assert trade.commissions_usd * SCALE == sum(s.commission_units for s in specs)


@settings(max_examples=30, deadline=None)
@given(specs=st.lists(fill_specs, min_size=2, max_size=6), data=st.data())
def test_trade_pnl_does_not_depend_on_fill_order(
    shared_journal: Journal, specs: list[FillSpec], data: st.DataObject
) -> None:
    shuffled = data.draw(st.permutations(specs))
    first = shared_journal.trade(_record(shared_journal, specs)).pnl_usd
    second = shared_journal.trade(_record(shared_journal, list(shuffled))).pnl_usd
    assert first == second


@settings(max_examples=30, deadline=None)
@given(spec=fill_specs)
def test_a_round_trip_at_one_price_loses_exactly_the_commissions(
    shared_journal: Journal, spec: FillSpec
) -> None:
    sell = FillSpec(True, spec.price_units, spec.quantity, spec.multiplier, spec.commission_units)
    buy = FillSpec(False, spec.price_units, spec.quantity, spec.multiplier, spec.commission_units)
    trade = shared_journal.trade(_record(shared_journal, [sell, buy]))
    assert trade.pnl_usd == -2 * Decimal(spec.commission_units) / SCALE
