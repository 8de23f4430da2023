"""Holding the fly: every exit rule, acted on from the decide that shows it.

Entry fills used below (per share): short call 8.70, short put 13.70, long call 3.80, long put
6.30, 1.00 USD commission per leg: credit (8.70 + 13.70 - 3.80 - 6.30) x 100 = 1230 USD, net
1226; P&L = 1226 - cost to close - 4 (the exit commissions, estimated as the entry's).
"""

from __future__ import annotations

import logging
from datetime import datetime
from decimal import Decimal

import pytest

from bots.iron_fly_0dte.states import IronFlyState
from shared.domain import Side
from shared.strategy_contract import ClosePosition, OpenPosition
from tests.bots.iron_fly_0dte.factory import (
    SPX_UIC,
    D,
    Market,
    at,
    enter,
    of_type,
    pin_legs,
    run,
    set_legs,
    step,
    strategy,
)

FILLS = {"short_call": D("8.70"), "short_put": D("13.70"), "long_call": D("3.80"),
         "long_put": D("6.30")}


def holding(**changes: object) -> tuple:
    strat, market = strategy(**changes), Market()
    order = enter(strat, market, fill_prices=FILLS)
    pin_legs(market, order, at(10, 0, 5))
    return strat, market, order


def one_close(actions: list) -> ClosePosition:
    (close,) = of_type(actions, ClosePosition)
    return close


@pytest.mark.parametrize(("spot", "touched"), [("5024.90", True), ("5024.85", False),
                                               ("4985.10", True), ("4985.15", False)])
def test_wing_touch_within_the_tolerance_from_a_tick(spot: str, touched: bool) -> None:
    strat, market, _ = holding()  # wings 4985 / 5025, tolerance 0.10
    market.spot = D(spot)
    actions = step(strat, market, at(10, 10, 0), tick=True)
    if touched:
        assert one_close(actions).exit_reason == "wing_touch"
        assert strat.state_name() == IronFlyState.CLOSING
    else:
        assert actions == []


def test_wing_touch_close_is_urgent_buys_back_the_shorts_first() -> None:
    strat, market, order = holding()
    market.spot = D("4980")
    close = one_close(step(strat, market, at(10, 10), tick=True))
    assert close.urgent
    assert [(leg.leg, leg.side) for leg in close.legs] == [
        ("short_call", Side.BUY), ("short_put", Side.BUY),
        ("long_call", Side.SELL), ("long_put", Side.SELL)]
    assert {leg.uic for leg in close.legs} == {leg.uic for leg in order.legs}


def test_profit_target_in_dollars_per_contract() -> None:
    strat, market, order = holding()
    # cost to close 7.00 + 7.00 - 1.20 - 1.34 = 11.46 -> P&L 1226 - 1146 - 4 = 76 >= 75
    set_legs(market, order, {"short_call": ("6.90", "7.00"), "short_put": ("6.90", "7.00"),
                             "long_call": ("1.20", "1.30"), "long_put": ("1.34", "1.44")})
    assert one_close(step(strat, market, at(10, 10))).exit_reason == "profit_target"


def test_below_the_profit_target_keeps_holding() -> None:
    strat, market, order = holding()
    # cost 11.48 -> P&L 74
    set_legs(market, order, {"short_call": ("6.90", "7.00"), "short_put": ("6.90", "7.00"),
                             "long_call": ("1.20", "1.30"), "long_put": ("1.32", "1.44")})
    assert step(strat, market, at(10, 10)) == []


def test_max_loss_in_dollars_per_contract() -> None:
    strat, market, order = holding()
    # cost 12.00 + 8.00 - 2.78 - 1.00 = 16.22 -> P&L 1226 - 1622 - 4 = -400
    set_legs(market, order, {"short_call": ("11.90", "12.00"), "short_put": ("7.90", "8.00"),
                             "long_call": ("2.78", "2.90"), "long_put": ("1.00", "1.10")})
    assert one_close(step(strat, market, at(10, 10))).exit_reason == "max_loss"


def test_thresholds_are_per_contract_not_per_position() -> None:
    strat, market = strategy(position_size_contracts=2), Market()
    order = enter(strat, market, fill_prices=FILLS)  # 2460 credit, 4 USD commissions
    # cost 2 x 16.22 x 100 = 3244 -> P&L 2456 - 3244 - 4 = -792: -396 per contract, hold
    set_legs(market, order, {"short_call": ("11.90", "12.00"), "short_put": ("7.90", "8.00"),
                             "long_call": ("2.78", "2.90"), "long_put": ("1.00", "1.10")})
    assert step(strat, market, at(10, 10)) == []
    # cost 2 x 16.30 x 100 = 3260 -> -808: -404 per contract, close
    set_legs(market, order, {"long_call": ("2.70", "2.90")})
    assert one_close(step(strat, market, at(10, 10, 5))).exit_reason == "max_loss"


def test_pnl_uses_the_fill_credit_not_the_entry_quotes() -> None:
    # Quotes at entry gave a credit of 12.30; the fills got 13.00 (price improvement).
    strat, market = strategy(), Market()
    fills = {"short_call": D("9.00"), "short_put": D("14.00"), "long_call": D("3.70"),
             "long_put": D("6.30")}
    order = enter(strat, market, fill_prices=fills)
    # cost to close 11.90: from fills 1300 - 4 - 1190 - 4 = 102 >= 75 -> target;
    # from the quoted 12.30 it would be 1230 - 1190 = 40 -> no exit.
    set_legs(market, order, {"short_call": ("6.90", "7.00"), "short_put": ("7.00", "7.10"),
                             "long_call": ("1.10", "1.20"), "long_put": ("1.10", "1.20")})
    assert one_close(step(strat, market, at(10, 10))).exit_reason == "profit_target"


def test_stale_leg_quotes_are_not_used_for_pnl_exits() -> None:
    strat, market, order = holding()
    set_legs(market, order, {"short_call": ("11.90", "12.00"), "short_put": ("7.90", "8.00"),
                             "long_call": ("2.78", "2.90"), "long_put": ("1.00", "1.10")})
    market.ages = {leg.uic: 30.0 for leg in order.legs}  # older than stream_stale_seconds
    assert step(strat, market, at(10, 10)) == []


def test_time_exit_after_max_hold_from_the_fill() -> None:
    strat, market, _ = holding()  # filled at 10:00:05
    assert run(strat, market, at(10, 1), at(11, 0, 0), every_s=60) == []
    assert one_close(step(strat, market, at(11, 0, 5))).exit_reason == "time_exit"


def test_flash_move_closes() -> None:
    strat, market, _ = holding(flash_move_percent=0.3)  # 15 points at 5000
    run(strat, market, at(10, 5), at(10, 7))
    market.spot = D("5015.10")
    assert one_close(step(strat, market, at(10, 8), tick=True)).exit_reason == "flash_move"


def test_a_slow_move_of_the_same_size_is_not_a_flash() -> None:
    strat, market, _ = holding(flash_move_percent=0.3)

    def path(now: datetime) -> Decimal:
        return D("5000") + D("1.5") * int((now - at(10, 5)).total_seconds() // 60)

    actions = run(strat, market, at(10, 5), at(10, 15), every_s=10, path=path)  # +15 in 10 min
    assert actions == []


def test_no_price_is_left_to_the_runtime_guard() -> None:
    # The runtime's no-price guard (shared.runtime.protection) owns the blind close; the
    # strategy's rules need a price, so a blind fly is held here, never closed twice.
    strat, market, _ = holding()  # no_price_close_seconds = 60
    step(strat, market, at(10, 10, 0))
    market.missing = {SPX_UIC}
    assert of_type(run(strat, market, at(10, 10, 5), at(10, 12, 0)), ClosePosition) == []
    assert strat.state_name() == IronFlyState.IN_POSITION


def test_an_old_price_drives_no_stop() -> None:
    strat, market, _ = holding()
    market.spot = D("5100")  # past the upper wing, but 61 s old (blind limit 60 s)
    market.ages = {SPX_UIC: 61.0}
    assert of_type(step(strat, market, at(10, 0, 30), tick=True), ClosePosition) == []
    market.ages = {}
    assert one_close(step(strat, market, at(10, 0, 31), tick=True)).exit_reason == "wing_touch"


def test_one_close_only_while_closing() -> None:
    strat, market, _ = holding()
    market.spot = D("5030")
    one_close(step(strat, market, at(10, 10), tick=True))
    later = run(strat, market, at(10, 10, 1), at(10, 10, 50), every_s=1)  # STOP-004
    assert of_type(later, ClosePosition) == []


def test_tick_uics_cover_the_underlying_while_holding() -> None:
    strat, _, order = holding()
    request = strat.data_request(at(10, 10))
    assert SPX_UIC in request.tick_uics
    assert {leg.uic for leg in order.legs} <= {ref.uic for ref in request.quotes}
    assert not request.vix and request.option_windows == ()


def test_exit_is_logged_with_its_reason(caplog: pytest.LogCaptureFixture) -> None:
    strat, market, _ = holding()
    market.spot = D("5030")
    with caplog.at_level(logging.WARNING, logger="bots.iron_fly_0dte.strategy"):
        step(strat, market, at(10, 10), tick=True)
    assert any(r.getMessage().startswith("exit reason=wing_touch") for r in caplog.records)


def test_entry_order_is_not_repeated_while_holding() -> None:
    strat, market, _ = holding()
    assert of_type(run(strat, market, at(10, 1), at(10, 30), every_s=30), OpenPosition) == []


def test_vix_spike_after_the_entry_is_ignored() -> None:
    strat, market, _ = holding()
    market.vix = D(45)  # MKT-003: only entries look at VIX
    assert run(strat, market, at(10, 5), at(10, 10)) == []


def test_very_wide_exit_spreads_do_not_stop_a_stop() -> None:
    strat, market, order = holding()
    set_legs(market, order, {"short_call": ("1.00", "30.00"), "short_put": ("1.00", "30.00"),
                             "long_call": ("0.00", "9.00"), "long_put": ("0.00", "9.00")})
    market.spot = D("4984")
    close = one_close(step(strat, market, at(10, 10), tick=True))  # MKT-004
    assert (close.exit_reason, close.urgent) == ("wing_touch", True)


def test_every_close_is_urgent_including_the_profit_target() -> None:
    strat, market, order = holding()
    set_legs(market, order, {"short_call": ("0.90", "1.00"), "short_put": ("0.90", "1.00"),
                             "long_call": ("0.05", "0.10"), "long_put": ("0.05", "0.10")})
    close = one_close(step(strat, market, at(10, 10)))  # STOP-003: market orders
    assert (close.exit_reason, close.urgent) == ("profit_target", True)
