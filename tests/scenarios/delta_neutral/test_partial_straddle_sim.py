"""A straddle left with one leg, on the simulator (the real runtime and executor in a thread,
SPY pinned, the clock jumped through the control API): the strategy's half-straddle cases of
strategies.md 2.3 (ORDER-001 in docs/DELTA_NEUTRAL_EDGE_CASES.md).

A half-filled straddle ORDER never leaves the bot holding one leg: the executor unwinds the
filled leg and buys the straddle again (test_partial_fill_sim.py; here during a recenter, with
the shorts held). The bot is left with one long leg only when a leg is closed outside it: the
operator sells it by hand through the simulator's OpenAPI. With shorts held it then goes flat,
shorts first; without shorts it buys the missing leg. Two contracts a leg (a one-contract order
cannot fill in part).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import time as clock_time
from datetime import timedelta
from decimal import Decimal
from typing import Any

from bots.delta_neutral.states import StraddleState, StrangleState
from shared.domain import Side
from shared.journal.models import FillSide
from shared.saxo_client.orders import OrderRequest
from tests.runtime.helpers import client_for
from tests.scenarios.delta_neutral.harness import (
    SPY,
    SPY_LEVEL,
    DeltaNeutralBot,
    JournalView,
    fills_pnl_usd,
    jump,
    read_journal,
    start_bot,
)
from tests.scenarios.iron_fly.harness import PLAIN_DAY, Day, until

SPEED = 300.0
RECENTER_SPEED = 150.0  # the pass between a recenter's close and buy: 0.2 s real to arm
CONTRACTS = 2
NO_FLASH = {"flash_move_percent": 10.0}  # the scripted SPY jump is no flash-move event
ONE_OF_TWO = {"amount": 1, "rest_after_seconds": 10**6}  # the rest never fills


def _holding(make_day: Callable[..., Day], start: clock_time = clock_time(9, 36),
             speed: float = SPEED, **strategy: Any) -> tuple[Day, DeltaNeutralBot]:
    """SPY pinned at 600 and the bot started with CONTRACTS a leg (`strategy` merged in)."""
    day = make_day(day=PLAIN_DAY, start=start, speed=speed)
    day.pin(SPY, SPY_LEVEL)
    settings = {**NO_FLASH, "position_size_contracts": CONTRACTS,
                "failed_action_cooldown_minutes": 1, **strategy}
    return day, start_bot(day, strategy=settings)


def _sell_by_hand(day: Day, uic: int, amount: int) -> Decimal:
    """The operator sells `amount` of `uic` at market through the simulator's OpenAPI (own
    login, a manual order); returns the sale's cash, USD: fills x 100 less commissions."""
    client = client_for(day.server, day.home / "operator")
    try:
        placed = client.place_order(OrderRequest(
            uic=uic, asset_type="StockOption", side=Side.SELL, amount=Decimal(amount),
            to_open=False, manual=True))  # fmt: skip
    finally:
        client.close()

    def cash(state: Any) -> Decimal:
        fills = [a for a in state.exchange.activities
                 if a.order_id == placed.order_id and a.fill_amount]  # fmt: skip
        assert sum(a.fill_amount for a in fills) == amount, "the manual sale did not fill"
        commission = state.exchange.commission_per_contract * amount
        gross = sum((a.execution_price * 100 * a.fill_amount for a in fills), Decimal(0))
        return gross - commission

    return Decimal(day.server.call(cash))


def _orders_on(day: Day, uic: int) -> list[str]:
    """The side of every order the simulator saw placed on `uic`, oldest first."""
    rows = day.server.call(lambda s: list(s.exchange.activities))
    seen: dict[str, str] = {}
    for row in rows:
        if row.uic == uic:
            seen.setdefault(row.order_id, row.buy_sell)
    return list(seen.values())


def _journal_equals_broker(day: Day, journal: JournalView, outside_usd: Decimal) -> None:
    """Every trade's P&L is its fills less commissions, and the account moved by exactly the
    journal's trades plus the trade made outside the bot."""
    for trade in journal.trades:
        assert trade.net_cash_usd == fills_pnl_usd(trade)
    assert day.cash_change_usd() == sum(t.net_cash_usd for t in journal.trades) + outside_usd


def test_long_leg_sold_by_hand_with_shorts_held_goes_flat_shorts_first(
    make_day: Callable[..., Day],
) -> None:
    day, bot = _holding(make_day)
    bot.wait_for(lambda s: bot.holding(), "straddle and strangle held")
    straddle, shorts = bot.dn.straddle.held, bot.dn.strangle.held
    assert straddle is not None and straddle.call is not None and straddle.put is not None
    assert shorts is not None and shorts.call is not None and shorts.put is not None

    outside = _sell_by_hand(day, straddle.call.uic, CONTRACTS)
    bot.wait_for(lambda s: s.straddle.state is StraddleState.FLAT
                 and s.strangle.state is StrangleState.NONE and day.positions() == {},
                 "everything closed")  # fmt: skip
    # The journal's straddle still holds the call sold by hand until the runtime's next
    # reconciliation (`reconcile_interval_seconds`, 600) closes it: nothing of it is left.
    jump(day, day.now() + timedelta(minutes=11))
    until(lambda: not any(t.is_open for t in read_journal(day.home).trades), 10,
          "the journal's straddle closed by the reconciliation")  # fmt: skip
    journal = read_journal(day.home)
    assert bot.stop() == 0

    assert "straddle_leg_gone" in journal.safety_names()
    assert "trade_missing_at_broker" in journal.safety_names()  # the operator is told
    (sold,) = journal.labelled("shorts")
    (bought,) = journal.labelled("straddle_entry")
    assert sold.is_flat and sold.exit_reason == "partial_straddle_with_shorts"
    # The journal holds the bot's own fills: the straddle's entry and the put's close (the
    # call's sale by hand is the operator's, counted below as outside the journal).
    assert bought.exit_reason == "missing_at_broker"
    assert [(f.uic, f.side) for f in bought.fills] == [
        (straddle.call.uic, FillSide.BUY), (straddle.put.uic, FillSide.BUY),
        (straddle.put.uic, FillSide.SELL)]  # fmt: skip
    shorts_closed = max(f.filled_at for f in sold.fills if f.side is FillSide.BUY)
    (put_closed,) = [f for f in bought.fills if f.side is FillSide.SELL]
    assert put_closed.uic == straddle.put.uic and put_closed.quantity == CONTRACTS
    assert shorts_closed <= put_closed.filled_at  # shorts first
    # No duplicate order: each leg bought or sold once to open and once to close; the call
    # sold by hand is not sold again by the bot.
    assert _orders_on(day, straddle.call.uic) == ["Buy", "Sell"]
    assert _orders_on(day, straddle.put.uic) == ["Buy", "Sell"]
    assert _orders_on(day, shorts.call.uic) == ["Sell", "Buy"]
    assert _orders_on(day, shorts.put.uic) == ["Sell", "Buy"]
    _journal_equals_broker(day, journal, outside)



def test_long_leg_sold_by_hand_without_shorts_keeps_the_other_leg_while_entries_are_blocked(
    make_day: Callable[..., Day],
) -> None:
    """The spec's third case (no shorts: keep the leg, buy the missing one) is not reached on
    this path: the journal still holds the leg sold by hand, so the runtime's reconciliation
    finds it missing at the broker and refuses every new entry until the operator resolves it
    (docs/RUNTIME.md, reconciliation). The safe outcome: the other leg is kept (PARTIAL), a
    safety event names the lost leg, nothing is bought or sold. The buy of the missing leg is
    `strategy::test_partial_straddle_without_shorts_buys_the_missing_leg`."""
    # From 14:05 ET no shorts are sold (shorts cutoff 120 min before the 16:00 close): the
    # straddle is held alone.
    day, bot = _holding(make_day, start=clock_time(14, 5), shorts_cutoff_minutes_before_close=120)
    bot.wait_for(lambda s: s.straddle.state is StraddleState.HOLDING, "straddle held")
    straddle = bot.dn.straddle.held
    assert straddle is not None and straddle.call is not None and straddle.put is not None

    outside = _sell_by_hand(day, straddle.call.uic, CONTRACTS)
    bot.wait_for(lambda s: s.straddle.state is StraddleState.PARTIAL, "the lost call seen")
    assert bot.runtime is not None
    until(lambda: "missing at the broker" in str(bot.runtime.executor.entry_blocked_reason()),
          10, "entries blocked by the reconciliation")  # fmt: skip
    jump(day, day.now() + timedelta(minutes=10))  # ten minutes of checks: nothing is bought
    day.wait_until(day.now() + timedelta(minutes=1))
    journal = read_journal(day.home)
    assert bot.stop() == 0

    assert "straddle_leg_gone" in journal.safety_names()
    assert bot.dn.straddle.state is StraddleState.PARTIAL
    assert bot.dn.strangle.state is StrangleState.NONE
    kept = bot.dn.straddle.held
    assert kept is not None and kept.call is None and kept.put == straddle.put
    assert day.positions() == {straddle.put.uic: CONTRACTS}
    assert _orders_on(day, straddle.call.uic) == ["Buy", "Sell"]  # bought, sold by hand
    assert _orders_on(day, straddle.put.uic) == ["Buy"]
    (entry,) = journal.trades
    assert entry.is_open  # the journal still holds the call: the operator resolves it
    _journal_equals_broker(day, journal, outside)


def test_half_filled_straddle_during_a_recenter_is_unwound_and_bought_again_shorts_kept(
    make_day: Callable[..., Day],
) -> None:
    """A recenter's new straddle half-filled with the shorts held (the spec's second case,
    were the leg kept) is unwound by the executor (reported `unwound`): the bot never holds
    one long leg against its shorts. The strategy keeps the shorts and buys the straddle again
    after `failed_action_cooldown_minutes` (spec 2.4: a partial recenter with safe shorts
    closes the orphan leg and buys a new straddle). Before the fix the failed buy dropped the
    straddle to FLAT and the shorts were then closed as naked: the day ended flat."""
    day, bot = _holding(make_day, speed=RECENTER_SPEED)
    bot.wait_for(lambda s: bot.holding(), "straddle and strangle held")
    first, shorts = bot.dn.straddle.held, bot.dn.strangle.held
    assert first is not None and shorts is not None

    day.pin(SPY, SPY_LEVEL + 6)  # 6 points from the strike: recenter (threshold 5 points)
    bot.wait_for(lambda s: s.straddle.state is StraddleState.RECENTER_OPENING,
                 "old straddle closed", timeout_s=10)  # fmt: skip
    day.control("POST", "/orders/partial_next", ONE_OF_TWO)  # the new straddle's first leg
    bot.wait_for(lambda s: bot.holding() and s.straddle.held is not None
                 and s.straddle.held.strike == 606, "recentered")  # fmt: skip
    journal = read_journal(day.home)
    assert bot.stop() == 0

    assert bot.dn.strangle.held == shorts  # kept, untouched
    unwound, held = journal.labelled("recenter_entry")
    assert unwound.is_flat and unwound.exit_reason == "entry_failed"
    assert unwound.pnl_usd == fills_pnl_usd(unwound) < 0  # the spread and the commissions
    assert [f.quantity for f in unwound.fills] == [1, 1]  # one contract bought, then sold
    assert [f.quantity for f in held.fills] == [CONTRACTS, CONTRACTS] and held.is_open
    assert shorts.call is not None and shorts.put is not None
    assert _orders_on(day, shorts.call.uic) == ["Sell"] == _orders_on(day, shorts.put.uic)
    assert sorted(day.positions().values()) == [-CONTRACTS, -CONTRACTS, CONTRACTS, CONTRACTS]
    _journal_equals_broker(day, journal, Decimal(0))
