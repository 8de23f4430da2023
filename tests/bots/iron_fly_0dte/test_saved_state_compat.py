"""A state saved by the mixin-based strategy (commit 39a7b92) restores in today's strategy.

`data/saved_state_v1.json` was exported by that code: a day in the opening range, a fly held
with its credit from fills, and a close stuck after two of its four legs filled.
"""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

from bots.iron_fly_0dte.states import IronFlyState
from shared.domain import Position, PutCall
from shared.strategy.codec import fill_from_json
from shared.strategy_contract import ClosePosition, ExecutionReport, OpenPosition
from tests.bots.iron_fly_0dte.factory import (
    DAY,
    D,
    Market,
    at,
    fills_for,
    of_type,
    records,
    run,
    step,
    strategy,
)

SAVED = json.loads((Path(__file__).parent / "data" / "saved_state_v1.json").read_text())


def broker_legs(fly: dict[str, Any], *, only: set[str] | None = None) -> list[Position]:
    """The broker positions of a saved fly's legs (long legs +quantity, short legs -quantity)."""
    out = []
    for leg in fly["legs"]:
        if only is not None and leg["name"] not in only:
            continue
        amount = fly["quantity"] if leg["side"] == "buy" else -fly["quantity"]
        out.append(Position(position_id=f"p{leg['uic']}", uic=leg["uic"],
                            asset_type="StockIndexOption", amount=D(amount), open_price=None,
                            strike=D(leg["strike"]), expiry=DAY,
                            put_call=PutCall(leg["put_call"]), opened_at=at(10, 0, 5)))
    return out


def test_the_saved_blobs_are_the_old_format() -> None:
    assert {name: blob["state"] for name, blob in SAVED.items()} == {
        "opening_range": "opening_range", "in_position": "in_position",
        "close_stuck": "close_stuck"}
    assert all(blob["version"] == 1 for blob in SAVED.values())


def test_an_old_opening_range_restores_and_trades() -> None:
    market = Market()
    fresh = strategy()
    assert list(fresh.restore(SAVED["opening_range"], (), at(9, 52))) == []
    assert fresh.state_name() == IronFlyState.OPENING_RANGE
    assert fresh.export_state()["opening_range"] == SAVED["opening_range"]["opening_range"]
    assert of_type(run(fresh, market, at(9, 52), at(10, 0)), OpenPosition)


def test_an_old_held_fly_restores_with_its_fill_credit_and_books_pnl_on_close() -> None:
    blob = SAVED["in_position"]
    market = Market(positions=broker_legs(blob["fly"]))
    fresh = strategy()
    assert list(fresh.restore(blob, tuple(market.positions), at(10, 30))) == []
    assert fresh.state_name() == IronFlyState.IN_POSITION
    assert fresh.export_state()["fly"] == blob["fly"]
    assert blob["fly"]["credit_source"] == "fills"
    market.spot = D("5030")
    (close,) = of_type(step(fresh, market, at(10, 31), tick=True), ClosePosition)
    assert close.exit_reason == "wing_touch"
    prices = {"short_call": D("26"), "short_put": D("1"), "long_call": D("7"),
              "long_put": D("0.10")}
    fills = fills_for(close, prices, at(10, 31, 2))
    actions = fresh.on_execution(ExecutionReport(close.intent_id, "closed", fills), at(10, 31, 2))
    (log,) = records(actions, "bot_log")
    # credit 1230 - entry commissions 4 (blob) + close (-2600 - 100 + 700 + 10) - commissions 4
    assert Decimal(blob["fly"]["credit_usd"]) == D("1230.00")
    assert "realized_pnl_usd=-768.00" in log.payload["message"]


def test_an_old_stuck_close_resumes_under_its_intent_with_its_saved_fills() -> None:
    remaining = {"long_call", "long_put"}  # the shorts were bought back before the crash
    blob = SAVED["close_stuck"]
    market = Market(positions=broker_legs(blob["fly"], only=remaining))
    fresh = strategy()
    (close,) = of_type(fresh.restore(blob, tuple(market.positions), at(10, 4)), ClosePosition)
    assert close.intent_id == blob["close"]["intent_id"]
    assert {leg.leg for leg in close.legs} == remaining
    assert fresh.state_name() == IronFlyState.CLOSING
    assert fresh.export_state()["close_fills"] == blob["close_fills"]
    saved_fills = tuple(fill_from_json(row) for row in blob["close_fills"][close.intent_id])
    fills = saved_fills + fills_for(close, {"long_call": D("7"), "long_put": D("0.10")},
                                    at(10, 4, 3))
    actions = fresh.on_execution(ExecutionReport(close.intent_id, "closed", fills), at(10, 4, 3))
    (log,) = records(actions, "bot_log")
    # the executor's resumed job reports all four fills: the same -768.00 as closing at once
    assert "close_fills=4" in log.payload["message"]
    assert "realized_pnl_usd=-768.00" in log.payload["message"]
    assert fresh.state_name() == IronFlyState.DONE
