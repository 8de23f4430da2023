"""The straddle's and the strangle's transition tables."""

from __future__ import annotations

from typing import Any

import pytest

from bots.delta_neutral.states import (
    STRADDLE_TRANSITIONS,
    STRANGLE_TRANSITIONS,
    IllegalTransition,
    StraddleState,
    StrangleState,
    Trigger,
    next_state,
)

D, G, T = StraddleState, StrangleState, Trigger


def walk(table: Any, state: Any, *triggers: Trigger) -> Any:
    for trigger in triggers:
        state = next_state(table, state, trigger)
    return state


def test_straddle_recenter_cycle_returns_to_holding() -> None:
    end = walk(STRADDLE_TRANSITIONS, D.FLAT, T.ORDER_SENT, T.FILLED, T.RECENTER, T.CLOSED, T.FILLED)
    assert end is D.HOLDING


def test_failed_recenter_rebuy_is_tried_again_until_given_up_then_flat() -> None:
    failed = walk(STRADDLE_TRANSITIONS, D.HOLDING, T.RECENTER, T.CLOSED, T.FAILED)
    assert failed is D.RECENTER_OPENING
    assert walk(STRADDLE_TRANSITIONS, failed, T.FAILED, T.GIVE_UP) is D.FLAT


def test_partial_straddle_completes_its_missing_leg() -> None:
    end = walk(STRADDLE_TRANSITIONS, D.FLAT, T.ORDER_SENT, T.PARTIAL_FILL, T.ORDER_SENT, T.FILLED)
    assert end is D.HOLDING


def test_half_filled_strangle_closes_its_naked_short() -> None:
    assert walk(STRANGLE_TRANSITIONS, G.NONE, T.ORDER_SENT, T.PARTIAL_FILL) is G.CLOSING


def test_strangle_roll_cycle_returns_to_holding() -> None:
    end = walk(STRANGLE_TRANSITIONS, G.HOLDING, T.ROLL, T.CLOSED, T.FILLED)
    assert end is G.HOLDING


@pytest.mark.parametrize(
    ("table", "state", "trigger"),
    [
        (STRADDLE_TRANSITIONS, D.FLAT, T.RECENTER),  # nothing to recenter
        (STRADDLE_TRANSITIONS, D.WAITING_ENTRY, T.ORDER_SENT),  # a gate holds
        (STRANGLE_TRANSITIONS, G.NONE, T.ROLL),
        (STRANGLE_TRANSITIONS, G.ROLL_CLOSING, T.FILLED),
    ],
)
def test_illegal_transition_raises(table: Any, state: Any, trigger: Trigger) -> None:
    with pytest.raises(IllegalTransition, match=f"no transition from {state}"):
        next_state(table, state, trigger)
