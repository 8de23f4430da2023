"""RollingPutDiagonalStrategy driven through whole days by a pure desk (driver.py): entry,
the once-a-day short roll, long roll-ups, every campaign close, assignment, restarts."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, time, timedelta
from decimal import Decimal

import pytest

from bots.rolling_put_diagonal.lifecycles import CampaignLifecycle
from bots.rolling_put_diagonal.states import CampaignState, Trigger
from shared import market_hours
from shared.domain import Position, PutCall, Side
from shared.sheets import CampaignRow
from shared.strategy_contract import ClosePosition, OpenPosition, RecordEvent
from tests.bots.rolling_put_diagonal import driver
from tests.bots.rolling_put_diagonal.driver import (
    QQQ,
    Desk,
    et,
    falling_bars,
    intents,
    make_strategy,
    names,
    put_uic,
    rising_bars,
    run_day,
)

MONDAY = date(2026, 3, 2)  # a quiet week: no FOMC, no megacap earnings
WEEK = [MONDAY + timedelta(days=i) for i in range(5)]


def prev(day: date) -> date:
    return market_hours.previous_session(day).day


def opened_desk(**config: object) -> Desk:
    """A desk whose strategy opened a campaign on MONDAY morning (long, then the short)."""
    desk = Desk(make_strategy(**config))
    desk.bars = rising_bars(prev(MONDAY), 499.0)
    run_day(desk, MONDAY, end=time(10, 30))
    assert desk.strategy.cycle.state is CampaignState.OPEN
    return desk


def next_day(desk: Desk, day: date, **kwargs: object) -> list:
    desk.bars = rising_bars(prev(day), float(desk.price))
    return run_day(desk, day, **kwargs)  # type: ignore[arg-type]


def test_entry_buys_the_long_near_minus_033_at_14_dte_then_sells_the_atm_short() -> None:
    desk = opened_desk()
    long_buy, short_sale = desk.orders
    assert isinstance(long_buy, OpenPosition) and long_buy.legs[0].side is Side.BUY
    assert long_buy.legs[0].expiry == date(2026, 3, 16)  # 14 days out
    quote = desk.put_quote(long_buy.legs[0].uic, et(MONDAY, 9, 45))
    assert quote.greeks is not None and abs(quote.greeks.delta + 0.33) <= 0.05  # type: ignore[operator]
    assert isinstance(short_sale, OpenPosition) and short_sale.legs[0].side is Side.SELL
    assert short_sale.legs[0].expiry == date(2026, 3, 3)  # the next trading day
    assert short_sale.legs[0].strike == Decimal(500)  # ATM
    assert long_buy.intent_id.split(":")[1] == "entry"


def test_no_entry_while_the_daily_bars_fall_and_the_reason_is_journaled() -> None:
    desk = Desk(make_strategy())
    desk.bars = falling_bars(prev(MONDAY), 499.0)
    actions = run_day(desk, MONDAY)
    assert desk.orders == []
    assert names(actions).count("entry_waits") == 1  # once a day, not on every pass


def test_no_entry_in_the_open_delay_nor_when_the_breaker_blocks_entries() -> None:
    desk = Desk(make_strategy(market_open_delay_minutes=10))
    desk.bars = rising_bars(prev(MONDAY), 499.0)
    run_day(desk, MONDAY, every_minutes=5, end=time(9, 40))
    assert desk.orders == []
    snap = replace(desk.snapshot(et(MONDAY, 10, 30)), breaker_allows_entries=False)
    assert not [a for a in desk.strategy.decide(snap) if isinstance(a, OpenPosition)]


def test_the_short_is_rolled_exactly_once_per_trading_day_at_the_roll_time_over_a_week() -> None:
    desk = opened_desk()
    for day in WEEK:
        next_day(desk, day, every_minutes=5)
    rolls = [o for o in desk.orders if ":roll_short:" in o.intent_id]
    days = [o.intent_id.split(":")[2] for o in rolls]
    assert days == [str(d) for d in WEEK[1:]]  # Tuesday to Friday: once each
    assert all(o.intent_id.endswith("-120000:c1") for o in rolls)  # at 12:00 ET
    sales = intents(desk, "sell_short")
    assert len(sales) == 5  # Monday's first short + one per roll
    assert desk.strategy.cycle.campaign.short_rolls == 4


def test_a_roll_is_vertical_at_or_above_the_short_strike_and_horizontal_below() -> None:
    desk = opened_desk()
    desk.price = Decimal(503)  # above the 500 short: new ATM strike
    next_day(desk, WEEK[1], end=time(12, 30))
    assert desk.strategy.cycle.campaign.short.strike == Decimal(503)  # type: ignore[union-attr]
    desk.price = Decimal("499.40")  # below the 503 short: same strike, next expiry
    next_day(desk, WEEK[2], end=time(12, 30))
    short = desk.strategy.cycle.campaign.short
    assert short is not None and short.strike == Decimal(503) and short.expiry == WEEK[3]
    assert desk.strategy.cycle.campaign.vertical_rolls == 1


def test_the_campaign_closes_at_campaign_close_dte_short_first_with_pnl_from_every_fill() -> None:
    desk = opened_desk(campaign_close_dte=5)
    day = MONDAY
    while desk.strategy.cycle.state is not CampaignState.FLAT:
        day = market_hours.next_session(day).day
        next_day(desk, day)
    closes = [o for o in desk.orders if isinstance(o, ClosePosition) and ":close_" in o.intent_id]
    assert [o.legs[0].side for o in closes] == [Side.BUY, Side.SELL]  # short, then long
    assert closes[0].exit_reason == "long_expiring"
    assert (date(2026, 3, 16) - day).days <= 5
    ledger = desk.strategy.memory.ledger
    assert all(o.intent_id.endswith(":c1") for o in desk.orders)
    # Every roll and both legs, less every commission: the desk's own sum, to the cent.
    assert ledger.campaigns == 1 and ledger.realized_usd == desk.fills_net_usd()
    assert desk.positions == {}
    (record,) = [a for a in desk.reported if isinstance(a, RecordEvent) and a.kind == "campaign"]
    row = CampaignRow(**record.payload)  # the Sheets Campaigns row accepts it
    assert row.net_pnl_usd == ledger.realized_usd and row.campaign_number == 1
    assert row.start_date == MONDAY and row.total_rolls == len(intents(desk, "roll_short"))


def test_a_close_below_the_ema_closes_on_the_previous_session_close_not_a_partial_bar() -> None:
    desk = opened_desk()
    desk.bars = falling_bars(prev(WEEK[1]), 499.0)
    today_partial = replace(desk.bars[-1], time=desk.bars[-1].time + timedelta(days=1),
                            close=600.0)  # fmt: skip
    desk.bars = (*desk.bars, today_partial)  # ignored: today's bar is not complete
    run_day(desk, WEEK[1], end=time(10, 0))
    closes = [o for o in desk.orders if isinstance(o, ClosePosition)]
    assert closes and closes[0].exit_reason == "close_below_ema"
    assert desk.strategy.cycle.state is CampaignState.FLAT


def test_the_loss_limit_closes_the_campaign() -> None:
    desk = opened_desk(max_loss_usd_per_contract=Decimal(50))
    desk.price = Decimal(520)  # the long put loses value fast
    desk.bars = rising_bars(prev(WEEK[1]), 519.0)
    run_day(desk, WEEK[1], end=time(10, 0))
    closes = [o for o in desk.orders if isinstance(o, ClosePosition)]
    assert closes and closes[0].exit_reason == "max_loss"


def test_an_fomc_meeting_closes_the_campaign_then_waits_until_it_passes() -> None:
    fomc_eve = date(2026, 3, 16)  # the March meeting is 17-18
    desk = Desk(make_strategy(campaign_close_dte=0, long_put_target_dte=21))
    desk.bars = rising_bars(prev(date(2026, 3, 12)), 499.0)
    run_day(desk, date(2026, 3, 12), end=time(10, 30))
    assert desk.strategy.cycle.state is CampaignState.OPEN
    next_day(desk, date(2026, 3, 13))
    next_day(desk, fomc_eve, end=time(10, 0))
    assert desk.strategy.cycle.state is CampaignState.WAITING_EVENT
    assert [o.exit_reason for o in desk.orders if isinstance(o, ClosePosition)][-2:] == [
        "event", "event"]  # fmt: skip
    next_day(desk, date(2026, 3, 18))
    assert desk.strategy.cycle.state is CampaignState.WAITING_EVENT
    next_day(desk, date(2026, 3, 19), end=time(9, 45))
    assert desk.strategy.cycle.state is CampaignState.FLAT


def test_the_long_is_rolled_up_when_its_delta_falls_new_long_bought_first() -> None:
    desk = opened_desk()
    old_long = desk.strategy.cycle.campaign.long
    desk.price = Decimal(512)  # the 492 long's delta falls under 0.20
    next_day(desk, WEEK[1], end=time(11, 0))
    buy, sell = [o for o in desk.orders if ":roll_long_" in o.intent_id]
    assert buy.legs[0].side is Side.BUY and sell.legs[0].uic == old_long.uic  # type: ignore[union-attr]
    campaign = desk.strategy.cycle.campaign
    assert campaign.long_rolls == 1 and campaign.retiring is None
    assert campaign.long is not None and campaign.long.strike > old_long.strike  # type: ignore[union-attr]


def test_the_long_is_rolled_up_when_the_margin_reaches_the_threshold() -> None:
    desk = opened_desk(long_roll_bp_threshold_usd=Decimal(700))
    desk.margin_used_usd = Decimal(800)  # the account's margin used, from the balance
    desk.price = Decimal(503)  # the long's delta stays above 0.20; a higher strike is -0.33
    next_day(desk, WEEK[1], end=time(11, 0))
    (buy,) = [o for o in desk.orders if ":roll_long_buy:" in o.intent_id]
    assert isinstance(buy, OpenPosition) and "margin used 800" in buy.reason
    assert buy.legs[0].strike > Decimal(492)


def test_the_long_is_not_rolled_to_a_strike_no_higher_nor_twice_a_day() -> None:
    desk = opened_desk(long_roll_bp_threshold_usd=Decimal(700))
    desk.margin_used_usd = Decimal(800)  # the margin rule holds all day
    next_day(desk, WEEK[1])  # but the -0.33 put is still the one held
    assert not intents(desk, "roll_long_buy")
    desk.price = Decimal(503)
    next_day(desk, WEEK[2])
    assert len(intents(desk, "roll_long_buy")) == 1  # the margin rule still holds after it


def test_the_account_margin_is_asked_only_while_the_margin_rule_can_act() -> None:
    desk = opened_desk()  # the default threshold: 1200 USD
    assert desk.strategy.data_request(et(MONDAY, 11)).account_margin
    desk.strategy.memory.long_rolled_on = MONDAY  # rolled up today: no second roll-up
    assert not desk.strategy.data_request(et(MONDAY, 11)).account_margin
    assert not opened_desk(long_roll_bp_threshold_usd=Decimal(0)).strategy.data_request(
        et(MONDAY, 11)).account_margin  # fmt: skip
    flat = make_strategy()
    assert not flat.data_request(et(MONDAY, 11)).account_margin


def test_below_the_threshold_or_without_a_margin_figure_the_long_stays() -> None:
    desk = opened_desk(long_roll_bp_threshold_usd=Decimal(900))
    desk.margin_used_usd = Decimal(800)
    desk.price = Decimal(503)  # a higher -0.33 strike exists, the delta rule does not hold
    next_day(desk, WEEK[1], end=time(11, 0))
    desk.margin_used_usd = None  # the broker gives no figure: never a roll on a guess
    next_day(desk, WEEK[2], end=time(11, 0))
    assert not intents(desk, "roll_long_buy")


def test_an_early_assignment_drops_the_short_with_a_safety_event_and_keeps_the_long() -> None:
    desk = opened_desk()
    short = desk.strategy.cycle.campaign.short
    assert short is not None
    del desk.positions[short.uic]
    desk.positions[QQQ] = Position("shares", QQQ, "Etf", Decimal(100), Decimal(500))
    first = run_day(desk, MONDAY, start=time(11, 0), end=time(11, 1))
    assert "short_gone" not in names(first)  # one snapshot without the leg is not proof yet
    actions = run_day(desk, MONDAY, start=time(11, 1), end=time(11, 2))
    assert "short_gone" in names(actions)
    assert desk.strategy.cycle.campaign.short is None
    assert desk.strategy.cycle.campaign.long is not None
    run_day(desk, MONDAY, start=time(11, 2), end=time(11, 5))
    assert len(intents(desk, "sell_short")) == 1  # no new short during the cooldown
    run_day(desk, MONDAY, start=time(11, 10), end=time(11, 11))
    assert len(intents(desk, "sell_short")) == 2  # then the campaign goes on
    assert "orphan_position" in names(first)  # the shares: reported, not traded here


def test_a_naked_short_found_at_start_is_bought_back_at_once() -> None:
    strategy = make_strategy()
    expiry = date(2026, 3, 3)
    naked = Position("p1", put_uic(expiry, Decimal(500)), "StockOption", Decimal(-1),
                     Decimal("2.10"), strike=Decimal(500), expiry=expiry, put_call=PutCall.PUT)
    actions = strategy.restore(None, [naked], et(MONDAY, 9, 0))
    closes = [a for a in actions if isinstance(a, ClosePosition)]
    assert len(closes) == 1 and closes[0].legs[0].uic == naked.uic
    assert closes[0].legs[0].side is Side.BUY
    assert "naked_short" in names(actions)
    assert strategy.cycle.state is CampaignState.CLOSING


def test_orphans_at_start_are_closed_and_a_fitting_diagonal_is_adopted() -> None:
    desk = opened_desk()
    saved = desk.strategy.export_state()
    call_uic = 999
    extra = [Position("c", call_uic, "StockOption", Decimal(1), Decimal(1), strike=Decimal(520),
                      expiry=date(2026, 3, 6), put_call=PutCall.CALL)]  # fmt: skip
    fresh = make_strategy()
    actions = fresh.restore(saved, [*desk.positions.values(), *extra], et(MONDAY, 11, 0))
    closes = [a for a in actions if isinstance(a, ClosePosition)]
    assert [leg.uic for c in closes for leg in c.legs] == [call_uic]
    assert fresh.cycle.state is CampaignState.OPEN
    assert fresh.cycle.campaign.cash == desk.strategy.cycle.campaign.cash  # money kept


def test_a_restart_in_the_middle_of_a_roll_sells_the_new_short_once() -> None:
    desk = opened_desk()
    next_day(desk, WEEK[1], end=time(12, 0))  # up to the roll time
    desk.step(et(WEEK[1], 12, 0))  # the old short is bought back ...
    assert desk.strategy.cycle.state is CampaignState.ROLLING_SHORT
    saved = desk.strategy.export_state()  # ... and the process is killed here
    desk.strategy = make_strategy()
    desk.strategy.restore(saved, list(desk.positions.values()), et(WEEK[1], 12, 1))
    before = len(intents(desk, "sell_short"))
    run_day(desk, WEEK[1], start=time(12, 5), end=time(15, 0))
    assert len(intents(desk, "sell_short")) == before + 1
    assert sum(1 for p in desk.positions.values() if p.amount < 0) == 1
    assert not intents(desk, "roll_short")[2:]  # no second roll that day


def test_a_failed_short_sale_leaves_the_long_alone_and_retries_after_the_cooldown() -> None:
    desk = Desk(make_strategy())
    desk.bars = rising_bars(prev(MONDAY), 499.0)
    desk.fail["sell_short"] = "failed"
    run_day(desk, MONDAY, every_minutes=1, end=time(10, 5))
    sales = [o for o in desk.orders if ":sell_short:" in o.intent_id]
    assert len(sales) == 2  # the failed one, then one after the 5-minute cooldown
    times = [int(o.intent_id.split(":")[3][-6:-2]) for o in sales]
    assert times[1] - times[0] >= 5
    assert desk.strategy.cycle.campaign.short is not None


def test_a_failed_long_buy_at_entry_cools_down_and_stays_flat() -> None:
    desk = Desk(make_strategy())
    desk.bars = rising_bars(prev(MONDAY), 499.0)
    desk.fail["buy_long"] = "failed"
    run_day(desk, MONDAY, every_minutes=1, end=time(9, 37))
    assert len(intents(desk, "entry")) == 1
    assert desk.strategy.cycle.state is CampaignState.FLAT


def test_a_stuck_close_is_reissued_under_its_own_intent_after_the_cooldown() -> None:
    desk = opened_desk()
    desk.fail["buy_back_short"] = "stuck"
    desk.bars = falling_bars(prev(WEEK[1]), 499.0)
    run_day(desk, WEEK[1], every_minutes=1, end=time(9, 50))
    closes = [o for o in desk.orders if isinstance(o, ClosePosition)]
    assert closes[0].intent_id == closes[1].intent_id  # the same close, re-issued
    assert desk.strategy.cycle.state is CampaignState.FLAT
    assert desk.positions == {}


def test_no_new_short_in_the_last_minutes_of_a_half_day() -> None:
    half_day = date(2026, 11, 27)
    session = market_hours.session(half_day)
    assert session is not None and session.early_close
    desk = Desk(make_strategy())
    desk.bars = rising_bars(prev(half_day), 499.0)
    run_day(desk, half_day, start=time(12, 42), end=time(13, 0), every_minutes=2)
    assert intents(desk, "entry") and not intents(desk, "sell_short")  # 12:46: too late
    late = Desk(make_strategy())
    late.bars = desk.bars
    run_day(late, half_day, start=time(12, 46), end=time(13, 0), every_minutes=2)
    assert late.orders == []  # nor a new campaign


def test_a_corrupt_saved_state_is_refused_naming_the_field() -> None:
    saved = opened_desk().strategy.export_state()
    saved["campaign"]["campaign"]["long"]["strike"] = "abc"
    with pytest.raises(ValueError, match=r"campaign\.long\.strike"):
        make_strategy().restore(saved, [], et(MONDAY, 9, 0))


def test_the_state_round_trips_through_json() -> None:
    import json

    desk = opened_desk()
    saved = json.loads(json.dumps(desk.strategy.export_state()))
    fresh = make_strategy()
    fresh.restore(saved, list(desk.positions.values()), et(MONDAY, 11, 0))
    assert fresh.export_state()["campaign"]["campaign"] == saved["campaign"]["campaign"]


def test_a_horizontal_roll_finds_its_strike_far_below_the_price() -> None:
    desk = opened_desk()
    desk.price = Decimal(488)  # 12 USD under the 500 short: the chain must reach 500
    next_day(desk, WEEK[1], end=time(12, 30))
    short = desk.strategy.cycle.campaign.short
    assert short is not None and short.strike == Decimal(500) and short.expiry == WEEK[2]


def test_a_flash_move_raises_a_safety_event_and_changes_no_position() -> None:
    desk = opened_desk()
    run_day(desk, MONDAY, start=time(10, 40), end=time(10, 41))
    desk.price = Decimal(489)  # -2.2 % within a minute
    actions = run_day(desk, MONDAY, start=time(10, 41), end=time(10, 42))
    assert "flash_move" in names(actions)
    assert desk.strategy.cycle.state is CampaignState.OPEN


def test_a_short_that_expired_while_the_bot_was_away_is_not_bought_back() -> None:
    desk = opened_desk()
    # No pass on Tuesday: the short (expiring Tuesday) settled; Wednesday starts after noon.
    next_day(desk, WEEK[2], start=time(12, 30), end=time(12, 45), every_minutes=5)
    buy_backs = [o for o in desk.orders if isinstance(o, ClosePosition)]
    assert buy_backs == []  # nothing to buy back: a new short is sold instead
    assert desk.strategy.cycle.campaign.short is not None
    assert desk.strategy.cycle.campaign.short.expiry == WEEK[3]


def test_a_campaign_whose_legs_all_vanished_is_booked_and_closed() -> None:
    desk = opened_desk()
    cash = desk.strategy.cycle.campaign.cash.net_usd
    desk.positions.clear()  # e.g. closed by hand at the broker
    actions = run_day(desk, MONDAY, start=time(11, 0), end=time(11, 3), every_minutes=1)
    assert "naked_short" not in names(actions) and "long_gone" in names(actions)
    assert desk.strategy.cycle.state is CampaignState.FLAT
    assert desk.strategy.memory.ledger.realized_usd == cash


def test_every_state_is_entered_and_left_by_the_strategy_itself(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Not only the table: the strategy's own decisions enter and leave every state (issue
    #14: the earlier CLOSING_CAMPAIGN had no handler and EMERGENCY_EXIT was never entered)."""
    moves: list[tuple[CampaignState, CampaignState]] = []
    fire = CampaignLifecycle.fire

    def recording(cycle: CampaignLifecycle, trigger: Trigger, reason: str) -> None:
        before = cycle.state
        fire(cycle, trigger, reason)
        moves.append((before, cycle.state))

    monkeypatch.setattr(CampaignLifecycle, "fire", recording)
    test_the_long_is_rolled_up_when_its_delta_falls_new_long_bought_first()  # open, both rolls
    test_a_stuck_close_is_reissued_under_its_own_intent_after_the_cooldown()  # closing, stuck
    test_an_fomc_meeting_closes_the_campaign_then_waits_until_it_passes()  # waiting, flat

    assert {after for _, after in moves} == set(CampaignState)
    assert {before for before, _ in moves} == set(CampaignState)


def test_a_due_roll_up_without_a_higher_put_asks_for_the_long_chain_every_five_minutes() -> None:
    desk = opened_desk(long_roll_bp_threshold_usd=Decimal(700))
    desk.margin_used_usd = Decimal(800)  # the margin rule holds all day; QQQ stands still
    desk.bars = rising_bars(prev(WEEK[1]), float(desk.price))
    run_day(desk, WEEK[1], every_minutes=1, end=time(9, 32))  # the rule found, chain asked
    assert desk.strategy.memory.long_roll_due and not intents(desk, "roll_long_buy")

    def asks_long_chain(hour: int, minute: int) -> bool:
        expiries = {w.expiry for w in desk.strategy.data_request(et(WEEK[1], hour, minute))
                    .option_windows}  # fmt: skip
        return date(2026, 3, 17) in expiries  # the expiry nearest 14 days out

    assert not asks_long_chain(9, 33) and not asks_long_chain(9, 35)
    assert asks_long_chain(9, 37)  # five minutes after the pass that found no higher put


def test_an_entry_without_a_tight_long_put_looks_again_only_after_the_cooldown(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    desk = Desk(make_strategy(failed_action_cooldown_minutes=5))
    desk.bars = rising_bars(prev(MONDAY), 499.0)
    monkeypatch.setattr(driver, "HALF_SPREAD", Decimal("5"))  # every put far too wide
    actions = run_day(desk, MONDAY, every_minutes=1, end=time(10, 0))
    assert "entry_not_yet" in names(actions) and not desk.orders

    def asks_chains(minute: int) -> bool:
        return bool(desk.strategy.data_request(et(MONDAY, 10, minute)).option_windows)

    looked_at = desk.strategy.memory.cooldown_until["entry_recheck"]  # the last refused look
    assert looked_at > et(MONDAY, 10)
    monkeypatch.setattr(driver, "HALF_SPREAD", Decimal("0.02"))  # tight quotes from now on
    waiting = [m for m in range(5) if et(MONDAY, 10, m) < looked_at]
    assert waiting and not any(asks_chains(m) for m in waiting)
    run_day(desk, MONDAY, every_minutes=1, start=time(10, 0), end=time(10, waiting[-1] + 1))
    assert not desk.orders  # no re-pricing within the interval, though an entry would pass now
    run_day(desk, MONDAY, every_minutes=1, start=time(10, waiting[-1] + 1), end=time(10, 10))
    assert len(intents(desk, "entry")) == 1  # looked again after it, and entered
