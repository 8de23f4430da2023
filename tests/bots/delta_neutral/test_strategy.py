"""DeltaNeutralStrategy driven through its lifecycles with hand-built snapshots (pure, fast)."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from bots.delta_neutral.config import DeltaNeutralStrategyConfig
from bots.delta_neutral.states import StraddleState, StrangleState
from bots.delta_neutral.strategy import DeltaNeutralStrategy
from shared.domain import Position, PutCall, Side
from shared.event_calendar import EventCalendar
from shared.strategy_contract import ClosePosition, OpenPosition, OrderStyle
from tests.bots.delta_neutral.driver import (
    Market,
    decisions,
    et,
    fills_for,
    make_strategy,
    of,
    only,
    positions_after,
    report,
    snapshot,
)
from tests.bots.delta_neutral.factory import (
    LONG_EXPIRY,
    NOW,
    SHORT_EXPIRY,
    fixed_chain,
    long_chain,
    quote,
)

THURSDAY = date(2026, 6, 4)
D, G = StraddleState, StrangleState


def market() -> Market:
    return Market(chains={LONG_EXPIRY: long_chain(), SHORT_EXPIRY: fixed_chain()})


def holding_straddle_and_strangle() -> tuple[Any, Market, OpenPosition, OpenPosition]:
    """Enter the straddle (fills 12.00 / 11.50) and the first strangle on Thursday 10:00 ET."""
    strategy, mkt = make_strategy(), market()
    now = et(THURSDAY, 10)
    entry = only(strategy.decide(snapshot(mkt, now)), OpenPosition)
    fills = fills_for(entry, {"long_call": "12.00", "long_put": "11.50"}, now)
    strategy.on_execution(report(entry, "filled", fills), now)
    mkt.positions = positions_after(entry, fills)
    shorts = only(strategy.decide(snapshot(mkt, now)), OpenPosition)
    short_fills = fills_for(shorts, {"short_call": "0.38", "short_put": "0.70"}, now)
    strategy.on_execution(report(shorts, "filled", short_fills), now)
    mkt.positions += positions_after(shorts, short_fills)
    return strategy, mkt, entry, shorts


def test_waits_while_vix_is_at_the_maximum() -> None:
    strategy, mkt = make_strategy(), market()
    mkt.vix = Decimal(18)
    actions = strategy.decide(snapshot(mkt, et(THURSDAY, 10)))
    assert of(actions, OpenPosition) == []
    assert strategy.straddle.state is D.WAITING_ENTRY
    assert decisions(actions) == ["straddle_entry_waits"]


def test_waits_within_the_fomc_blackout() -> None:
    strategy, mkt = make_strategy(), market()
    actions = strategy.decide(snapshot(mkt, et(date(2026, 6, 15), 10)))  # decision on 06-17
    assert of(actions, OpenPosition) == []
    assert strategy.straddle.state is D.WAITING_ENTRY


def test_no_entry_in_the_open_delay() -> None:
    strategy, mkt = make_strategy(), market()
    assert strategy.decide(snapshot(mkt, et(THURSDAY, 9, 31))) == []


def test_entry_buys_the_atm_straddle_at_the_expiry_nearest_120_days() -> None:
    strategy = make_strategy()
    entry = only(strategy.decide(snapshot(market(), et(THURSDAY, 10))), OpenPosition)
    assert [(leg.leg, leg.side, leg.strike, leg.expiry) for leg in entry.legs] == [
        ("long_call", Side.BUY, Decimal(600), LONG_EXPIRY),
        ("long_put", Side.BUY, Decimal(600), LONG_EXPIRY),
    ]


def test_first_strangle_is_the_hand_computed_mode_a_choice() -> None:
    # Straddle cost from the fills: (12.00 + 11.50) x 100 = 2,350 USD; theta 0.05 + 0.05 per
    # day -> 70 USD a week; fees 4 USD: the same inputs as test_selection's 1 % case.
    strategy, _, _, shorts = holding_straddle_and_strangle()
    assert [(leg.leg, leg.side, leg.strike) for leg in shorts.legs] == [
        ("short_call", Side.SELL, Decimal(612)),
        ("short_put", Side.SELL, Decimal(590)),
    ]
    assert strategy.strangle.held is not None
    assert strategy.strangle.held.premium_usd == Decimal("108.00")
    assert (strategy.straddle.state, strategy.strangle.state) == (D.HOLDING, G.HOLDING)


def test_recenter_closes_the_straddle_and_rebuys_at_the_same_expiry_keeping_the_shorts() -> None:
    strategy, mkt, _, _ = holding_straddle_and_strangle()
    now = et(THURSDAY, 11)
    mkt.spot = Decimal(605)
    mkt.chains[LONG_EXPIRY] = long_chain(Decimal(605))
    close = only(strategy.decide(snapshot(mkt, now)), ClosePosition)
    assert {leg.leg for leg in close.legs} == {"long_call", "long_put"}
    close_fills = fills_for(close, {"long_call": "14.00", "long_put": "9.60"}, now)
    strategy.on_execution(report(close, "closed", close_fills), now)
    mkt.positions = [p for p in mkt.positions if p.amount < 0]
    # 23.60 - 23.50 = +10 USD less 4 x 0.65 commissions
    assert strategy._m.ledger.straddle_realized_usd == Decimal("7.40")
    rebuy = only(strategy.decide(snapshot(mkt, now)), OpenPosition)
    assert {(leg.strike, leg.expiry) for leg in rebuy.legs} == {(Decimal(605), LONG_EXPIRY)}
    assert strategy.strangle.state is G.HOLDING



def recentered_then_rebuy_unwound() -> tuple[Any, Market, OpenPosition, datetime]:
    """Holding at 11:00 ET, SPY 605: the recenter closes the straddle and its rebuy is reported
    unwound (the executor closed a half fill): (strategy, market, rebuy order, now)."""
    strategy, mkt, _, _ = holding_straddle_and_strangle()
    now = et(THURSDAY, 11)
    mkt.spot = Decimal(605)
    mkt.chains[LONG_EXPIRY] = long_chain(Decimal(605))
    close = only(strategy.decide(snapshot(mkt, now)), ClosePosition)
    close_fills = fills_for(close, {"long_call": "14.00", "long_put": "9.60"}, now)
    strategy.on_execution(report(close, "closed", close_fills), now)
    mkt.positions = [p for p in mkt.positions if p.amount < 0]
    rebuy = only(strategy.decide(snapshot(mkt, now)), OpenPosition)
    strategy.on_execution(report(rebuy, "unwound"), now)
    return strategy, mkt, rebuy, now


def test_unwound_recenter_rebuy_keeps_the_shorts_and_buys_again_after_the_cooldown() -> None:
    strategy, mkt, rebuy, now = recentered_then_rebuy_unwound()
    assert (strategy.straddle.state, strategy.strangle.state) == (D.RECENTER_OPENING, G.HOLDING)
    cooldown = timedelta(minutes=strategy._cfg.failed_action_cooldown_minutes)
    waiting = strategy.decide(snapshot(mkt, now + cooldown / 2))
    assert of(waiting, OpenPosition) == [] and of(waiting, ClosePosition) == []  # shorts kept
    again = only(strategy.decide(snapshot(mkt, now + cooldown)), OpenPosition)
    assert [(leg.leg, leg.strike, leg.expiry) for leg in again.legs] == [
        (leg.leg, leg.strike, leg.expiry) for leg in rebuy.legs
    ]
    assert again.intent_id != rebuy.intent_id


def test_recenter_rebuy_not_done_by_the_cutoff_gives_up_and_closes_the_shorts() -> None:
    strategy, mkt, _, _ = recentered_then_rebuy_unwound()
    late = et(THURSDAY, 15, 50)  # past the 15-minute recenter cutoff
    assert of(strategy.decide(snapshot(mkt, late)), OpenPosition) == []
    assert strategy.straddle.state is D.FLAT
    close = only(strategy.decide(snapshot(mkt, late)), ClosePosition)
    assert close.exit_reason == "naked_shorts"
    assert {leg.leg for leg in close.legs} == {"short_call", "short_put"}


def test_emergency_move_while_the_recenter_rebuy_waits_closes_the_kept_shorts() -> None:
    strategy, mkt, _, now = recentered_then_rebuy_unwound()
    mkt.spot = Decimal(569)  # -5.17 % from the previous close, 600; no straddle strike to judge
    actions = strategy.decide(snapshot(mkt, now + timedelta(minutes=1)))  # rebuy cooling down
    close = only(actions, ClosePosition)
    assert "emergency_move" in decisions(actions) and close.exit_reason == "emergency_move"
    assert {leg.leg for leg in close.legs} == {"short_call", "short_put"}


def test_challenged_call_closes_the_shorts_at_once() -> None:
    strategy, mkt, _, _ = holding_straddle_and_strangle()
    mkt.spot = Decimal("610.20")  # within 0.3 % (1.836) of the 612 call; recenter on cooldown
    strategy._m.cooldown_until["straddle"] = et(THURSDAY, 16)
    close = only(strategy.decide(snapshot(mkt, et(THURSDAY, 11))), ClosePosition)
    assert close.exit_reason == "challenged_call"
    assert {leg.side for leg in close.legs} == {Side.BUY}


def test_emergency_move_closes_shorts_first_then_the_straddle() -> None:
    strategy, mkt, _, _ = holding_straddle_and_strangle()
    now = et(date(2026, 6, 5), 11)  # the next day: SPY 600 after a 632 close, -5.06 %
    mkt.spot, mkt.previous_close = Decimal(600), Decimal(632)
    actions = strategy.decide(snapshot(mkt, now))
    first = only(actions, ClosePosition)
    assert "emergency_move" in decisions(actions)
    assert {leg.leg for leg in first.legs} == {"short_call", "short_put"}
    fills = fills_for(first, {"short_call": "0.01", "short_put": "2.10"}, now)
    strategy.on_execution(report(first, "closed", fills), now)
    mkt.positions = [p for p in mkt.positions if p.amount > 0]
    second = only(strategy.decide(snapshot(mkt, now)), ClosePosition)
    assert {leg.leg for leg in second.legs} == {"long_call", "long_put"}
    strategy.on_execution(report(second, "closed", ()), now)
    mkt.positions = []
    strategy.decide(snapshot(mkt, now))
    assert (strategy.straddle.state, strategy.strangle.state) == (D.FLAT, G.NONE)


def test_half_filled_strangle_closes_its_naked_short() -> None:
    strategy, mkt = make_strategy(), market()
    now = et(THURSDAY, 10)
    entry = only(strategy.decide(snapshot(mkt, now)), OpenPosition)
    fills = fills_for(entry, {"long_call": "12.00", "long_put": "11.50"}, now)
    strategy.on_execution(report(entry, "filled", fills), now)
    mkt.positions = positions_after(entry, fills)
    shorts = only(strategy.decide(snapshot(mkt, now)), OpenPosition)
    half = fills_for(shorts, {"short_call": "0.38"}, now)
    strategy.on_execution(report(shorts, "failed", half), now)
    mkt.positions += positions_after(shorts, half)
    close = only(strategy.decide(snapshot(mkt, now)), ClosePosition)
    assert [(leg.leg, leg.side) for leg in close.legs] == [("short_call", Side.BUY)]
    assert strategy.straddle.state is D.HOLDING


def test_early_assigned_short_raises_a_safety_event_and_closes_the_other_short() -> None:
    strategy, mkt, _, shorts = holding_straddle_and_strangle()
    put_uic = next(leg.uic for leg in shorts.legs if leg.put_call is PutCall.PUT)
    mkt.positions = [p for p in mkt.positions if p.uic != put_uic]
    actions = strategy.decide(snapshot(mkt, et(THURSDAY, 11)))
    assert "strangle_leg_gone" in decisions(actions)
    close = only(actions, ClosePosition)
    assert [leg.leg for leg in close.legs] == ["short_call"]


def test_a_short_quoted_at_a_zero_bid_is_still_bought_back() -> None:
    """DATA-004 keeps zero bids out of openings only: closing a risk position needs an ask."""
    strategy, mkt, _, shorts = holding_straddle_and_strangle()
    for leg in shorts.legs:
        mkt.chains[SHORT_EXPIRY][1][leg.uic] = quote(leg.uic, "0", "0.05")
    put_uic = next(leg.uic for leg in shorts.legs if leg.put_call is PutCall.PUT)
    mkt.positions = [p for p in mkt.positions if p.uic != put_uic]  # the put was assigned
    close = only(strategy.decide(snapshot(mkt, et(THURSDAY, 11))), ClosePosition)
    assert [(leg.leg, leg.side) for leg in close.legs] == [("short_call", Side.BUY)]


def test_positions_read_before_a_fill_are_not_judged_until_they_settle() -> None:
    """A snapshot whose positions predate the shorts' fill (the runtime re-reads them a pass
    later) does not make the fresh shorts "gone"; the same picture 15 s on does."""
    strategy, mkt, _, shorts = holding_straddle_and_strangle()
    mkt.positions = [p for p in mkt.positions if p.uic not in {leg.uic for leg in shorts.legs}]
    filled_at = et(THURSDAY, 10)
    soon = strategy.decide(snapshot(mkt, filled_at + timedelta(seconds=5)))
    assert "strangle_leg_gone" not in decisions(soon) and of(soon, ClosePosition) == []
    assert strategy.strangle.state is G.HOLDING
    later = strategy.decide(snapshot(mkt, filled_at + timedelta(seconds=16)))
    assert "strangle_leg_gone" in decisions(later)


def shorts_expiring_tomorrow(close_ask: str, **config: Any) -> tuple[Any, Market]:
    """A restart on Thursday 15:30 ET holding the straddle and shorts that expire Friday,
    whose asks are `close_ask` each; the new week's chain is the fixed chain (108 USD).
    `config`: strategy settings over the defaults."""
    strategy, mkt = make_strategy(**config), market()
    old_expiry = date(2026, 6, 5)
    old_chain, old_quotes = fixed_chain(expiry=old_expiry, uic_base=3000)
    call = next(c for c in old_chain if c.put_call is PutCall.CALL and c.strike == 612)
    put = next(c for c in old_chain if c.put_call is PutCall.PUT and c.strike == 590)
    for leg in (call, put):
        old_quotes[leg.uic] = quote(leg.uic, "0.01", close_ask)
    mkt.chains[old_expiry] = ([call, put], {u: old_quotes[u] for u in (call.uic, put.uic)})
    long_call, long_put = (c for c in long_chain()[0] if c.strike == 600)
    mkt.positions = [
        Position(
            "a",
            long_call.uic,
            "StockOption",
            Decimal(1),
            Decimal(12),
            strike=Decimal(600),
            expiry=LONG_EXPIRY,
            put_call=PutCall.CALL,
        ),
        Position(
            "b",
            long_put.uic,
            "StockOption",
            Decimal(1),
            Decimal("11.50"),
            strike=Decimal(600),
            expiry=LONG_EXPIRY,
            put_call=PutCall.PUT,
        ),
        Position(
            "c",
            call.uic,
            "StockOption",
            Decimal(-1),
            Decimal("0.40"),
            strike=Decimal(612),
            expiry=old_expiry,
            put_call=PutCall.CALL,
        ),
        Position(
            "d",
            put.uic,
            "StockOption",
            Decimal(-1),
            Decimal("0.70"),
            strike=Decimal(590),
            expiry=old_expiry,
            put_call=PutCall.PUT,
        ),
    ]
    assert strategy.restore(None, mkt.positions, et(THURSDAY, 15, 30)) == []
    return strategy, mkt


def test_scheduled_roll_goes_ahead_for_a_net_credit() -> None:
    strategy, mkt = shorts_expiring_tomorrow(close_ask="0.10")  # 20 USD to close < 108 USD
    now = et(THURSDAY, 15, 30)
    close = only(strategy.decide(snapshot(mkt, now)), ClosePosition)
    assert close.exit_reason.startswith("scheduled_roll credit 88.00 (premium 108.00")
    strategy.on_execution(report(close, "closed", ()), now)
    mkt.positions = [p for p in mkt.positions if p.amount > 0]
    new = only(strategy.decide(snapshot(mkt, now)), OpenPosition)
    assert {(leg.strike, leg.expiry) for leg in new.legs} == {
        (Decimal(612), SHORT_EXPIRY),
        (Decimal(590), SHORT_EXPIRY),
    }
    assert strategy._m.ledger.rolls == 1


def test_roll_refused_for_a_debit_keeps_the_shorts() -> None:
    strategy, mkt = shorts_expiring_tomorrow(close_ask="0.60")  # 120 USD to close > 108 USD
    actions = strategy.decide(snapshot(mkt, et(THURSDAY, 15, 30)))
    assert of(actions, ClosePosition) == [] and of(actions, OpenPosition) == []
    assert decisions(actions) == ["roll_refused_debit"]
    assert strategy.strangle.state is G.HOLDING


def _cheapen_old_shorts(mkt: Market, ask: str) -> None:
    """The expiring shorts' asks drop to `ask` each (the roll becomes a credit)."""
    contracts, quotes = mkt.chains[date(2026, 6, 5)]
    mkt.chains[date(2026, 6, 5)] = (contracts, {u: quote(u, "0.01", ask) for u in quotes})


def _weekly_chain_asked(strategy: DeltaNeutralStrategy, now: datetime) -> bool:
    return any(w.expiry == SHORT_EXPIRY for w in strategy.data_request(now).option_windows)


def test_refused_roll_is_not_priced_again_within_the_retry_interval() -> None:
    strategy, mkt = shorts_expiring_tomorrow(close_ask="0.60", roll_retry_minutes=5)
    refused_at = et(THURSDAY, 15, 30)
    assert _weekly_chain_asked(strategy, refused_at)
    strategy.decide(snapshot(mkt, refused_at))
    _cheapen_old_shorts(mkt, "0.10")  # a credit now, but the retry time has not come
    for seconds in (15, 120, 299):
        now = refused_at + timedelta(seconds=seconds)
        assert not _weekly_chain_asked(strategy, now)  # no chain look-ups while waiting
        assert of(strategy.decide(snapshot(mkt, now)), ClosePosition) == []
    assert strategy.strangle.state is G.HOLDING


def test_wake_hint_after_a_refused_roll_sleeps_until_its_retry_time() -> None:
    strategy, mkt = shorts_expiring_tomorrow(close_ask="0.60", roll_retry_minutes=5)
    refused_at = et(THURSDAY, 15, 30)
    strategy.decide(snapshot(mkt, refused_at))
    hint = strategy.wake_hint(snapshot(mkt, refused_at + timedelta(seconds=15)))
    assert hint is not None and hint.until == refused_at + timedelta(minutes=5)


def test_refused_roll_is_priced_again_after_the_retry_interval() -> None:
    strategy, mkt = shorts_expiring_tomorrow(close_ask="0.60", roll_retry_minutes=5)
    refused_at = et(THURSDAY, 15, 30)
    strategy.decide(snapshot(mkt, refused_at))
    retry_at = refused_at + timedelta(minutes=5)
    assert _weekly_chain_asked(strategy, retry_at)
    assert of(strategy.decide(snapshot(mkt, retry_at)), ClosePosition) == []  # still a debit
    _cheapen_old_shorts(mkt, "0.10")
    assert of(strategy.decide(snapshot(mkt, retry_at + timedelta(minutes=4))), ClosePosition) == []
    close = only(strategy.decide(snapshot(mkt, retry_at + timedelta(minutes=5))), ClosePosition)
    assert close.exit_reason.startswith("scheduled_roll credit 88.00")


def challenged_call_closed(close_ask: str) -> tuple[Any, Market]:
    """Holding straddle and shorts (612 call, 590 put); SPY 610.20 is within 0.3 % of the
    612 call at 11:00 ET (recenter on cooldown): the shorts are bought back at `close_ask`
    each (the estimate the re-sale must beat is the same asks)."""
    strategy, mkt, _, shorts = holding_straddle_and_strangle()
    for leg in shorts.legs:
        mkt.chains[SHORT_EXPIRY][1][leg.uic] = quote(leg.uic, "0.01", close_ask)
    mkt.spot = Decimal("610.20")
    strategy._m.cooldown_until["straddle"] = et(THURSDAY, 16)
    now = et(THURSDAY, 11)
    close = only(strategy.decide(snapshot(mkt, now)), ClosePosition)
    assert close.exit_reason == "challenged_call"
    strategy.on_execution(report(close, "closed", fills_for(
        close, {"short_call": close_ask, "short_put": close_ask}, now)), now)  # fmt: skip
    mkt.positions = [p for p in mkt.positions if p.amount > 0]
    return strategy, mkt


def test_challenged_resale_refused_for_a_debit_exits_everything() -> None:
    strategy, mkt = challenged_call_closed(close_ask="2.00")  # 400 USD to beat
    actions = strategy.decide(snapshot(mkt, et(THURSDAY, 11)))
    exit_close = only(actions, ClosePosition)
    assert decisions(actions) == ["challenged_resale_refused_debit", "challenged_roll_failed"]
    assert exit_close.exit_reason == "challenged_roll_failed"
    assert {leg.leg for leg in exit_close.legs} == {"long_call", "long_put"}
    assert strategy.straddle.state is D.CLOSING and of(actions, OpenPosition) == []


def test_challenged_side_past_the_shorts_cutoff_exits_everything() -> None:
    strategy, mkt = challenged_call_closed(close_ask="0.10")  # a credit, but too late
    late = et(THURSDAY, 15, 59)
    actions = strategy.decide(snapshot(mkt, late))
    assert only(actions, ClosePosition).exit_reason == "challenged_roll_failed"
    assert of(actions, OpenPosition) == []


def test_challenged_resale_for_a_credit_sells_new_shorts_and_keeps_the_straddle() -> None:
    strategy, mkt = challenged_call_closed(close_ask="0.10")  # 20 USD < the new premium
    actions = strategy.decide(snapshot(mkt, et(THURSDAY, 11, 1)))
    assert {leg.leg for leg in only(actions, OpenPosition).legs} == {"short_call", "short_put"}
    assert strategy.straddle.state is D.HOLDING


def test_no_roll_before_thursday_1500() -> None:
    strategy, mkt = shorts_expiring_tomorrow(close_ask="0.10")
    assert strategy.decide(snapshot(mkt, et(THURSDAY, 14, 59))) == []


def test_dte_exit_closes_the_straddle_once_below_60_days() -> None:
    strategy, mkt = shorts_expiring_tomorrow(close_ask="0.10")
    mkt.positions = [p for p in mkt.positions if p.amount > 0]  # the shorts expired 06-05
    close = only(strategy.decide(snapshot(mkt, et(date(2026, 8, 18), 10))), ClosePosition)
    assert close.exit_reason == "long_dte_exit"  # 59 days to 2026-10-16
    assert {leg.leg for leg in close.legs} == {"long_call", "long_put"}
    assert strategy.strangle.state is G.NONE


def test_proactive_restart_when_new_shorts_would_outlive_the_dte_exit() -> None:
    strategy, mkt = shorts_expiring_tomorrow(close_ask="0.10")
    strategy.strangle.held = None
    strategy.strangle.state = G.NONE
    mkt.positions = [p for p in mkt.positions if p.amount > 0]
    # 2026-08-10: 67 days left; next Friday >= 7 days out is 08-21, after the 08-17 exit date.
    close = only(strategy.decide(snapshot(mkt, et(date(2026, 8, 10), 10))), ClosePosition)
    assert close.exit_reason == "proactive_restart"
    assert {leg.leg for leg in close.legs} == {"long_call", "long_put"}


def test_no_roll_into_shorts_past_the_exit_date_everything_closes_shorts_first() -> None:
    # Straddle to 2026-10-16 with long_exit_dte 127: exit from 06-11; the roll on Thursday
    # 06-04 would sell shorts to 06-12, past it: a proactive restart instead of the roll.
    strategy, mkt = shorts_expiring_tomorrow(
        close_ask="0.10", long_straddle_target_dte=200, long_exit_dte=127
    )
    now = et(THURSDAY, 15, 30)
    first = only(strategy.decide(snapshot(mkt, now)), ClosePosition)
    assert first.exit_reason == "proactive_restart"
    assert {leg.leg for leg in first.legs} == {"short_call", "short_put"}
    strategy.on_execution(report(first, "closed", ()), now)
    mkt.positions = [p for p in mkt.positions if p.amount > 0]
    second = only(strategy.decide(snapshot(mkt, now)), ClosePosition)
    assert second.exit_reason == "proactive_restart"
    assert {leg.leg for leg in second.legs} == {"long_call", "long_put"}
    assert strategy._m.ledger.rolls == 0


def test_restart_keeps_the_money_only_from_the_broker_open_prices() -> None:
    strategy, _ = shorts_expiring_tomorrow(close_ask="0.10")
    assert strategy.straddle.held is not None and strategy.strangle.held is not None
    assert strategy.straddle.held.cost_usd == Decimal("2350.00")
    assert strategy.strangle.held.premium_usd == Decimal("110.00")


def entered_straddle_only(
    call_price: str | None, put_price: str | None, status: str = "failed"
) -> tuple[Any, Market]:
    """Thursday 10:00 ET: the straddle entry reports `status` with the legs priced here."""
    strategy, mkt = make_strategy(), market()
    now = et(THURSDAY, 10)
    entry = only(strategy.decide(snapshot(mkt, now)), OpenPosition)
    prices = {k: v for k, v in (("long_call", call_price), ("long_put", put_price)) if v}
    fills = fills_for(entry, prices, now)
    strategy.on_execution(report(entry, status, fills), now)
    mkt.positions = positions_after(entry, fills)
    return strategy, mkt


def test_partial_straddle_without_shorts_buys_the_missing_leg() -> None:
    strategy, mkt = entered_straddle_only("12.00", None)
    assert strategy.straddle.state is D.PARTIAL
    order = only(strategy.decide(snapshot(mkt, et(THURSDAY, 10, 5))), OpenPosition)
    assert [(leg.leg, leg.strike, leg.side) for leg in order.legs] == [
        ("long_put", Decimal(600), Side.BUY)
    ]
    strategy.on_execution(
        report(order, "filled", fills_for(order, {"long_put": "11.50"}, NOW)), NOW
    )
    assert strategy.straddle.state is D.HOLDING
    assert strategy.straddle.held is not None and strategy.straddle.held.cost_usd == Decimal(2350)


def test_partial_straddle_with_shorts_goes_flat_shorts_first() -> None:
    strategy, mkt, entry, _ = holding_straddle_and_strangle()
    put_uic = next(leg.uic for leg in entry.legs if leg.put_call is PutCall.PUT)
    mkt.positions = [p for p in mkt.positions if p.uic != put_uic]  # a long leg vanished
    actions = strategy.decide(snapshot(mkt, et(THURSDAY, 11)))
    close = only(actions, ClosePosition)
    assert close.exit_reason == "partial_straddle_with_shorts"
    assert {leg.leg for leg in close.legs} == {"short_call", "short_put"}


def test_stuck_close_is_reissued_after_the_cooldown() -> None:
    strategy, mkt, _, _ = holding_straddle_and_strangle()
    mkt.spot = Decimal("610.20")
    strategy._m.cooldown_until["straddle"] = et(THURSDAY, 16)
    close = only(strategy.decide(snapshot(mkt, et(THURSDAY, 11))), ClosePosition)
    strategy.on_execution(report(close, "stuck"), et(THURSDAY, 11))
    assert strategy.strangle.state is G.CLOSE_STUCK
    assert of(strategy.decide(snapshot(mkt, et(THURSDAY, 11, 5))), ClosePosition) == []
    again = only(strategy.decide(snapshot(mkt, et(THURSDAY, 11, 16))), ClosePosition)
    assert again.intent_id != close.intent_id and {leg.leg for leg in again.legs} == {
        "short_call",
        "short_put",
    }


def test_nothing_new_after_1245_on_a_half_day() -> None:
    strategy, mkt = make_strategy(), market()
    half_day = date(2026, 11, 27)
    mkt.chains = {}
    assert strategy.decide(snapshot(mkt, et(half_day, 12, 45))) == []
    assert strategy.straddle.state is D.FLAT


def test_vix_spike_blocks_new_shorts_but_keeps_the_straddle() -> None:
    strategy, mkt = entered_straddle_only("12.00", "11.50", status="filled")
    mkt.vix = Decimal(26)
    actions = strategy.decide(snapshot(mkt, et(THURSDAY, 10, 5)))
    assert of(actions, OpenPosition) == [] and of(actions, ClosePosition) == []
    assert decisions(actions) == ["shorts_wait"]


def test_no_usable_quotes_means_no_entry_and_a_reason() -> None:
    strategy, mkt = make_strategy(), market()
    mkt.chains = {}
    actions = strategy.decide(snapshot(mkt, et(THURSDAY, 10)))
    assert of(actions, OpenPosition) == []
    assert decisions(actions) == ["straddle_entry_not_yet"]


def test_expired_shorts_are_dropped_the_next_day() -> None:
    strategy, mkt = shorts_expiring_tomorrow(close_ask="0.10")
    mkt.positions = [p for p in mkt.positions if p.amount > 0]  # settled by the broker
    strategy.decide(snapshot(mkt, et(date(2026, 6, 8), 9, 31)))
    assert strategy.strangle.state is G.NONE and strategy.strangle.held is None


def test_expired_shorts_still_shown_at_the_close_are_no_orphans() -> None:
    strategy, mkt = shorts_expiring_tomorrow(close_ask="0.10")
    actions = strategy.decide(snapshot(mkt, et(date(2026, 6, 5), 16)))  # not settled yet
    assert strategy.strangle.state is G.NONE and strategy.strangle.held is None
    assert "orphan_position" not in decisions(actions)


def test_restart_with_extra_straddle_legs_flags_the_orphans() -> None:
    strategy, mkt = shorts_expiring_tomorrow(close_ask="0.10")
    extra = mkt.positions[0]
    mkt.positions.append(
        Position(
            "x",
            extra.uic + 1,
            "StockOption",
            Decimal(1),
            Decimal(12),
            strike=Decimal(601),
            expiry=LONG_EXPIRY,
            put_call=PutCall.CALL,
        )
    )
    actions = strategy.decide(snapshot(mkt, et(THURSDAY, 11)))
    assert "orphan_position" in decisions(actions)


def test_restart_with_a_lone_short_closes_it_at_once() -> None:
    strategy = make_strategy()
    lone = Position(
        "s",
        1007,
        "StockOption",
        Decimal(-1),
        Decimal("0.38"),
        strike=Decimal(612),
        expiry=SHORT_EXPIRY,
        put_call=PutCall.CALL,
    )
    (close,) = strategy.restore(None, [lone], et(THURSDAY, 11))
    assert isinstance(close, ClosePosition)
    assert [(leg.uic, leg.side) for leg in close.legs] == [(1007, Side.BUY)]


def test_saved_state_round_trips_through_a_restart() -> None:
    strategy, mkt, _, _ = holding_straddle_and_strangle()
    saved = strategy.export_state()
    again = make_strategy()
    assert again.restore(saved, mkt.positions, et(THURSDAY, 12)) == []
    assert again.straddle.held == strategy.straddle.held
    assert again.strangle.held == strategy.strangle.held
    assert again.state_name() == "straddle:holding/strangle:holding"


def test_corrupt_saved_state_is_refused_naming_the_field() -> None:
    strategy, mkt, _, _ = holding_straddle_and_strangle()
    saved = strategy.export_state()
    saved["straddle"]["state"] = "sideways"
    with pytest.raises(ValueError, match=r"straddle\.state invalid: 'sideways'"):
        make_strategy().restore(saved, mkt.positions, et(THURSDAY, 12))


def test_flash_move_raises_a_safety_event() -> None:
    strategy, mkt, _, _ = holding_straddle_and_strangle()
    strategy._m.cooldown_until["straddle"] = et(THURSDAY, 16)  # no recenter in this test
    strategy.decide(snapshot(mkt, et(THURSDAY, 11)))
    mkt.spot = Decimal("612.30")  # +2.05 % within two minutes
    actions = strategy.decide(snapshot(mkt, et(THURSDAY, 11, 2)))
    assert "flash_move" in decisions(actions)


def test_breaker_blocks_new_entries_not_protection() -> None:
    strategy, mkt = make_strategy(), market()
    blocked = replace(snapshot(mkt, et(THURSDAY, 10)), breaker_allows_entries=False)
    assert strategy.decide(blocked) == []
    held, mkt2, _, _ = holding_straddle_and_strangle()
    mkt2.spot, mkt2.previous_close = Decimal(600), Decimal(640)
    emergency = replace(snapshot(mkt2, et(date(2026, 6, 5), 11)), breaker_allows_entries=False)
    assert of(held.decide(emergency), ClosePosition)


def test_rejected_entry_returns_to_flat_and_is_tried_again() -> None:
    strategy, mkt = entered_straddle_only(None, None)
    assert strategy.straddle.state is D.FLAT
    assert of(strategy.decide(snapshot(mkt, et(THURSDAY, 10, 5))), OpenPosition)


def test_no_new_decision_while_an_order_is_in_flight() -> None:
    strategy, mkt = make_strategy(), market()
    only(strategy.decide(snapshot(mkt, et(THURSDAY, 10))), OpenPosition)
    assert strategy.decide(snapshot(mkt, et(THURSDAY, 10, 1))) == []


def test_restart_with_one_straddle_leg_buys_the_other() -> None:
    long_call = next(c for c in long_chain()[0] if c.strike == 600 and c.put_call is PutCall.CALL)
    strategy, mkt = make_strategy(), market()
    mkt.positions = [
        Position("a", long_call.uic, "StockOption", Decimal(1), Decimal(12), strike=Decimal(600),
                 expiry=LONG_EXPIRY, put_call=PutCall.CALL)
    ]  # fmt: skip
    assert strategy.restore(None, mkt.positions, et(THURSDAY, 10)) == []
    assert strategy.straddle.state is D.PARTIAL
    order = only(strategy.decide(snapshot(mkt, et(THURSDAY, 10))), OpenPosition)
    assert [leg.leg for leg in order.legs] == ["long_put"]


def test_orders_follow_the_configured_order_style() -> None:
    strategy = DeltaNeutralStrategy(
        config=DeltaNeutralStrategyConfig(), calendar=EventCalendar(),
        order_style=OrderStyle.LIMIT_LADDER,
    )  # fmt: skip
    entry = only(strategy.decide(snapshot(market(), et(THURSDAY, 10))), OpenPosition)
    assert entry.order_style is OrderStyle.LIMIT_LADDER


def test_mode_a_without_greeks_counts_no_theta() -> None:
    # No theta: 23.50 target + 4 fees = 27.50 USD, bids >= 0.275: 616 call + 584 put (0.28)
    # reach it at 2.0 expected moves, the cap.
    strategy, mkt = make_strategy(), market()
    mkt.chains[LONG_EXPIRY] = long_chain(theta=None)
    now = et(THURSDAY, 10)
    entry = only(strategy.decide(snapshot(mkt, now)), OpenPosition)
    fills = fills_for(entry, {"long_call": "12.00", "long_put": "11.50"}, now)
    strategy.on_execution(report(entry, "filled", fills), now)
    mkt.positions = positions_after(entry, fills)
    shorts = only(strategy.decide(snapshot(mkt, now)), OpenPosition)
    assert [leg.strike for leg in shorts.legs] == [Decimal(616), Decimal(584)]


def test_a_recenter_days_later_rebuys_at_the_old_expiry_not_a_new_target() -> None:
    # Entered 2026-06-04 at the 10-16 expiry; a recenter on 07-20 (+120 days = 11-17, whose
    # nearest monthly is 11-20) must ask for and buy the 10-16 straddle again.
    strategy, mkt, _, _ = holding_straddle_and_strangle()
    mkt.positions = [p for p in mkt.positions if p.amount > 0]  # the shorts expired 06-12
    later = et(date(2026, 7, 20), 11)  # +120 days = 11-17: the monthly target is 11-20
    mkt.spot = Decimal(606)
    mkt.chains[LONG_EXPIRY] = long_chain(Decimal(606))
    close = only(strategy.decide(snapshot(mkt, later)), ClosePosition)
    strategy.on_execution(report(close, "closed", ()), later)
    mkt.positions = []
    windows = strategy.data_request(later).option_windows
    assert [w.expiry for w in windows] == [LONG_EXPIRY]
    rebuy = only(strategy.decide(snapshot(mkt, later)), OpenPosition)
    assert {leg.expiry for leg in rebuy.legs} == {LONG_EXPIRY}


def test_a_partial_straddle_asks_for_its_own_expiry() -> None:
    strategy, _ = entered_straddle_only("12.00", None)
    windows = strategy.data_request(et(date(2026, 7, 20), 11)).option_windows
    assert [w.expiry for w in windows] == [LONG_EXPIRY]
