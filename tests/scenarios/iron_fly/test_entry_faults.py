"""The entry under broker trouble on the simulator: a partial fill is unwound (then retried, or
the day ends), and 429 or 5xx answers to entry orders end in exactly one fly, never two
(strategies.md 5.1: ORDER-001, ORDER-007, CB-001, CONN-001, CONN-006)."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest

from shared.saxo_sim.server import SimServer
from tests.scenarios.iron_fly.harness import (
    SPX,
    Day,
    InProcessBot,
    JournalView,
    fills_pnl_usd,
    read_journal,
    start_day,
)

ORDERS = "/openapi/trade/v2/orders"


def _fly_legs(fly: dict[str, Any]) -> dict[int, Decimal]:
    """The fly's legs as signed amounts per uic: what the simulator should hold."""
    quantity = Decimal(fly["quantity"])
    return {leg["uic"]: quantity if leg["side"] == "buy" else -quantity for leg in fly["legs"]}


def _close_at_the_wing(day: Day, bot: InProcessBot) -> JournalView:
    """Touch the upper wing, wait for the close, stop the bot; flat everywhere."""
    day.pin(SPX, float(bot.fly()["upper_wing"]))
    bot.wait_state("done")
    assert bot.stop() == 0
    view = read_journal(day.home)
    assert day.positions() == {} and day.working_orders() == 0
    assert all(t.is_flat and not t.is_open for t in view.trades)
    return view


def _books_agree(day: Day, view: JournalView) -> None:
    """The journal's P&L from fills equals the simulated account's cash change."""
    assert sum(fills_pnl_usd(t) for t in view.trades) == day.cash_change_usd()


def test_partial_fill_is_unwound_and_the_retry_opens_one_fly(
    make_day: Callable[..., Day],
) -> None:
    day = make_day()
    bot = day.bot(strategy={"position_size_contracts": 2, "max_entry_attempts": 2})
    # The first entry order (the long call) fills 1 of 2 now, the rest only an hour later.
    day.control("POST", "/orders/partial_next", {"amount": 1, "rest_after_seconds": 3600})
    day.calm_range(bot)

    bot.wait_state("in_position", timeout_s=30)

    assert day.positions() == _fly_legs(bot.fly())  # nothing left of the first attempt
    assert day.working_orders() == 0  # the partial order's rest was cancelled
    view = _close_at_the_wing(day, bot)
    entries = [i.action for i in view.entry_intents()]
    assert entries == ["entry:long_call", "entry:long_call", "entry:long_put",
                       "entry:short_call", "entry:short_put"]


@pytest.fixture(scope="module")
def last_attempt_partial(
    module_sim_factory: Callable[..., SimServer], tmp_path_factory: pytest.TempPathFactory
) -> tuple[Day, JournalView]:
    """One day for the tests below: 2 contracts, one attempt, the first leg filled 1 of 2
    (the rest an hour later); run until the bot is done, then its journal."""
    day = start_day(module_sim_factory, tmp_path_factory.mktemp("last_attempt_partial"))
    bot = day.bot(strategy={"position_size_contracts": 2, "max_entry_attempts": 1})
    day.control("POST", "/orders/partial_next", {"amount": 1, "rest_after_seconds": 3600})
    day.calm_range(bot)
    bot.wait_state("done", timeout_s=30)
    assert bot.stop() == 0
    return day, read_journal(day.home)


def test_partial_fill_on_the_last_attempt_is_unwound_and_ends_the_day(
    last_attempt_partial: tuple[Day, JournalView],
) -> None:
    day, view = last_attempt_partial

    assert day.positions() == {} and day.working_orders() == 0
    assert "entry_unwound" in [e.event for e in view.safety]
    (trade,) = view.trades
    assert trade.is_flat and len(trade.fills) == 2  # 1 long call bought, then sold


def test_partial_fill_is_journaled_with_its_commission(
    last_attempt_partial: tuple[Day, JournalView],
) -> None:
    day, view = last_attempt_partial

    _books_agree(day, view)


def test_429_on_entry_orders_is_waited_out_and_opens_one_fly(
    make_day: Callable[..., Day],
) -> None:
    day = make_day()
    bot = day.bot()
    day.fault(path_prefix=ORDERS, kind="rate_limit", count=2, method="POST")
    day.calm_range(bot)

    bot.wait_state("in_position", timeout_s=30)

    assert day.stats()["faults_triggered"] == 2
    assert len(day.order_ids()) == 4  # each leg placed once: a 429 is never processed
    assert day.positions() == _fly_legs(bot.fly())
    view = _close_at_the_wing(day, bot)
    _books_agree(day, view)
    assert [t.exit_reason for t in view.trades] == ["wing_touch"]


def test_503_on_an_entry_order_is_looked_up_not_resent_blindly(
    make_day: Callable[..., Day],
) -> None:
    day = make_day()
    # Default settings: the unanswered order is looked up on later passes, never by a wait.
    bot = day.bot()
    day.fault(path_prefix=ORDERS, kind="status", status=503, count=1, method="POST")
    day.calm_range(bot)

    bot.wait_state("in_position", timeout_s=40)

    assert len(day.order_ids()) == 4  # the 503 was never processed; the retry placed 4
    assert day.positions() == _fly_legs(bot.fly())
    view = _close_at_the_wing(day, bot)
    _books_agree(day, view)
    assert "order_not_found" in [e.event for e in view.safety]
    assert [t.exit_reason for t in view.trades] == ["wing_touch"]
