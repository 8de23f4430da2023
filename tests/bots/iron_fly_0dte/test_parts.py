"""The strategy's pure parts: state table, money from fills, strikes, filters, saved state."""

from __future__ import annotations

import inspect
from datetime import timedelta
from pathlib import Path

import pytest

from bots.iron_fly_0dte.book import Fly, build_fly
from bots.iron_fly_0dte.config import IronFlyConfig
from bots.iron_fly_0dte.memory import Memory
from bots.iron_fly_0dte.opening_range import OpeningRange
from bots.iron_fly_0dte.rules import check_filters
from bots.iron_fly_0dte.selection import ChainView, FlyPlan, NotReady, plan_fly, round_to_step
from bots.iron_fly_0dte.states import (
    ENTRY_TRANSITIONS,
    FLAT_STATES,
    POSITION_STATES,
    POSITION_TRANSITIONS,
    EntryState,
    EntryTrigger,
    IllegalTransition,
    IronFlyState,
    PositionState,
    PositionTrigger,
    day_state,
)
from bots.iron_fly_0dte.strategy import IronFlyStrategy
from shared import paths
from shared.config_loader import parse_bot_config
from shared.domain import PutCall, Quote, Side
from shared.strategy.exits import FlashMonitor
from shared.strategy.transitions import next_state, reachable
from shared.strategy_contract import LegFill, OpenPosition, OrderStyle, Strategy
from tests.bots.iron_fly_0dte.factory import (
    DAY,
    ROOT_UIC,
    D,
    Market,
    at,
    calendar,
    of_type,
    run,
    settings,
    strategy,
)

UICS = {"long_call": 1, "long_put": 2, "short_call": 3, "short_put": 4}


def fly(quantity: int = 1) -> Fly:
    return build_fly(expiry=DAY, atm=D(5005), wing=D(20), quantity=quantity, uics=UICS)


def fill(leg: str, price: str, side: Side, quantity: int = 1, commission: str = "0.65") -> LegFill:
    return LegFill(leg=leg, uic=UICS[leg], side=side, quantity=quantity, price=D(price),
                   commission_usd=D(commission), filled_at=at(10))


def entry_fills(quantity: int = 1) -> list[LegFill]:
    return [fill("long_call", "3.80", Side.BUY, quantity),
            fill("long_put", "6.30", Side.BUY, quantity),
            fill("short_call", "8.70", Side.SELL, quantity),
            fill("short_put", "13.70", Side.SELL, quantity)]


# ------------------------------------------------------------------ state tables
def test_every_lifecycle_state_is_reachable_from_its_start() -> None:
    assert reachable(ENTRY_TRANSITIONS, EntryState.IDLE) == set(EntryState)
    assert reachable(POSITION_TRANSITIONS, PositionState.FLAT) == set(PositionState)


def test_every_day_state_is_reachable() -> None:
    reached = {day_state(entry, position)
               for entry in reachable(ENTRY_TRANSITIONS, EntryState.IDLE)
               for position in reachable(POSITION_TRANSITIONS, PositionState.FLAT)}
    assert reached == set(IronFlyState)


def test_a_transition_missing_from_the_table_raises() -> None:
    with pytest.raises(IllegalTransition, match="no transition from entering on order_sent"):
        next_state(ENTRY_TRANSITIONS, EntryState.ENTERING, EntryTrigger.ORDER_SENT)
    with pytest.raises(IllegalTransition, match="no transition from in_position on opened"):
        next_state(POSITION_TRANSITIONS, PositionState.IN_POSITION, PositionTrigger.OPENED)


def test_position_states_never_reset_on_a_new_day() -> None:
    # a new day resets only from FLAT_STATES, so a held or closing fly is never reset
    assert not POSITION_STATES & FLAT_STATES
    for position in (PositionState.IN_POSITION, PositionState.CLOSING,
                     PositionState.CLOSE_STUCK):
        for entry in EntryState:
            assert day_state(entry, position) in POSITION_STATES
    assert day_state(EntryState.ENTERING, PositionState.FLAT) in POSITION_STATES


# ------------------------------------------------------------------ money
def test_credit_from_fills_is_sell_minus_buy_times_100_times_quantity() -> None:
    f = fly(quantity=2)
    f.set_credit_from_fills(entry_fills(quantity=2))
    assert f.credit_usd == D("2460.00")  # (8.70 + 13.70 - 3.80 - 6.30) x 100 x 2
    assert f.entry_commission_usd == D("2.60")
    assert f.net_credit_usd == D("2457.40")


def test_a_missing_leg_fill_books_nothing() -> None:
    f = fly()
    with pytest.raises(ValueError, match="short_put filled 0 of 1 contracts"):
        f.set_credit_from_fills(entry_fills()[:3])
    assert f.credit_usd is None


def test_a_fill_on_the_wrong_side_is_refused() -> None:
    fills = entry_fills()
    fills[0] = fill("long_call", "3.80", Side.SELL)
    with pytest.raises(ValueError, match="long_call is a sell"):
        fly().set_credit_from_fills(fills)


def quote(uic: int, bid: str, ask: str) -> Quote:
    return Quote(uic=uic, asset_type="StockIndexOption", bid=D(bid), ask=D(ask), mid=None,
                 last=None, updated_at=at(10))


def test_cost_to_close_buys_shorts_at_the_ask_and_sells_longs_at_the_bid() -> None:
    quotes = {3: quote(3, "5.00", "5.20"), 4: quote(4, "6.00", "6.30"),
              1: quote(1, "1.00", "1.10"), 2: quote(2, "0.50", "0.60")}
    assert fly().cost_to_close_usd(quotes) == D("1000.00")  # (5.20 + 6.30 - 1.00 - 0.50) x 100


def test_cost_to_close_is_unknown_with_a_crossed_or_missing_quote() -> None:
    quotes = {3: quote(3, "5.30", "5.20"), 4: quote(4, "6.00", "6.30"),
              1: quote(1, "1.00", "1.10"), 2: quote(2, "0.50", "0.60")}
    assert fly().cost_to_close_usd(quotes) is None
    del quotes[3]
    assert fly().cost_to_close_usd(quotes) is None


def test_realized_pnl_counts_every_commission() -> None:
    f = fly()
    f.set_credit_from_fills(entry_fills())  # 1230 credit, 2.60 commissions
    closing = [fill("short_call", "1.00", Side.BUY), fill("short_put", "2.00", Side.BUY),
               fill("long_call", "0.05", Side.SELL), fill("long_put", "0.10", Side.SELL)]
    # 1230 - 2.60 - (1.00 + 2.00 - 0.05 - 0.10) x 100 - 2.60 = 939.80
    assert f.realized_pnl_usd(closing) == D("939.80")


# ------------------------------------------------------------------ strikes
def chain(market: Market, *, root_uic: int = ROOT_UIC) -> ChainView:
    quotes = {c.uic: market.option_quote(c, at(10)) for c in market.contracts()}
    return ChainView(market.contracts(), root_uic=root_uic, expiry=DAY, quotes=quotes, ages={},
                     now=at(10), max_age_s=10)


@pytest.mark.parametrize(("points", "expected"), [(2.4, 0), (2.5, 5), (17.4, 15), (17.5, 20)])
def test_round_to_step_is_nearest_five_halves_up(points: float, expected: int) -> None:
    assert round_to_step(points) == D(expected)


def test_spot_on_a_strike_takes_the_next_strike_up() -> None:
    plan = plan_fly(settings(), chain(Market(spot=D("5005.00"))), D("5005.00"), D(15))
    assert isinstance(plan, FlyPlan) and plan.atm == D(5010)


def test_straddle_is_preferred_over_vix() -> None:
    plan = plan_fly(settings(), chain(Market()), D("5000"), D("0.5"))
    assert isinstance(plan, FlyPlan) and (plan.wing.points, plan.wing.source) == (D(20), "straddle")


def test_small_expected_move_is_floored_at_the_minimum_wing() -> None:
    market = Market()  # no quote for the 5000 call: no straddle, VIX fallback
    view = ChainView(market.contracts(), root_uic=ROOT_UIC, expiry=DAY, quotes={
        c.uic: market.option_quote(c, at(10)) for c in market.contracts()
        if (c.strike, c.put_call) != (D(5000), PutCall.CALL)}, ages={}, now=at(10), max_age_s=10)
    plan = plan_fly(settings(), view, D("5000"), D("0.5"))  # 5000 x 0.005 / 15.9 = 1.6 pts
    assert isinstance(plan, FlyPlan) and (plan.wing.points, plan.wing.source) == (D(5), "vix")


def test_large_expected_move_is_capped_at_the_maximum_wing() -> None:
    market = Market()
    view = chain(market)
    plan = plan_fly(settings(max_wing_width_points=15), view, D("5000"), D(15))
    assert isinstance(plan, FlyPlan) and plan.wing.points == D(15)


def test_manual_wing_overrides_the_expected_move() -> None:
    plan = plan_fly(settings(manual_wing_width_points=50), chain(Market()), D("5000"), D(15))
    assert isinstance(plan, FlyPlan)
    assert (plan.wing.points, plan.wing.source, plan.uics["long_put"] > 0) == (
        D(50), "manual", True)


def test_non_positive_quoted_credit_is_not_ready() -> None:
    market = Market()
    for contract in market.contracts():  # shorts bid 0: selling them brings no credit
        if contract.strike == D(5005):
            market.leg_overrides[contract.uic] = (D(0), D("0.10"))
    plan = plan_fly(settings(), chain(market), D("5000"), D(15))
    assert isinstance(plan, NotReady) and "quoted credit" in plan.reason


def test_contracts_of_another_root_are_ignored() -> None:
    plan = plan_fly(settings(), chain(Market(), root_uic=999), D("5000"), D(15))
    assert plan == NotReady("no 0DTE chain")


def test_wide_fly_spread_is_not_ready() -> None:
    market = Market()
    for contract in market.contracts():
        if contract.strike == D(5005):
            mid = market.mid(contract.strike, contract.put_call)
            market.leg_overrides[contract.uic] = (mid - D("1.5"), mid + D("1.5"))
    plan = plan_fly(settings(), chain(market), D("5000"), D(15))
    assert isinstance(plan, NotReady) and plan.reason.startswith("fly spread")


# ------------------------------------------------------------------ filters
def test_filters_report_the_first_failure_in_order() -> None:
    rng = OpeningRange.start(at(9, 30), D(5000), D(15))
    result = check_filters(settings(), now=at(10), calendar=calendar(fomc_decision_day=True,
                           economic_release_day=True), opening_range=rng, price=D(5000),
                           vix=D(30))
    assert (result.passed, result.name) == (False, "fomc")


def test_opening_vix_of_zero_counts_as_no_spike() -> None:
    rng = OpeningRange.start(at(9, 30), D(5000), D(0))
    rng.observe(D(5000), D(12))
    assert rng.vix_spike_percent() == D(0)  # FILTER-005: no division by zero


def test_range_tracks_high_and_low() -> None:
    rng = OpeningRange.start(at(9, 30), D(5000), None)
    for price in ("5012.5", "4980", "4999"):
        rng.observe(D(price), None)
    assert (rng.high, rng.low, rng.width, rng.midpoint) == (
        D("5012.5"), D(4980), D("32.5"), D("4996.25"))


# ------------------------------------------------------------------ saved state
@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"version": 2, "state": "idle"}, "version"),
        ({"version": 1, "state": "idle", "day": "2026-13-01"}, "not an ISO date"),
        ({"version": 1, "state": "idle", "fly": {"quantity": 0}}, "fly.quantity"),
        ({"version": 1, "state": "idle", "entry_sent_at": "2026-03-10T10:00:00"},
         "without a time zone"),
    ],
)
def test_malformed_saved_state_names_the_field(data: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Memory.from_json(data)


def test_decimal_text_in_saved_state_must_be_a_number() -> None:
    data = Memory().to_json(IronFlyState.IDLE)
    data["opening_range"] = {"first_at": "2026-03-10T13:30:00+00:00", "open_price": "x",
                             "high": "1", "low": "1", "observations": 1}
    with pytest.raises(ValueError, match=r"opening_range\.open_price: not a number"):
        Memory.from_json(data)


# ------------------------------------------------------------------ contract
def test_satisfies_the_strategy_contract() -> None:
    strat: Strategy = strategy()  # mypy checks the Protocol
    assert (strat.bot, strat.state_name(), strat.in_position()) == ("iron_fly_0dte", "idle", False)


def test_the_strategy_is_a_coordinator_without_mixins() -> None:
    # the bot template (docs/ARCHITECTURE.md): strategy.py only coordinates, under 400 lines
    assert IronFlyStrategy.__bases__ == (object,)
    source = Path(inspect.getfile(IronFlyStrategy)).read_text()
    assert len(source.splitlines()) < 400


def test_built_from_the_example_config_file() -> None:
    text = paths.bot_example_config_path("iron_fly_0dte").read_text()
    config = parse_bot_config("iron_fly_0dte", text)
    assert isinstance(config, IronFlyConfig)
    strat = IronFlyStrategy.from_bot_config(config)
    (order,) = of_type(run(strat, Market(), at(9, 30), at(10, 0)), OpenPosition)
    assert order.order_style is OrderStyle.MARKET
    assert order.max_attempts == config.strategy.max_entry_attempts


def test_flash_monitor_compares_the_newest_tick_with_the_window() -> None:
    monitor = FlashMonitor(timedelta(minutes=5))
    for i in range(50):  # 50 ticks within one second
        monitor.add(at(10) + timedelta(milliseconds=20 * i), D(5000))
    monitor.add(at(10, 0, 1), D(5100))
    assert monitor.move_percent() == D(2)
    monitor.add(at(10, 6), D(5100))  # everything before 10:01 has left the window
    assert monitor.move_percent() == D(0)
