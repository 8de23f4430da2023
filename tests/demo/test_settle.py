"""The demo's settle rule (`shared.demo.settle`) on its own: when a day may end early."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from shared.demo.settle import STEADY_FOR, is_settled
from shared.demo.status import BotView

DAY = date(2026, 3, 19)
NOW = datetime(2026, 3, 19, 15, 0, tzinfo=UTC)  # 11:00 ET


def _flat_bot(**changes: object) -> BotView:
    """The iron fly done for DAY, flat, nothing pending."""
    fields: dict[str, object] = {
        "state": "done", "state_day": DAY, "state_since": NOW - timedelta(minutes=1),
        "trades": 1, "open_trades": 0, "unresolved_intents": 0,
    }  # fmt: skip
    fields.update(changes)
    return BotView("iron_fly_0dte", "running", **fields)  # type: ignore[arg-type]


def _holding_bot(**changes: object) -> BotView:
    """Delta Neutral holding its straddle and strangle, state saved STEADY_FOR ago."""
    fields: dict[str, object] = {
        "state": "straddle:holding/strangle:holding", "state_day": DAY,
        "state_since": NOW - STEADY_FOR, "trades": 2, "open_trades": 2,
        "unresolved_intents": 0,
    }  # fmt: skip
    fields.update(changes)
    return BotView("delta_neutral", "running", **fields)  # type: ignore[arg-type]


def _flat_settled(view: BotView, *, last_day: bool = False) -> bool:
    return is_settled(view, day=DAY, now=NOW, holds_overnight=False, last_day=last_day)


def _holding_settled(view: BotView, *, last_day: bool = True) -> bool:
    return is_settled(view, day=DAY, now=NOW, holds_overnight=True, last_day=last_day)


def test_a_flat_bot_is_settled_once_done_for_the_day_with_nothing_open() -> None:
    assert _flat_settled(_flat_bot())
    assert _flat_settled(_flat_bot(), last_day=True)


@pytest.mark.parametrize(
    "changes",
    [
        {"state": "in_position"},
        {"state_day": DAY - timedelta(days=1)},  # done was yesterday's state
        {"open_trades": 1},
        {"unresolved_intents": 1},
        {"problem": "no journal yet"},
    ],
)
def test_a_flat_bot_is_not_settled_while_busy_or_unknown(changes: dict[str, object]) -> None:
    assert not _flat_settled(_flat_bot(**changes))


def test_a_holding_bot_settles_on_the_last_day_once_steady_with_nothing_in_flight() -> None:
    assert _holding_settled(_holding_bot())
    # Steady since yesterday counts too: nothing moved.
    assert _holding_settled(_holding_bot(state_since=NOW - timedelta(hours=20)))


def test_a_holding_bot_never_settles_before_the_last_day() -> None:
    # Its days run to the close so the scheduled rolls (15:00 ET, roll_time_hour) happen.
    assert not _holding_settled(_holding_bot(state_since=NOW - timedelta(hours=5)),
                                last_day=False)  # fmt: skip


@pytest.mark.parametrize(
    "changes",
    [
        {"state_since": NOW - STEADY_FOR + timedelta(seconds=1)},  # moved moments ago
        {"state_since": None},
        {"unresolved_intents": 1},  # an order in flight
        {"open_trades": 0, "state": "straddle:waiting_entry/strangle:none"},  # holds nothing
        {"problem": "journal not readable yet"},
    ],
)
def test_a_holding_bot_is_not_settled_while_moving_in_flight_flat_or_unknown(
    changes: dict[str, object],
) -> None:
    assert not _holding_settled(_holding_bot(**changes))


def test_the_done_state_does_not_settle_a_holding_bot_that_holds_nothing() -> None:
    # The flat rule is not applied to a bot that holds overnight.
    view = _holding_bot(state="done", open_trades=0)
    assert not _holding_settled(view)
